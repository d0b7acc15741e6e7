/**
 * The orders a stand-in account holds, and how the two list endpoints (list orders, `GET /order/certificate`, and
 * list subaccount orders, `GET /account/subaccount/order`) filter, sort and page them. Pure functions over plain
 * JSON; the server calls them for every list request.
 *
 * @since 0.2.0
 */
import * as OrderData from "./OrderData.js"
import * as Samples from "./Samples.js"

/**
 * The two list endpoints.
 *
 * @since 0.2.0
 * @category models
 */
export type ListEndpoint = "listOrders" | "listSubaccountOrders"

/**
 * The largest `limit` served; a larger one is clamped to it (`page.limit` says so).
 *
 * @since 0.2.0
 * @category constants
 */
export const maxLimit = 1000

/**
 * The day generated data is relative to: issued orders are valid on it and `days_remaining` counts from it (the
 * generator's fixed reference day, so that bodies never depend on the wall clock). Use it as "today" against the
 * stand-in, for example to list the orders expiring within 30 days.
 *
 * @since 0.2.0
 * @category constants
 */
export const referenceDay = "2024-06-01"

/**
 * The filters each list endpoint honours. Any other `filters[...]` is answered 400 `invalid_filter`.
 *
 * @since 0.2.0
 * @category constants
 */
export const filterNames: Readonly<Record<ListEndpoint, ReadonlyArray<string>>> = {
  listOrders: ["id", "status", "date_created", "valid_till", "product_name_id"],
  listSubaccountOrders: ["id", "status", "date_created", "valid_till", "product_name_id", "subaccount"]
}

/**
 * `count` generated order ids: `100001, 100008, 100015, ...` (every 7th, so that ids of different accounts built by
 * tests rarely need to be made up).
 *
 * @since 0.2.0
 * @category constructors
 */
export const generatedIds = (count: number): ReadonlyArray<number> =>
  Array.from({ length: count }, (_, i) => 100_001 + i * 7)

/**
 * The account when none is configured: the documented sample orders and 250 generated ones.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultOrderIds: ReadonlyArray<number> = [...Samples.orderIds, ...generatedIds(250)]

/**
 * `count` ids of generated orders (from `100001`, every 7th, ascending) of which `share` (0 to 1) have duplicates,
 * spread evenly: the rest are the next generated ids without any. For an account with a share of orders with
 * duplicates other than the generated data's (about two in five), e.g. `account: Account.withDuplicates(seed, 3000,
 * 0.1)`; the data of each order stays what it is for its id.
 *
 * @since 0.2.0
 * @category constructors
 */
export const withDuplicates = (seed: number, count: number, share: number): ReadonlyArray<number> => {
  const ids: Array<number> = []
  let next = { true: 100_001, false: 100_001 }
  const take = (wanted: boolean): number => {
    let id = next[`${wanted}`]
    while (hasDuplicates(seed, id) !== wanted) id += 7
    next = { ...next, [`${wanted}`]: id + 7 }
    return id
  }
  for (let k = 0; k < count; k++) ids.push(take(Math.floor((k + 1) * share) > Math.floor(k * share)))
  return ids.sort((a, b) => a - b)
}

/**
 * Whether an order has duplicates, archived ones included: what list orders says as `has_duplicates`.
 *
 * @since 0.2.0
 * @category generators
 */
export const hasDuplicates = (seed: number, orderId: number): boolean => {
  const body = OrderData.render("duplicates", seed, orderId, { showArchived: true, includeValidationStatus: false })
  const certificates = (JSON.parse(body) as { certificates?: ReadonlyArray<unknown> }).certificates
  return certificates !== undefined && certificates.length > 0
}

/** `has_duplicates` in the forms DigiCert sends flags: mostly a boolean, for some ids `0`/`1` or `"0"`/`"1"`. */
const duplicatesFlag = (orderId: number, value: boolean): OrderData.Json => {
  switch (Math.floor(orderId / 7) % 10) {
    case 3:
      return value ? 1 : 0
    case 6:
      return value ? "1" : "0"
    default:
      return value
  }
}

