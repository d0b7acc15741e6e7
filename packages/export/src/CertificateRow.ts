/**
 * One row of the export: a certificate of an order (the order's own, a duplicate or a reissue) with the order's
 * columns repeated, in the column order of the contract.
 *
 * @since 0.1.0
 */
import type { DuplicateCertificate, ReissueCertificate, SubaccountOrder } from "@certcentral/core"
import { DigiCertSchema } from "@certcentral/core"
import type * as DateTime from "effect/DateTime"
import * as Schema from "effect/Schema"

/**
 * Where a row's certificate comes from: the order itself, a duplicate or a reissue.
 *
 * @since 0.1.0
 * @category models
 */
export const Source = Schema.Literal("order", "duplicate", "reissue")

/**
 * The type of a row's source: `"order"`, `"duplicate"` or `"reissue"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Source = typeof Source.Type

const Text = Schema.NullOr(Schema.String)
const Num = Schema.NullOr(Schema.Number)
const Bool = Schema.NullOr(Schema.Boolean)
const List = Schema.Array(Schema.String)

/**
 * The row. Missing values are `null`; lists are arrays (`[]` when the API gives none); dates are DigiCert's text.
 *
 * @since 0.1.0
 * @category models
 */
export const CertificateRow = Schema.Struct({
  order_id: Schema.Number,
  source: Source,
  certificate_id: Num,
  common_name: Text,
  dns_names: List,
  status: Text,
  serial_number: Text,
  thumbprint: Text,
  valid_from: Text,
  valid_till: Text,
  days_remaining: Num,
  date_created: Text,
  date_issued: Text,
  signature_hash: Text,
  key_size: Num,
  server_platform: Text,
  ca_cert_id: Text,
  requester_user_id: Num,
  requester_name: Text,
  requester_email: Text,
  receipt_id: Text,
  purchased_dns_names: Num,
  purchased_wildcard_names: Num,
  archived: Bool,
  order_status: Text,
  order_date_created: Text,
  order_date_issued: Text,
  order_valid_from: Text,
  order_valid_till: Text,
  validity_years: Num,
  is_multi_year_plan: Bool,
  product_name_id: Text,
  product_name: Text,
  product_type: Text,
  order_cost: Num,
  order_currency: Text,
  organization_id: Num,
  organization_name: Text,
  organization_display_name: Text,
  organization_units: List,
  subaccount_id: Num,
  subaccount_type: Text,
  subaccount_organization_name: Text,
  ca_cert_name: Text
}).annotations({ identifier: "CertificateRow" })

/**
 * The type of a row, as the Schema decodes it.
 *
 * @since 0.1.0
 * @category models
 */
export type CertificateRow = typeof CertificateRow.Type

/**
 * A column name.
 *
 * @since 0.1.0
 * @category models
 */
export type Column = keyof CertificateRow

/**
 * The columns, in the contract's order (CSV header order, NDJSON key order): the row Schema's fields, in the order
 * they are declared, so that a column is added in one place.
 *
 * @since 0.1.0
 * @category constants
 */
export const columns: ReadonlyArray<Column> = Object.keys(CertificateRow.fields) as Array<Column>

/**
 * What was fetched for one order: each part is `undefined` when its endpoint was not asked for (`--include`).
 *
 * @since 0.1.0
 * @category models
 */
export interface OrderParts {
  readonly order?: SubaccountOrder.SubaccountOrder | undefined
  readonly duplicates?: ReadonlyArray<DuplicateCertificate.DuplicateCertificate> | undefined
  readonly reissues?: ReadonlyArray<ReissueCertificate.ReissueCertificate> | undefined
}

const encodeDate = Schema.encodeSync(DigiCertSchema.CalendarDate)
const encodeTimestamp = Schema.encodeSync(DigiCertSchema.Timestamp)

const date = (value: DateTime.Utc | undefined): string | null => value === undefined ? null : encodeDate(value)
const timestamp = (value: DateTime.Utc | undefined): string | null =>
  value === undefined ? null : encodeTimestamp(value)
