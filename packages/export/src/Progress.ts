/**
 * Progress of an export as a stream of snapshots (orders done and failed, rows, requests, retries, 429s, rates,
 * ETA, and the client's circuit: how long the API has been unavailable and when the next try goes), with the text
 * renderings the CLI prints.
 *
 * The {@link Progress} service is fed by `Export.toFiles` (outcomes, and the client's stats) and by the CLI's listing;
 * whoever shows progress reads the same service. Time comes from the `Clock`, so `TestClock` drives it in tests.
 *
 * @since 0.1.0
 */
import type { CertCentralClient } from "@certcentral/core"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

/**
 * Where an export stands.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  /** Order ids in the input, when known in advance (a file is counted first; stdin is not). */
  readonly total: number | undefined
  /** Orders exported or failed, those done before a resume included. */
  readonly ordersDone: number
  readonly ordersExported: number
  readonly ordersFailed: number
  readonly badLines: number
  readonly rows: number
  /** HTTP requests, retries and 429s of the client in this run. */
  readonly requests: number
  readonly retries: number
  readonly rateLimited: number
  readonly elapsedMillis: number
  /** Orders per second in this run. */
  readonly ordersPerSecond: number
  readonly requestsPerSecond: number
  /** Time left at the current rate, when the total is known and something was done. */
  readonly etaMillis: number | undefined
  /** Orders that were already done when this run started (a resume). */
  readonly resumedOrders: number
  /** The client's circuit: `closed`, `open` (waiting to probe) or `probing`. */
  readonly circuit: CertCentralClient.Stats["circuit"]
  /** How long the API has been unavailable, while the circuit is not closed. */
  readonly unavailableMillis: number | undefined
  /** Time until the next probe, while the circuit is open. */
  readonly nextProbeInMillis: number | undefined
  /** Outages (circuit openings) in this run, and the time spent in them. */
  readonly outages: number
  readonly outageMillis: number
  /** The listing of the order ids (`--orders-from`), when this run made one. */
  readonly listing: Listing | undefined
  readonly finished: boolean
}

/**
 * Where a listing of order ids stands: pages fetched, ids listed so far, and `page.total` as the last page gave it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Listing {
  readonly pages: number
  readonly ids: number
  readonly total: number | undefined
  /** The last page came in: the ids are all there. */
  readonly done: boolean
}

/**
 * What one finished input entry adds.
 *
 * @since 0.1.0
 * @category models
 */
export type Increment =
  | { readonly _tag: "Exported"; readonly rows: number }
  | { readonly _tag: "Failed" }
  | { readonly _tag: "BadLine" }

/**
 * Collects progress. The export feeds it; any number of readers take {@link Tracker.snapshot} or
 * {@link Tracker.changes}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tracker {
  readonly snapshot: Effect.Effect<Snapshot>
  /** A snapshot now and then every `every`, ending after the snapshot that has `finished: true`. */
  readonly changes: (every: Duration.DurationInput) => Stream.Stream<Snapshot>
  /** Sets the number of order ids in the input. */
  readonly setTotal: (total: number | undefined) => Effect.Effect<void>
  /** Starts the clock, with the counts already done (a resume) and the client's stats. */
  readonly start: (
    base: { readonly exported: number; readonly failed: number; readonly badLines: number; readonly rows: number },
    stats: Effect.Effect<CertCentralClient.Stats>
  ) => Effect.Effect<void>
  readonly record: (increment: Increment) => Effect.Effect<void>
  /** Starts the clock for a listing of the order ids, with the client's stats; the export's `start` keeps it. */
  readonly startListing: (stats: Effect.Effect<CertCentralClient.Stats>) => Effect.Effect<void>
  /** Records one page of the listing: `listed` ids so far of `total`, and whether it was the last. */
  readonly recordPage: (
    page: { readonly listed: number; readonly total: number; readonly last: boolean }
  ) => Effect.Effect<void>
  readonly finish: Effect.Effect<void>
}

const noStats: Effect.Effect<CertCentralClient.Stats> = Effect.succeed({
  requests: 0,
  retries: 0,
  rateLimited: 0,
  pauses: 0,
  circuit: "closed",
  unavailableSince: undefined,
  nextProbeAt: undefined,
  outages: 0,
  outageMillis: 0,
  gaveUp: false
})

