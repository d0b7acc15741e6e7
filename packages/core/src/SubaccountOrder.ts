/**
 * An order placed by a subaccount or sub-subaccount, as returned by "subaccount order info"
 * (`GET /account/subaccount/order/{order_id}`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as DigiCertSchema from "./DigiCertSchema.js"

/**
 * Order statuses from DigiCert's glossary. Other values decode as plain strings.
 *
 * @since 0.1.0
 * @category models
 */
export const OrderStatus = DigiCertSchema.openEnum(
  "OrderStatus",
  "issued",
  "pending",
  "processing",
  "reissue_pending",
  "needs_approval",
  "rejected",
  "canceled",
  "revoked",
  "expired",
  "waiting_pickup"
)

/**
 * The CA certificate that issued an order's primary certificate: its id (DigiCert's text, e.g. `"A937018B9FAF6CC2"`)
 * and name (e.g. `"DigiCert Global G2 TLS RSA SHA256 2020 CA1"`).
 *
 * @since 0.2.0
 * @category models
 */
export class CaCert extends Schema.Class<CaCert>("CaCert")({
  id: DigiCertSchema.optional(DigiCertSchema.Identifier),
  name: DigiCertSchema.optional(Schema.String)
}) {}

/**
 * The certificate of an order. Only returned for orders placed by immediate subaccounts; thumbprint, serial number
 * and validity only once issued; `ca_cert` is the issuing CA.
 *
 * @since 0.1.0
 * @category models
 */
export class OrderCertificate extends Schema.Class<OrderCertificate>("OrderCertificate")({
  id: Schema.Int,
  thumbprint: DigiCertSchema.optional(Schema.String),
  serial_number: DigiCertSchema.optional(Schema.String),
  common_name: Schema.String,
  dns_names: DigiCertSchema.optional(Schema.Array(Schema.String)),
  valid_from: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  valid_till: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  days_remaining: DigiCertSchema.optional(Schema.Int),
  organization_units: DigiCertSchema.optional(Schema.Array(Schema.String)),
  signature_hash: DigiCertSchema.optional(Schema.String),
  ca_cert: DigiCertSchema.optional(CaCert)
}) {}

/**
 * The organization of an order. Only returned for orders placed by immediate subaccounts.
 *
 * @since 0.1.0
 * @category models
 */
export class Organization extends Schema.Class<Organization>("Organization")({
  id: Schema.Int,
  name: Schema.String,
  assumed_name: DigiCertSchema.optional(Schema.String),
  display_name: DigiCertSchema.optional(Schema.String)
}) {}

/**
 * The subaccount that placed the order.
 *
 * @since 0.1.0
 * @category models
 */
export class Subaccount extends Schema.Class<Subaccount>("Subaccount")({
  account_id: Schema.Int,
  account_type: Schema.String,
  organization_name: DigiCertSchema.optional(Schema.String)
}) {}

/**
 * The ordered product.
 *
 * @since 0.1.0
 * @category models
 */
export class Product extends Schema.Class<Product>("Product")({
  name_id: Schema.String,
  name: Schema.String,
  type: Schema.String
}) {}

/**
 * What the order cost.
 *
 * @since 0.1.0
 * @category models
 */
export class OrderPrice extends Schema.Class<OrderPrice>("OrderPrice")({
  // Amounts in cents in generated values: JSON has no -0, NaN or Infinity, so they could not travel.
  cost: Schema.Finite.annotations({
    arbitrary: () => (fc) => fc.integer({ min: -100_000_000, max: 100_000_000 }).map((cents) => cents / 100)
  }),
  currency: Schema.String
}) {}

/**
 * The `subaccount_order_validations` object DigiCert adds when asked with `include_validation_status=true`: "details
 * about the status of domain and organization validations for the order". DigiCert's page documents it as an object
 * and does not list what is inside, so it is kept as the API's JSON object, exactly as sent (the parsed object
 * itself, not a copy: a member named `__proto__` stays plain data), rather than given an invented structure.
 *
 * @since 0.2.0
 * @category models
 */
export const SubaccountOrderValidations = Schema.declare(
  (input: unknown): input is { readonly [key: string]: unknown } =>
    typeof input === "object" && input !== null && !Array.isArray(input),
  {
    identifier: "SubaccountOrderValidations",
    description: "a JSON object",
    // what a JSON body can carry: no -0, NaN, Infinity or undefined
    arbitrary: () => (fc) =>
      fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((value) =>
        JSON.parse(JSON.stringify(value))
      )
  }
)

/**
 * The type of {@link SubaccountOrderValidations}: a JSON object.
 *
 * @since 0.2.0
 * @category models
 */
export type SubaccountOrderValidations = typeof SubaccountOrderValidations.Type

/**
 * A subaccount's order. `certificate` and `organization` are absent for orders of sub-subaccounts; `date_issued`
 * and the order validity only for issued orders; `is_multi_year_plan` only for Multi-year Plans;
 * `subaccount_order_validations` only when the order was asked for with `include_validation_status=true`
 * (`getSubaccountOrder(id, { includeValidationStatus: true })`). Unknown fields are ignored.
 *
 * @since 0.1.0
 * @category models
 */
export class SubaccountOrder extends Schema.Class<SubaccountOrder>("SubaccountOrder")({
  id: Schema.Int,
  certificate: DigiCertSchema.optional(OrderCertificate),
  organization: DigiCertSchema.optional(Organization),
  subaccount: DigiCertSchema.optional(Subaccount),
  product: DigiCertSchema.optional(Product),
  order_price: DigiCertSchema.optional(OrderPrice),
  status: OrderStatus,
  number_of_sans: DigiCertSchema.optional(Schema.Int),
  date_created: DigiCertSchema.Timestamp,
  date_issued: DigiCertSchema.optional(DigiCertSchema.Timestamp),
  is_multi_year_plan: DigiCertSchema.optional(DigiCertSchema.Flag),
  order_valid_from: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  order_valid_till: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  validity_years: DigiCertSchema.optional(Schema.Int),
  subaccount_order_validations: DigiCertSchema.optional(SubaccountOrderValidations)
}) {}