const orNull = <A>(value: A | undefined): A | null => value === undefined ? null : value

const personName = (first: string | undefined, last: string | undefined): string | null => {
  const name = `${first ?? ""} ${last ?? ""}`.trim()
  return name === "" ? null : name
}

type OrderColumns = Pick<
  CertificateRow,
  | "order_status"
  | "order_date_created"
  | "order_date_issued"
  | "order_valid_from"
  | "order_valid_till"
  | "validity_years"
  | "is_multi_year_plan"
  | "product_name_id"
  | "product_name"
  | "product_type"
  | "order_cost"
  | "order_currency"
  | "organization_id"
  | "organization_name"
  | "organization_display_name"
  | "organization_units"
  | "subaccount_id"
  | "subaccount_type"
  | "subaccount_organization_name"
>

type CertificateColumns = Omit<CertificateRow, keyof OrderColumns | "order_id" | "source">

const emptyCertificate: CertificateColumns = {
  certificate_id: null,
  common_name: null,
  dns_names: [],
  status: null,
  serial_number: null,
  thumbprint: null,
  valid_from: null,
  valid_till: null,
  days_remaining: null,
  date_created: null,
  date_issued: null,
  signature_hash: null,
  key_size: null,
  server_platform: null,
  ca_cert_id: null,
  requester_user_id: null,
  requester_name: null,
  requester_email: null,
  receipt_id: null,
  purchased_dns_names: null,
  purchased_wildcard_names: null,
  archived: null,
  ca_cert_name: null
}

const orderColumns = (order: SubaccountOrder.SubaccountOrder | undefined): OrderColumns => ({
  order_status: orNull(order?.status),
  order_date_created: timestamp(order?.date_created),
  order_date_issued: timestamp(order?.date_issued),
  order_valid_from: date(order?.order_valid_from),
  order_valid_till: date(order?.order_valid_till),
  validity_years: orNull(order?.validity_years),
  is_multi_year_plan: orNull(order?.is_multi_year_plan),
  product_name_id: orNull(order?.product?.name_id),
  product_name: orNull(order?.product?.name),
  product_type: orNull(order?.product?.type),
  order_cost: orNull(order?.order_price?.cost),
  order_currency: orNull(order?.order_price?.currency),
  organization_id: orNull(order?.organization?.id),
  organization_name: orNull(order?.organization?.name),
  organization_display_name: orNull(order?.organization?.display_name),
  organization_units: order?.certificate?.organization_units ?? [],
  subaccount_id: orNull(order?.subaccount?.account_id),
  subaccount_type: orNull(order?.subaccount?.account_type),
  subaccount_organization_name: orNull(order?.subaccount?.organization_name)
})

// The order endpoint documents `date_issued` as "date when the certificate was issued", so the order row carries
// it in `date_issued` too (when the order has a certificate); reissues give their own, duplicates none. The issuing
// CA (`ca_cert_id`, `ca_cert_name`) comes from `certificate.ca_cert`.
const orderCertificate = (order: SubaccountOrder.SubaccountOrder): CertificateColumns => {
  const cert = order.certificate
  if (cert === undefined) return emptyCertificate
  return {
    ...emptyCertificate,
    certificate_id: cert.id,
    common_name: cert.common_name,
    dns_names: cert.dns_names ?? [],
    serial_number: orNull(cert.serial_number),
    thumbprint: orNull(cert.thumbprint),
    valid_from: date(cert.valid_from),
    valid_till: date(cert.valid_till),
    days_remaining: orNull(cert.days_remaining),
    date_issued: timestamp(order.date_issued),
    signature_hash: orNull(cert.signature_hash),
    ca_cert_id: orNull(cert.ca_cert?.id),
    ca_cert_name: orNull(cert.ca_cert?.name)
  }
}