type JsonObject = { readonly [key: string]: OrderData.Json }

/** The order as subaccount order info shows it: the sample verbatim for the sample ids, generated otherwise. */
const fullOrder = (seed: number, orderId: number): JsonObject => {
  const sample = Samples.subaccountOrderFor(orderId)
  return sample !== undefined
    ? JSON.parse(sample) as JsonObject
    : OrderData.subaccountOrder(seed, orderId, { showArchived: false, includeValidationStatus: false })
}

const pick = (source: JsonObject | undefined, keys: ReadonlyArray<string>): Record<string, OrderData.Json> => {
  const out: Record<string, OrderData.Json> = {}
  if (source === undefined) return out
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key]!
  return out
}

/**
 * One order as a list endpoint shows it, consistent with what subaccount order info answers for the same id. List
 * subaccount orders gives the same fields as subaccount order info; list orders the documented subset (certificate
 * basics, organization id and name, product, `product_name_id`, `is_renewed`, ...) and `has_duplicates`, true exactly
 * when the order's duplicates list (archived ones included) is not empty: a boolean, or for about one id in five
 * `0`/`1` or `"0"`/`"1"`.
 *
 * @since 0.2.0
 * @category generators
 */
export const summary = (endpoint: ListEndpoint, seed: number, orderId: number): JsonObject => {
  const full = fullOrder(seed, orderId)
  if (endpoint === "listSubaccountOrders") return full
  return listOrdersEntry(full, orderId, duplicatesFlag(orderId, hasDuplicates(seed, orderId)))
}

/**
 * List orders' entry for an order, from the full order (as subaccount order info gives it) and its `has_duplicates`
 * as the listing writes it: the fields DigiCert documents for list orders, nothing else.
 *
 * @since 0.2.0
 * @category generators
 */
export const listOrdersEntry = (full: JsonObject, orderId: number, hasDuplicates: OrderData.Json): JsonObject => {
  const certificate = full.certificate as JsonObject | undefined
  const organization = full.organization as JsonObject | undefined
  const product = full.product as JsonObject | undefined
  return {
    id: orderId,
    ...(certificate === undefined ? {} : {
      certificate: pick(certificate, [
        "id",
        "common_name",
        "dns_names",
        "valid_till",
        "days_remaining",
        "signature_hash"
      ])
    }),
    status: full.status!,
    is_renewed: false,
    date_created: full.date_created!,
    ...(organization === undefined ? {} : { organization: pick(organization, ["id", "name"]) }),
    ...pick(full, ["validity_years"]),
    disable_renewal_notifications: false,
    ...(product === undefined ? {} : { product, product_name_id: product.name_id! }),
    has_duplicates: hasDuplicates
  }
}

/** The text a filter compares against, per filter name; undefined when the order has no such value. */
const valueOf = (order: JsonObject, name: string): string | undefined => {
  const certificate = order.certificate as JsonObject | undefined
  const value = name === "id"
    ? order.id
    : name === "product_name_id"
    ? (order.product as JsonObject | undefined)?.name_id
    : name === "subaccount"
    ? (order.subaccount as JsonObject | undefined)?.account_id
    : name === "valid_till"
    ? certificate?.valid_till ?? order.order_valid_till
    : order[name]
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined
}

const DAY = /^\d{4}-\d{2}-\d{2}$/
const NUMBER = /^\d{1,16}$/

/** Dates and ids take an operator or a range; statuses and product ids are plain (comma-separated) values. */
const validValue = (name: string, value: string): boolean => {
  if (name === "status" || name === "product_name_id") return /^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$/.test(value)
  const scalar = name === "date_created" || name === "valid_till" ? DAY : NUMBER
  const range = /^(.+)\.\.\.(.+)$/.exec(value)
  if (range !== null) return scalar.test(range[1]!) && scalar.test(range[2]!)
  return scalar.test(value.replace(/^(>=|<=|>|<)/, ""))
}

