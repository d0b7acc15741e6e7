/**
 * An account that changes over time, for rehearsing `--refresh`: generated orders (see {@link OrderData}) plus events
 * at given moments (an order revoked, reissued, given a duplicate, a reissue rejected, placed, gone, failing for a
 * while). Every answer is a pure function of the history and the moment (epoch milliseconds, Effect's `Clock` in
 * tests), so the per-order endpoints, the two listings and the status change list always agree with each other.
 *
 * @since 0.2.0
 */
import * as Account from "./Account.js"
import * as OrderData from "./OrderData.js"

/**
 * Something that happens to an order at `at` (epoch ms):
 *
 * - `Revoked`: the order's status becomes `revoked` (a status change).
 * - `Reissued`: an issued reissue is added and becomes the order's certificate (a status change: `issued` with the new
 *   certificate id; the listing's `certificate.id` changes).
 * - `Duplicated`: an issued duplicate is added; no status and, on an order that already has duplicates, no listing field
 *   changes.
 * - `ReissueRejected`: a rejected reissue is added; the order is `reissue_pending` for `pendingMillis` (default one
 *   hour), then back to its status: only the status change list and the reissues list show it.
 * - `Placed`: the order exists from then on (a status change: its status).
 * - `Removed`: the order is gone from the listings (and its endpoints answer 404).
 * - `Failing`: the order's endpoints answer 403 `access_denied|missing_permission` from `at` until `until` (forever
 *   without one).
 *
 * @since 0.2.0
 * @category models
 */
export type Event =
  | { readonly _tag: "Revoked"; readonly orderId: number; readonly at: number }
  | { readonly _tag: "Reissued"; readonly orderId: number; readonly at: number }
  | { readonly _tag: "Duplicated"; readonly orderId: number; readonly at: number }
  | {
    readonly _tag: "ReissueRejected"
    readonly orderId: number
    readonly at: number
    readonly pendingMillis?: number | undefined
  }
  | { readonly _tag: "Placed"; readonly orderId: number; readonly at: number }
  | { readonly _tag: "Removed"; readonly orderId: number; readonly at: number }
  | { readonly _tag: "Failing"; readonly orderId: number; readonly at: number; readonly until?: number | undefined }

/**
 * The orders at the start (any moment before their events) and what happens to them.
 *
 * @since 0.2.0
 * @category models
 */
export interface History {
  readonly seed: number
  /** Orders that exist from the beginning; `Placed` orders are added by their event. */
  readonly orderIds: ReadonlyArray<number>
  readonly events: ReadonlyArray<Event>
}

/**
 * A history.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (seed: number, orderIds: ReadonlyArray<number>, events: ReadonlyArray<Event> = []): History => ({
  seed,
  orderIds,
  events: [...events].sort((a, b) => a.at - b.at)
})

type Json = OrderData.Json
type JsonObject = { [key: string]: Json }

const HOUR = 3_600_000
const isoSeconds = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + "+00:00"

const eventsOf = (history: History, orderId: number, moment: number): ReadonlyArray<Event> =>
  history.events.filter((e) => e.orderId === orderId && e.at <= moment)

/**
 * The orders that exist at `moment`, ascending.
 *
 * @since 0.2.0
 * @category generators
 */
export const orderIdsAt = (history: History, moment: number): ReadonlyArray<number> => {
  const placed = new Set(history.events.filter((e) => e._tag === "Placed").map((e) => e.orderId))
  const ids = new Set(history.orderIds.filter((id) => !placed.has(id)))
  for (const e of history.events) {
    if (e.at > moment) break
    if (e._tag === "Placed") ids.add(e.orderId)
    if (e._tag === "Removed") ids.delete(e.orderId)
  }
  return [...ids].sort((a, b) => a - b)
}

/**
 * Whether the order exists at `moment` (one order's events only: cheap per request).
 *
 * @since 0.2.0
 * @category generators
 */
export const existsAt = (history: History, orderId: number, moment: number): boolean => {
  let exists: boolean | undefined = undefined
  for (const e of history.events) {
    if (e.orderId !== orderId) continue
    if (e._tag === "Placed") exists = exists ?? false
    if (e.at > moment) continue
    if (e._tag === "Placed") exists = true
    if (e._tag === "Removed") exists = false
  }
  return exists ?? history.orderIds.includes(orderId)
}