/**
 * A new tracker.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Tracker> = Effect.sync(() => {
  const state = {
    total: undefined as number | undefined,
    exported: 0,
    failed: 0,
    badLines: 0,
    rows: 0,
    resumed: 0,
    startedAt: undefined as number | undefined,
    finishedAt: undefined as number | undefined,
    stats: noStats,
    listing: undefined as Listing | undefined
  }
  const snapshot: Effect.Effect<Snapshot> = Effect.gen(function*() {
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const stats = yield* state.stats
    const elapsedMillis = state.startedAt === undefined ? 0 : (state.finishedAt ?? now) - state.startedAt
    const ordersDone = state.exported + state.failed
    const thisRun = ordersDone - state.resumed
    const seconds = elapsedMillis / 1000
    const ordersPerSecond = seconds > 0 ? thisRun / seconds : 0
    const remaining = state.total === undefined ? undefined : Math.max(0, state.total - ordersDone)
    return {
      total: state.total,
      ordersDone,
      ordersExported: state.exported,
      ordersFailed: state.failed,
      badLines: state.badLines,
      rows: state.rows,
      requests: stats.requests,
      retries: stats.retries,
      rateLimited: stats.rateLimited,
      elapsedMillis,
      ordersPerSecond,
      requestsPerSecond: seconds > 0 ? stats.requests / seconds : 0,
      etaMillis: remaining === undefined
        ? undefined
        : remaining === 0
        ? 0
        : ordersPerSecond > 0
        ? (remaining / ordersPerSecond) * 1000
        : undefined,
      resumedOrders: state.resumed,
      circuit: stats.circuit,
      unavailableMillis: stats.circuit === "closed" || stats.unavailableSince === undefined
        ? undefined
        : Math.max(0, now - stats.unavailableSince),
      nextProbeInMillis: stats.circuit !== "open" || stats.nextProbeAt === undefined
        ? undefined
        : Math.max(0, stats.nextProbeAt - now),
      outages: stats.outages,
      outageMillis: stats.outageMillis,
      listing: state.listing,
      finished: state.finishedAt !== undefined
    }
  })
  const tracker: Tracker = {
    snapshot,
    changes: (every) =>
      Stream.repeatEffectWithSchedule(snapshot, Schedule.spaced(every)).pipe(
        Stream.takeUntil((s) => s.finished)
      ),
    setTotal: (total) => Effect.sync(() => void (state.total = total)),
    start: (base, stats) =>
      Effect.clockWith((clock) => clock.currentTimeMillis).pipe(
        Effect.map((now) => {
          state.exported = base.exported
          state.failed = base.failed
          state.badLines = base.badLines
          state.rows = base.rows
          state.resumed = base.exported + base.failed
          // after a listing the clock runs on: its time and requests belong to this run
          state.startedAt = state.listing === undefined ? now : state.startedAt ?? now
          state.finishedAt = undefined
          state.stats = stats
        })
      ),
    record: (increment) =>
      Effect.sync(() => {
        switch (increment._tag) {
          case "Exported":
            state.exported++
            state.rows += increment.rows
            break
          case "Failed":
            state.failed++
            break
          case "BadLine":
            state.badLines++
        }
      }),
    startListing: (stats) =>
      Effect.clockWith((clock) => clock.currentTimeMillis).pipe(
        Effect.map((now) => {
          state.listing = { pages: 0, ids: 0, total: undefined, done: false }
          state.startedAt = now
          state.finishedAt = undefined
          state.stats = stats
        })
      ),
    recordPage: (page) =>
      Effect.sync(() => {
        const pages = (state.listing?.pages ?? 0) + 1
        state.listing = { pages, ids: page.listed, total: page.total, done: page.last }
      }),
    finish: Effect.clockWith((clock) => clock.currentTimeMillis).pipe(
      Effect.map((now) => void (state.finishedAt ??= now))
    )
  }
  return tracker
})

/**
 * The progress of the export running in this context: `Export.toFiles` feeds it when it is provided, and the CLI
 * renders it. Provide one per export ({@link layer}).
 *
 * @since 0.2.0
 * @category services
 */
export class Progress extends Context.Tag("@certcentral/export/Progress")<Progress, Tracker>() {}

/**
 * A fresh {@link Progress} service.
 *
 * @example
 * ```ts
 * import { Progress } from "@certcentral/export"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const progress = yield* Progress.Progress
 *   yield* progress.setTotal(3)
 *   return (yield* progress.snapshot).total
 * })
 *
 * Effect.runPromise(Effect.provide(program, Progress.layer)).then(console.log) // 3
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<Progress> = Layer.effect(Progress, make)

const duration = (millis: number): string => {
  const total = Math.round(millis / 1000)
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const listingText = (listing: Listing): string =>
  `${plural(listing.pages, "page")}, ${listing.ids}${listing.total === undefined ? "" : `/${listing.total}`} ids`

/**
 * A duration as people write it, without the parts that are zero: `500ms`, `40s`, `1m30s`, `10m`, `1h05m`.
 *
 * @since 0.2.0
 * @category rendering
 */
