/**
 * The plan of an export, made before any per-order request: how many orders, what the planner knows of their
 * duplicates, the requests each endpoint will get (the `include` list and the `hasDuplicates` hints honoured, list
 * pages counted when a listing was made) and the least time the rolling windows allow for them. The CLI's
 * `--dry-run` prints it; an embedder can plan its own ids the same way.
 *
 * @since 0.2.0
 */
import { RollingWindowLimiter, WindowSchedule } from "@certcentral/core"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as OrderIds from "./OrderIds.js"
import * as Outcomes from "./Outcomes.js"
import * as Progress from "./Progress.js"

/**
 * What the input holds: distinct order ids, those a hint says have duplicates (`true`) or have none (`false`; the
 * rest are unknown), and bad lines.
 *
 * @since 0.2.0
 * @category models
 */
export interface Counts {
  readonly orders: number
  readonly withDuplicates: number
  readonly withoutDuplicates: number
  readonly badLines: number
}

/**
 * Requests by endpoint: `list` (list pages, when the ids came from a listing), then the three per-order endpoints.
 *
 * @since 0.2.0
 * @category models
 */
export interface Requests {
  readonly list: number
  readonly order: number
  readonly duplicates: number
  readonly reissues: number
}

/**
 * The plan: the {@link Counts}, the requests by endpoint and in all, per order, and the least time the windows allow
 * for them (`undefined` without a rate limit); `windows` as `--rate-limit` writes them.
 *
 * @since 0.2.0
 * @category models
 */
export interface Plan extends Counts {
  readonly include: ReadonlyArray<Outcomes.Endpoint>
  readonly requests: Requests
  readonly totalRequests: number
  readonly requestsPerOrder: number | undefined
  readonly leastMillis: number | undefined
  readonly windows: string | undefined
}

/**
 * What the plan assumes: the endpoints called (default all), the client's windows (default DigiCert's; `"off"`: no
 * limit) and the list pages already requested (default 0).
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly include?: ReadonlyArray<Outcomes.Endpoint> | undefined
  readonly windows?: ReadonlyArray<WindowSchedule.Window> | "off" | undefined
  readonly listPages?: number | undefined
}

/**
 * Nothing counted yet.
 *
 * @since 0.2.0
 * @category constructors
 */
export const empty: Counts = { orders: 0, withDuplicates: 0, withoutDuplicates: 0, badLines: 0 }

/**
 * The counts with one more input entry.
 *
 * @since 0.2.0
 * @category constructors
 */
export const add = (counts: Counts, entry: OrderIds.Entry): Counts =>
  entry._tag === "BadLine"
    ? { ...counts, badLines: counts.badLines + 1 }
    : {
      ...counts,
      orders: counts.orders + 1,
      withDuplicates: counts.withDuplicates + (entry.hasDuplicates === true ? 1 : 0),
      withoutDuplicates: counts.withoutDuplicates + (entry.hasDuplicates === false ? 1 : 0)
    }

/**
 * The plan for counted entries: an order gets the `order` and `reissues` requests when included, and the
 * `duplicates` request when included unless its hint says it has none (unknown asks), as `Export.outcomes` calls them.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (counts: Counts, options: Options = {}): Plan => {
  const include = Outcomes.normalizeInclude(options.include)
  const has = (endpoint: Outcomes.Endpoint) => include.includes(endpoint)
  const requests: Requests = {
    list: Math.max(0, Math.floor(options.listPages ?? 0)),
    order: has("order") ? counts.orders : 0,
    duplicates: has("duplicates") ? counts.orders - counts.withoutDuplicates : 0,
    reissues: has("reissues") ? counts.orders : 0
  }
  const totalRequests = requests.list + requests.order + requests.duplicates + requests.reissues
  const windows = options.windows ?? RollingWindowLimiter.digicertDefault
  const limited = windows !== "off" && windows.length > 0
  return {
    ...counts,
    include,
    requests,
    totalRequests,
    requestsPerOrder: counts.orders > 0 ? totalRequests / counts.orders : undefined,
    leastMillis: limited ? WindowSchedule.leastMillis(windows, totalRequests) : undefined,
    windows: limited ? WindowSchedule.format(windows) : undefined
  }
}

/**
 * Reads the entries (never requesting anything) and plans them.
 *
 * @example
 * ```ts
 * import { OrderIds, Plan } from "@certcentral/export"
 * import { Effect, Stream } from "effect"
 *
 * const entries = OrderIds.fromNumbers(Stream.make({ id: 1001, hasDuplicates: false }, { id: 1002 }))
 * const plan = Effect.runSync(Plan.fromEntries(entries))
 * assert.strictEqual(plan.totalRequests, 5)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromEntries = <E, R>(
  entries: Stream.Stream<OrderIds.Entry, E, R>,
  options: Options = {}
): Effect.Effect<Plan, E, R> => Effect.map(Stream.runFold(entries, empty, add), (counts) => make(counts, options))

const n = (value: number) => value.toLocaleString("en-US")
const plural = (value: number, word: string) => `${n(value)} ${word}${value === 1 ? "" : "s"}`

/**
 * The plan on one line: `3,000 orders, 300 with duplicates: 6,303 requests, 2.10 per order (list 3, order 3,000,
 * duplicates 300, reissues 3,000), at least 18m15s at 100/5s,1000/3m`.
 *
 * @since 0.2.0
 * @category rendering
 */
export const render = (plan: Plan): string => {
  const unknown = plan.orders - plan.withDuplicates - plan.withoutDuplicates
  const hints = plan.orders === 0
    ? ""
    : unknown === plan.orders
    ? ", duplicates not known"
    : `, ${n(plan.withDuplicates)} with duplicates${unknown > 0 ? `, ${n(unknown)} not known` : ""}`
  const bad = plan.badLines > 0 ? `, ${plural(plan.badLines, "bad input line")}` : ""
  const byEndpoint = [
    ...(plan.requests.list > 0 ? [`list ${n(plan.requests.list)}`] : []),
    ...plan.include.map((endpoint) => `${endpoint} ${n(plan.requests[endpoint])}`)
  ].join(", ")
  const perOrder = plan.requestsPerOrder === undefined ? "" : `, ${plan.requestsPerOrder.toFixed(2)} per order`
  const least = plan.leastMillis === undefined
    ? "no rate limit: as fast as the API answers"
    : `at least ${Progress.formatDuration(plan.leastMillis)} at ${plan.windows}`
  return `${plural(plan.orders, "order")}${hints}${bad}: ${
    plural(plan.totalRequests, "request")
  }${perOrder} (${byEndpoint}), ${least}`
}