/**
 * Whether the order's endpoints answer at `moment` with its data (it exists and is not failing).
 *
 * @since 0.2.0
 * @category generators
 */
export const failingAt = (history: History, orderId: number, moment: number): boolean =>
  history.events.some((e) =>
    e._tag === "Failing" && e.orderId === orderId && e.at <= moment && (e.until === undefined || moment < e.until)
  )

const base = (history: History, orderId: number): JsonObject =>
  OrderData.subaccountOrder(history.seed, orderId, { showArchived: false, includeValidationStatus: false })

const baseCertificateId = (history: History, orderId: number): number => {
  const certificate = base(history, orderId).certificate as JsonObject | undefined
  return typeof certificate?.id === "number" ? certificate.id : 100_000 + (orderId % 900_000_000) * 7
}

/** The certificates events added, in event order: ids past the generator's (duplicates +300, reissues +500). */
const added = (history: History, orderId: number, moment: number) => {
  const order = base(history, orderId)
  const certificate = order.certificate as JsonObject | undefined
  const first = baseCertificateId(history, orderId)
  const duplicates: Array<JsonObject> = []
  const reissues: Array<JsonObject> = []
  for (const e of eventsOf(history, orderId, moment)) {
    const common = {
      common_name: certificate?.common_name ?? `order${orderId}.example.com`,
      dns_names: certificate?.dns_names ?? [`order${orderId}.example.com`],
      date_created: isoSeconds(e.at)
    }
    if (e._tag === "Duplicated") {
      duplicates.push({ id: first + 300 + duplicates.length, ...common, status: "issued", archived: "0" })
    } else if (e._tag === "Reissued" || e._tag === "ReissueRejected") {
      reissues.push({
        id: first + 500 + reissues.length,
        ...common,
        status: e._tag === "Reissued" ? "issued" : "rejected",
        ...(e._tag === "Reissued" ? { date_issued: isoSeconds(e.at) } : {})
      })
    }
  }
  return { duplicates, reissues }
}

/** The order's status and certificate id at `moment`, and every status change up to it (time, status, cert id). */
const statusTimeline = (history: History, orderId: number, moment: number) => {
  const order = base(history, orderId)
  const original = order.status as string
  let status = original
  let certificateId = baseCertificateId(history, orderId)
  let reissues = 0
  const changes: Array<{ readonly at: number; readonly status: string; readonly certificateId: number }> = []
  const pending: Array<number> = []
  const note = (at: number, next: string) => {
    status = next
    changes.push({ at, status, certificateId })
  }
  for (const e of eventsOf(history, orderId, moment)) {
    // a rejected reissue's pending time ends before any later event of the same order
    while (pending.length > 0 && pending[0]! <= e.at) {
      note(pending.shift()!, status === "reissue_pending" ? original : status)
    }
    if (e._tag === "Revoked") note(e.at, "revoked")
    else if (e._tag === "Placed") note(e.at, status)
    else if (e._tag === "Reissued") {
      certificateId = baseCertificateId(history, orderId) + 500 + reissues++
      note(e.at, "issued")
    } else if (e._tag === "ReissueRejected") {
      reissues++
      note(e.at, "reissue_pending")
      pending.push(e.at + (e.pendingMillis ?? HOUR))
    }
  }
  while (pending.length > 0 && pending[0]! <= moment) {
    note(pending.shift()!, status === "reissue_pending" ? original : status)
  }
  return { status, certificateId, changes }
}

/**
 * Subaccount order info at `moment`: the generated order with the events' status and certificate id.
 *
 * @since 0.2.0
 * @category generators
 */
export const subaccountOrderAt = (history: History, orderId: number, moment: number): JsonObject => {
  const order = base(history, orderId)
  const { certificateId, status } = statusTimeline(history, orderId, moment)
  const certificate = order.certificate as JsonObject | undefined
  return {
    ...order,
    ...(certificate === undefined ? {} : { certificate: { ...certificate, id: certificateId } }),
    status
  }
}