export const formatDuration = (millis: number): string => {
  if (millis > 0 && millis < 1000) return `${Math.round(millis)}ms`
  const total = Math.round(Math.max(0, millis) / 1000)
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60
  if (h > 0) return m === 0 ? `${h}h` : `${h}h${String(m).padStart(2, "0")}m`
  if (m > 0) return s === 0 ? `${m}m` : `${m}m${String(s).padStart(2, "0")}s`
  return `${s}s`
}

/**
 * While the circuit is open or probing, what the client is waiting for: `API unavailable for 40s, next try in 16s`.
 *
 * @since 0.2.0
 * @category rendering
 */
export const renderOutage = (s: Snapshot): string | undefined =>
  s.unavailableMillis === undefined ?
    undefined :
    `API unavailable for ${formatDuration(s.unavailableMillis)}, ${
      s.nextProbeInMillis === undefined ? "trying now" : `next try in ${formatDuration(s.nextProbeInMillis)}`
    }`

/**
 * One line for a terminal: a bar when the total is known, then orders, rows, failures, request rate and ETA.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderBar = (s: Snapshot, width = 24): string => {
  if (s.listing !== undefined && !s.listing.done) {
    return `listing orders: ${listingText(s.listing)} · ${s.requestsPerSecond.toFixed(1)} req/s${
      s.rateLimited > 0 ? ` · ${s.rateLimited}×429` : ""
    }`
  }
  const failures = s.ordersFailed + s.badLines
  const parts: Array<string> = []
  if (s.total !== undefined && s.total > 0) {
    const filled = Math.min(width, Math.round((s.ordersDone / s.total) * width))
    parts.push(`[${"#".repeat(filled)}${".".repeat(width - filled)}] ${s.ordersDone}/${s.total} orders`)
  } else {
    parts.push(`${s.ordersDone} orders`)
  }
  parts.push(plural(s.rows, "row"), `${failures} failed`, `${s.requestsPerSecond.toFixed(1)} req/s`)
  if (s.rateLimited > 0) parts.push(`${s.rateLimited}×429`)
  const outage = renderOutage(s)
  if (outage !== undefined) parts.push(outage)
  parts.push(`ETA ${s.etaMillis === undefined ? "?" : duration(s.etaMillis)}`)
  return parts.join(" · ")
}

/**
 * One plain line for logs (no terminal); while the circuit is open it says so (see {@link renderOutage}).
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderLine = (s: Snapshot): string => {
  if (s.listing !== undefined && !s.listing.done) {
    return `progress: listing orders, ${listingText(s.listing)}, ${s.requests} requests (${
      s.requestsPerSecond.toFixed(1)
    }/s), ${s.retries} retries, ${s.rateLimited} 429s`
  }
  const outage = renderOutage(s)
  return `progress: ${s.ordersDone}${s.total === undefined ? "" : `/${s.total}`} orders, ${plural(s.rows, "row")}, ${
    s.ordersFailed + s.badLines
  } failed, ${s.requests} requests (${s.requestsPerSecond.toFixed(1)}/s), ${s.retries} retries, ${s.rateLimited} 429s${
    outage === undefined ? "" : `, ${outage}`
  }${s.etaMillis === undefined ? "" : `, ETA ${duration(s.etaMillis)}`}`
}

/**
 * The closing paragraph: orders, rows, failures, requests, retries, 429s, outages and the time spent in them (when
 * there were any), elapsed time.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderSummary = (s: Snapshot, outcome: string): string =>
  `${outcome}: ${
    s.listing === undefined ? "" : `${plural(s.listing.ids, "order")} listed in ${plural(s.listing.pages, "page")}, `
  }${plural(s.ordersExported, "order")} exported${
    s.resumedOrders > 0 ? ` (${s.resumedOrders} done before resuming)` : ""
  }, ${plural(s.rows, "row")} written, ${plural(s.ordersFailed, "order")} failed, ${
    plural(s.badLines, "bad input line")
  }; ${plural(s.requests, "request")}, ${plural(s.retries, "retry").replace("retrys", "retries")}, ${s.rateLimited} ${
    s.rateLimited === 1 ? "429 response" : "429 responses"
  }${
    s.outages > 0
      ? `, ${plural(s.outages, "outage")} (API unavailable for ${formatDuration(s.outageMillis)} in all)`
      : ""
  } in ${duration(s.elapsedMillis)}.`