/** Compares as numbers when both sides are numbers, else by the value's first characters (a timestamp's day). */
const compare = (value: string, bound: string): number => {
  if (/^\d+$/.test(value) && /^\d+$/.test(bound)) return Number(value) - Number(bound)
  const left = value.slice(0, bound.length)
  return left < bound ? -1 : left > bound ? 1 : 0
}

/**
 * Whether a value passes one filter: `V` (equal; for `status`, any of a comma-separated list), `>V`, `>=V`, `<V`,
 * `<=V`, or a range `A...B` (inclusive). Dates compare by day, so `valid_till=<2026-01-01` works on timestamps too.
 *
 * @since 0.2.0
 * @category filtering
 */
export const matches = (value: string | undefined, filter: string): boolean => {
  if (value === undefined) return false
  const range = /^(.+)\.\.\.(.+)$/.exec(filter)
  if (range !== null) return compare(value, range[1]!) >= 0 && compare(value, range[2]!) <= 0
  const op = /^(>=|<=|>|<)(.+)$/.exec(filter)
  if (op !== null) {
    const c = compare(value, op[2]!)
    return op[1] === ">" ? c > 0 : op[1] === ">=" ? c >= 0 : op[1] === "<" ? c < 0 : c <= 0
  }
  return filter.split(",").some((option) => option === value)
}

/**
 * The answer of a list endpoint for a query: a 200 body `{"orders": [...], "page": {"total", "limit", "offset"}}`,
 * or a 400 with DigiCert's error body for a filter, sort, limit or offset it does not take.
 *
 * @since 0.2.0
 * @category rendering
 */
export const page = (
  endpoint: ListEndpoint,
  seed: number,
  orderIds: ReadonlyArray<number>,
  search: URLSearchParams,
  summaries: (orderId: number) => JsonObject = (id) => summary(endpoint, seed, id)
): { readonly status: number; readonly body: string } => {
  const bad = (code: string, message: string) => ({
    status: 400,
    body: JSON.stringify({ errors: [{ code, message }] })
  })
  const filters: Array<readonly [string, string]> = []
  for (const [key, value] of search) {
    const name = /^filters\[(.*)\]$/.exec(key)
    if (name === null) continue
    if (!filterNames[endpoint].includes(name[1]!)) return bad("invalid_filter", `Invalid filter: ${name[1]}`)
    if (!validValue(name[1]!, value)) return bad("invalid_filter", `Invalid value for filter ${name[1]}: ${value}`)
    filters.push([name[1]!, value])
  }
  const sort = search.get("sort") ?? "id"
  if (sort !== "id" && sort !== "-id") return bad("invalid_sort", `Invalid sort: ${sort}`)
  const offsetText = search.get("offset") ?? "0"
  const limitText = search.get("limit") ?? String(maxLimit)
  if (!/^\d{1,15}$/.test(offsetText)) return bad("invalid_offset", "offset must be a non-negative integer")
  if (!/^\d{1,15}$/.test(limitText) || Number(limitText) < 1) {
    return bad("invalid_limit", "limit must be a positive integer")
  }
  const offset = Number(offsetText)
  const limit = Math.min(maxLimit, Number(limitText))
  const ids = [...new Set(orderIds)].sort((a, b) => (sort === "-id" ? b - a : a - b))
  const selected = filters.length === 0
    ? ids.map(summaries)
    : ids.map(summaries).filter((order) => filters.every(([name, value]) => matches(valueOf(order, name), value)))
  return {
    status: 200,
    body: JSON.stringify({
      orders: selected.slice(offset, offset + limit),
      page: { total: selected.length, limit, offset }
    })
  }
}

/**
 * A list body with a `status` no documentation lists on every order.
 *
 * @since 0.2.0
 * @category rendering
 */
export const withUnknownStatus = (body: string, statusValue: string): string => {
  const value = JSON.parse(body) as { orders?: Array<Record<string, unknown>> }
  if (Array.isArray(value.orders)) value.orders = value.orders.map((o) => ({ ...o, status: statusValue }))
  return JSON.stringify(value)
}
