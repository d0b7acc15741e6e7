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
 * The certificate of an order. Only returned for orders placed by immediate subaccounts; thumbprint, serial number
 * and validity only once issued.
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
  signature_hash: DigiCertSchema.optional(Schema.String)
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
 * A subaccount's order. `certificate` and `organization` are absent for orders of sub-subaccounts; `date_issued`
 * and the order validity only for issued orders; `is_multi_year_plan` only for Multi-year Plans. Unknown fields are
 * ignored.
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
  validity_years: DigiCertSchema.optional(Schema.Int)
}) {}