// What the two list endpoints share: both list certificates with the same fields, each with a few of its own.
const listedCertificate = (
  cert: DuplicateCertificate.DuplicateCertificate | ReissueCertificate.ReissueCertificate
): CertificateColumns => ({
  ...emptyCertificate,
  certificate_id: cert.id,
  common_name: cert.common_name,
  dns_names: cert.dns_names ?? [],
  status: cert.status,
  serial_number: orNull(cert.serial_number),
  thumbprint: orNull(cert.thumbprint),
  valid_from: date(cert.valid_from),
  valid_till: date(cert.valid_till),
  days_remaining: orNull(cert.days_remaining),
  date_created: timestamp(cert.date_created),
  signature_hash: orNull(cert.signature_hash),
  key_size: orNull(cert.key_size),
  ca_cert_id: orNull(cert.ca_cert_id),
  requester_user_id: orNull(cert.user_id),
  requester_name: personName(cert.firstname, cert.lastname),
  archived: cert.archived === undefined ? null : DigiCertSchema.isSet(cert.archived)
})

const duplicateCertificate = (cert: DuplicateCertificate.DuplicateCertificate): CertificateColumns => ({
  ...listedCertificate(cert),
  server_platform: orNull(cert.server_platform?.name)
})

const reissueCertificate = (cert: ReissueCertificate.ReissueCertificate): CertificateColumns => ({
  ...listedCertificate(cert),
  requester_email: orNull(cert.email),
  date_issued: timestamp(cert.date_issued),
  receipt_id: orNull(cert.receipt_id),
  purchased_dns_names: orNull(cert.purchased_dns_names),
  purchased_wildcard_names: orNull(cert.purchased_wildcard_names)
})

const assemble = (
  orderId: number,
  source: Source,
  certificate: CertificateColumns,
  order: OrderColumns
): CertificateRow => {
  const merged: Record<string, unknown> = { order_id: orderId, source, ...certificate, ...order }
  // rebuild in column order so that NDJSON keys follow the contract
  const row: Record<string, unknown> = {}
  for (const column of columns) row[column] = merged[column]
  return row as CertificateRow
}

/**
 * The rows of one order and how many list entries were folded into rows already there.
 *
 * @since 0.2.0
 * @category models
 */
export interface OrderRows {
  readonly rows: ReadonlyArray<CertificateRow>
  /** Duplicates and reissues entries that got no row: an echo of the order's own certificate or a repeated id. */
  readonly folded: number
}

/**
 * The rows of one order, one per certificate: the order's own certificate (when the order was fetched), then each
 * duplicate, then each reissue, with the order's columns on every row (empty when the order was not fetched). An
 * entry of the duplicates or reissues list whose `id` is the order's own certificate id, or repeats an earlier entry
 * of the same order (in either list), gets no row of its own and is counted in `folded` (DigiCert's lists sometimes
 * echo the primary certificate or repeat one). `orderId` is the id that was asked for.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromOrderCounted = (orderId: number, parts: OrderParts): OrderRows => {
  const order = orderColumns(parts.order)
  const rows: Array<CertificateRow> = []
  const own = parts.order?.certificate?.id
  // one row per certificate of the order: its own certificate, then every id listed before, in either list
  const seen = new Set<number>(own === undefined ? [] : [own])
  let folded = 0
  if (parts.order !== undefined) rows.push(assemble(orderId, "order", orderCertificate(parts.order), order))
  const fresh = (id: number): boolean => {
    if (seen.has(id)) {
      folded++
      return false
    }
    seen.add(id)
    return true
  }
  for (const cert of parts.duplicates ?? []) {
    if (fresh(cert.id)) rows.push(assemble(orderId, "duplicate", duplicateCertificate(cert), order))
  }
  for (const cert of parts.reissues ?? []) {
    if (fresh(cert.id)) rows.push(assemble(orderId, "reissue", reissueCertificate(cert), order))
  }
  return { rows, folded }
}

/**
 * The rows of one order, as {@link fromOrderCounted} builds them, without the count of folded entries.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromOrder = (orderId: number, parts: OrderParts): ReadonlyArray<CertificateRow> =>
  fromOrderCounted(orderId, parts).rows