const isArchived = (c: JsonObject): boolean => c.archived === "1" || c.archived === 1

/**
 * List duplicates at `moment`: the generated list and the duplicates events added.
 *
 * @since 0.2.0
 * @category generators
 */
export const duplicatesAt = (
  history: History,
  orderId: number,
  moment: number,
  showArchived = false
): ReadonlyArray<JsonObject> => {
  const all = [...OrderData.allDuplicates(history.seed, orderId), ...added(history, orderId, moment).duplicates]
  return showArchived ? all : all.filter((c) => !isArchived(c))
}

/**
 * List reissues at `moment`: the generated list and the reissues events added (issued or rejected).
 *
 * @since 0.2.0
 * @category generators
 */
export const reissuesAt = (
  history: History,
  orderId: number,
  moment: number,
  showArchived = false
): ReadonlyArray<JsonObject> => {
  const all = [...OrderData.allReissues(history.seed, orderId), ...added(history, orderId, moment).reissues]
  return showArchived ? all : all.filter((c) => !isArchived(c))
}

/**
 * One order as a list endpoint shows it at `moment` (as `Account.summary` shapes it), with `has_duplicates`.
 *
 * @since 0.2.0
 * @category generators
 */
export const summaryAt = (
  endpoint: Account.ListEndpoint,
  history: History,
  orderId: number,
  moment: number
): JsonObject => {
  const full = subaccountOrderAt(history, orderId, moment)
  const hasDuplicates = duplicatesAt(history, orderId, moment, true).length > 0
  if (endpoint === "listSubaccountOrders") return { ...full, has_duplicates: hasDuplicates }
  return Account.listOrdersEntry(full, orderId, hasDuplicates)
}

/**
 * The status changes in `(start, end]`, one per order: its last status in the frame and its certificate id then. With
 * `omitLater` (the date filter form), orders whose status changed again after `end` (up to `now`) are left out, as
 * DigiCert documents.
 *
 * @since 0.2.0
 * @category generators
 */
export const statusChanges = (
  history: History,
  frame: { readonly start: number; readonly end: number; readonly now: number; readonly omitLater: boolean }
): ReadonlyArray<{ readonly order_id: number; readonly certificate_id: number; readonly status: string }> => {
  const ids = new Set([...history.orderIds, ...history.events.map((e) => e.orderId)])
  const out: Array<{ order_id: number; certificate_id: number; status: string }> = []
  for (const id of [...ids].sort((a, b) => a - b)) {
    const { changes } = statusTimeline(history, id, frame.now)
    const inFrame = changes.filter((c) => c.at > frame.start && c.at <= frame.end)
    if (inFrame.length === 0) continue
    if (frame.omitLater && changes.some((c) => c.at > frame.end)) continue
    const last = inFrame[inFrame.length - 1]!
    out.push({ order_id: id, certificate_id: last.certificateId, status: last.status })
  }
  return out
}

const MAX_FRAME = 7 * 86_400_000
const MDT = -6 * HOUR
const MOMENT = /^(\d{4})-(\d{2})-(\d{2})(?:[ +](\d{2}):(\d{2}):(\d{2}))?$/

/** A date filter bound in MDT; a bare day starts at 00:00:00 (or, as an end, lasts until 23:59:59). */
const parseMdt = (text: string, asEnd: boolean): number | undefined => {
  const m = MOMENT.exec(text)
  if (m === null) return undefined
  const [h, min, s] = m[4] === undefined
    ? (asEnd ? [23, 59, 59] : [0, 0, 0])
    : [Number(m[4]), Number(m[5]), Number(m[6])]
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), h, min, s) - MDT
}

/** A response: status and body text. */
type Answer = { readonly status: number; readonly body: string }

const bad = (status: number, code: string, message: string): Answer => ({
  status,
  body: JSON.stringify({ errors: [{ code, message }] })
})

/**
 * The answer of `GET /order/certificate/status-changes` at `now` for a query: `minutes`/`seconds` (up to now), or
 * `filters[status_last_updated]=START...END` (MDT); 400 `time_frame_too_long` past 7 days, 400 without a frame.
 * Paged with `offset`/`limit` when asked (a `page` block then).
 *
 * @since 0.2.0
 * @category rendering
 */
