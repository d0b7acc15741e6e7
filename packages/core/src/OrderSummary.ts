/**
 * Orders as the list endpoints return them: list orders (`GET /order/certificate`) and list subaccount orders
 * (`GET /account/subaccount/order`), one page at a time.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import * as DigiCertSchema from "./DigiCertSchema.js"
import { OrderPrice, OrderStatus, Product, Subaccount } from "./SubaccountOrder.js"

/**
 * The certificate of a listed order. Every field is optional: list subaccount orders gives it only for orders of
 * immediate subaccounts, and thumbprint, serial number and validity only once issued.
 *
 * @since 0.2.0
 * @category models
 */
export class OrderSummaryCertificate extends Schema.Class<OrderSummaryCertificate>("OrderSummaryCertificate")({
  id: DigiCertSchema.optional(Schema.Int),
  thumbprint: DigiCertSchema.optional(Schema.String),
  serial_number: DigiCertSchema.optional(Schema.String),
  common_name: DigiCertSchema.optional(Schema.String),
  dns_names: DigiCertSchema.optional(Schema.Array(Schema.String)),
  valid_till: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  days_remaining: DigiCertSchema.optional(Schema.Int),
  organization_units: DigiCertSchema.optional(Schema.Array(Schema.String)),
  signature_hash: DigiCertSchema.optional(Schema.String)
}) {}

/**
 * The organization of a listed order.
 *
 * @since 0.2.0
 * @category models
 */
export class OrderSummaryOrganization extends Schema.Class<OrderSummaryOrganization>("OrderSummaryOrganization")({
  id: Schema.Int,
  name: DigiCertSchema.optional(Schema.String)
}) {}

/**
 * Whether a listed order has duplicate certificates: documented as a boolean, read as `0`/`1` and `"0"`/`"1"` too, as
 * DigiCert sends its other flags. Encodes to a boolean.
 *
 * @since 0.2.0
 * @category models
 */
export const HasDuplicates: Schema.Schema<boolean, boolean | "0" | "1" | 0 | 1> = Schema.Union(
  Schema.Boolean,
  DigiCertSchema.Flag
).annotations({ identifier: "HasDuplicates" })

/**
 * One order of a list page. Only `id` and `status` are required; the rest is optional, since the two endpoints
 * document different fields and leave some out by status. Unknown fields are ignored and unknown statuses accepted.
 * `has_duplicates` (list orders only) is absent when the endpoint does not say: unknown, not false.
 *
 * @since 0.2.0
 * @category models
 */
export class OrderSummary extends Schema.Class<OrderSummary>("OrderSummary")({
  id: Schema.Int.pipe(Schema.positive(), Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER)),
  status: OrderStatus,
  certificate: DigiCertSchema.optional(OrderSummaryCertificate),
  organization: DigiCertSchema.optional(OrderSummaryOrganization),
  subaccount: DigiCertSchema.optional(Subaccount),
  product: DigiCertSchema.optional(Product),
  order_price: DigiCertSchema.optional(OrderPrice),
  number_of_sans: DigiCertSchema.optional(Schema.Int),
  is_renewed: DigiCertSchema.optional(Schema.Boolean),
  date_created: DigiCertSchema.optional(DigiCertSchema.Timestamp),
  validity_years: DigiCertSchema.optional(Schema.Int),
  product_name_id: DigiCertSchema.optional(Schema.String),
  has_duplicates: DigiCertSchema.optional(HasDuplicates)
}) {}

/**
 * DigiCert's paging block: how many orders match in all, and the `limit` and `offset` the server applied.
 *
 * @since 0.2.0
 * @category models
 */
export const PageInfo = Schema.Struct({
  total: Schema.Int.pipe(Schema.nonNegative()),
  limit: DigiCertSchema.optional(Schema.Int.pipe(Schema.nonNegative())),
  offset: DigiCertSchema.optional(Schema.Int.pipe(Schema.nonNegative()))
})

/**
 * A list response body: `{"orders": [...], "page": {"total", "limit", "offset"}}`.
 *
 * @since 0.2.0
 * @category models
 */
export const OrderList = Schema.Struct({
  orders: Schema.Array(OrderSummary),
  page: PageInfo
})

/**
 * One page of a listing as the client streams it, for progress: the orders it added (ascending id, none listed on an
 * earlier page), where it started, the server's `page.total` when it was fetched, and the running counts.
 *
 * @since 0.2.0
 * @category models
 */
export interface Page {
  /** Orders first seen on this page, ascending by id. */
  readonly orders: ReadonlyArray<OrderSummary>
  /** 0 for the first page. */
  readonly index: number
  /** The `offset` this page was asked for. */
  readonly offset: number
  /** The `limit` this page was asked for. */
  readonly limit: number
  /** `page.total` as the server gave it with this page: all orders that match, listed or not. */
  readonly total: number
  /** Orders listed so far, this page included. */
  readonly listed: number
  /** True on the last page: the listing ends with it. */
  readonly last: boolean
}