export const statusChangesAnswer = (history: History, search: URLSearchParams, now: number): Answer => {
  const filter = search.get("filters[status_last_updated]")
  const minutes = search.get("minutes")
  const seconds = search.get("seconds")
  let frame: { start: number; end: number; omitLater: boolean }
  if (filter !== null) {
    const [from, to, ...rest] = filter.split("...")
    const start = from === undefined ? undefined : parseMdt(from, false)
    const end = to === undefined ? undefined : parseMdt(to, true)
    if (start === undefined || end === undefined || rest.length > 0 || end < start) {
      return bad(400, "invalid_filter", `Invalid value for filter status_last_updated: ${filter}`)
    }
    frame = { start: start - 1, end, omitLater: true }
  } else if (minutes !== null || seconds !== null) {
    if ((minutes !== null && !/^\d{1,9}$/.test(minutes)) || (seconds !== null && !/^\d{1,12}$/.test(seconds))) {
      return bad(400, "invalid_input", "minutes and seconds are whole numbers")
    }
    const span = Number(minutes ?? 0) * 60_000 + Number(seconds ?? 0) * 1000
    frame = { start: now - span, end: now, omitLater: false }
  } else {
    return bad(400, "missing_param", "One of minutes, seconds or filters[status_last_updated] is required")
  }
  if (frame.end - frame.start > MAX_FRAME + 1) {
    return bad(400, "time_frame_too_long", "The time frame may not be longer than 7 days")
  }
  const orders = statusChanges(history, { ...frame, now })
  const offsetText = search.get("offset")
  const limitText = search.get("limit")
  if (offsetText === null && limitText === null) return { status: 200, body: JSON.stringify({ orders }) }
  const offset = Number(offsetText ?? 0)
  const limit = Math.min(Account.maxLimit, Number(limitText ?? Account.maxLimit))
  return {
    status: 200,
    body: JSON.stringify({
      orders: orders.slice(offset, offset + limit),
      page: { total: orders.length, limit, offset }
    })
  }
}

const ORDER = /^\/order\/certificate\/(\d{1,16})\/(duplicate|reissue)$/
const SUBACCOUNT_ORDER = /^\/account\/subaccount\/order\/(\d{1,16})$/

/**
 * The answer to any request of the stand-in's routes at `now`, by path under the base URL (`/order/certificate`, ...):
 * the listings, the status change list and the three per-order endpoints; 404 `not_found|order` for an order that does
 * not exist then, 403 for one failing then, 404 for any other path. What a route table (or a scripted `HttpClient`)
 * delegates to.
 *
 * @since 0.2.0
 * @category rendering
 */
export const answer = (history: History, path: string, search: URLSearchParams, now: number): Answer => {
  if (path === "/order/certificate/status-changes") return statusChangesAnswer(history, search, now)
  if (path === "/order/certificate" || path === "/account/subaccount/order") {
    const endpoint: Account.ListEndpoint = path === "/order/certificate" ? "listOrders" : "listSubaccountOrders"
    return Account.page(
      endpoint,
      history.seed,
      orderIdsAt(history, now),
      search,
      (id) => summaryAt(endpoint, history, id, now)
    )
  }
  const perOrder = ORDER.exec(path) ?? SUBACCOUNT_ORDER.exec(path)
  if (perOrder === null) return bad(404, "not_found", "Not found")
  const orderId = Number(perOrder[1])
  if (!existsAt(history, orderId, now)) return bad(404, "not_found|order", "Order not found.")
  if (failingAt(history, orderId, now)) {
    return bad(403, "access_denied|missing_permission", "You do not have permission to view this order.")
  }
  const showArchived = search.get("show_archived") === "true"
  if (perOrder[2] === "duplicate") {
    return { status: 200, body: JSON.stringify({ certificates: duplicatesAt(history, orderId, now, showArchived) }) }
  }
  if (perOrder[2] === "reissue") {
    return { status: 200, body: JSON.stringify({ certificates: reissuesAt(history, orderId, now, showArchived) }) }
  }
  return { status: 200, body: JSON.stringify(subaccountOrderAt(history, orderId, now)) }
}
