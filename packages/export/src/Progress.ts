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
import { WindowSchedule } from "@certcentral/core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Eta from "./internal/eta.js"
import * as ProgressLine from "./ProgressLine.js"

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
  /**
   * Time left, when the total is known and something says how many requests an order takes: the requests left placed
   * into the client's windows after the recent starts, or at the API's recent pace when that is slower.
   */
  readonly etaMillis: number | undefined
  /** Requests of this run (a listing's included) per order done in it. */
  readonly requestsPerOrder: number | undefined
  /** The share of what the windows allowed in the time elapsed that the requests used (0 to 1); none without windows. */
  readonly windowUse: number | undefined
  /** The windows, as `--rate-limit` writes them (`100/5s,1000/3m`); none without windows. */
  readonly windows: string | undefined
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
 * What the tracker knows beyond what the export feeds it: the client's rolling windows, for an ETA that places the
 * requests left into them, and the planned requests per order until enough orders are done to measure it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The windows the client keeps to (`RollingWindowLimiter.parse`, a limiter's `windows`); none: `"off"`. */
  readonly windows?: ReadonlyArray<WindowSchedule.Window> | undefined
  /** Requests one order takes, as planned (for example the endpoints included). */
  readonly requestsPerOrder?: number | undefined
}

interface State {
  readonly total: number | undefined
  readonly exported: number
  readonly failed: number
  readonly badLines: number
  readonly rows: number
  readonly resumed: number
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
  readonly stats: Effect.Effect<CertCentralClient.Stats>
  readonly listing: Listing | undefined
  /** The counter and orders done when the export (not its listing) started. */
  readonly start: Eta.Sample | undefined
  readonly recent: ReadonlyArray<Eta.Sample>
  readonly marks: ReadonlyArray<Eta.Sample>
}

const initial: State = {
  total: undefined,
  exported: 0,
  failed: 0,
  badLines: 0,
  rows: 0,
  resumed: 0,
  startedAt: undefined,
  finishedAt: undefined,
  stats: noStats,
  listing: undefined,
  start: undefined,
  recent: [],
  marks: []
}

/**
 * A new tracker with options ({@link Options}): its state is a `SubscriptionRef`, each snapshot reads the client's
 * counter into a short history of request starts, and the ETA places the requests left into the windows.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeWith = (options: Options = {}): Effect.Effect<Tracker> =>
  Effect.gen(function*() {
    const ref = yield* SubscriptionRef.make(initial)
    const windows = options.windows
    const longest = Math.max(
      0,
      ...(windows ?? []).map((w) => "windowMillis" in w ? w.windowMillis : Duration.toMillis(Duration.decode(w.window)))
    )
    const now = Effect.clockWith((clock) => clock.currentTimeMillis)

    const snapshot: Effect.Effect<Snapshot> = Effect.gen(function*() {
      const at = yield* now
      const stats = yield* (yield* SubscriptionRef.get(ref)).stats
      // the counter goes into the history on every read: the readers' cadence is the history's grain
      const state = yield* SubscriptionRef.updateAndGet(ref, (state) => {
        if (state.startedAt === undefined || state.finishedAt !== undefined) return state
        const sample = { at, requests: stats.requests, done: state.exported + state.failed }
        return {
          ...state,
          recent: Eta.addRecent(state.recent, sample, longest),
          marks: Eta.addMark(state.marks, sample)
        }
      })
      const elapsedMillis = state.startedAt === undefined ? 0 : (state.finishedAt ?? at) - state.startedAt
      const ordersDone = state.exported + state.failed
      const thisRun = ordersDone - state.resumed
      const seconds = elapsedMillis / 1000
      const ordersPerSecond = seconds > 0 ? thisRun / seconds : 0
      const remaining = state.total === undefined ? undefined : Math.max(0, state.total - ordersDone)
      const etaMillis = remaining === undefined || state.start === undefined
        ? undefined
        : remaining === 0
        ? 0
        : Eta.eta({
          windows,
          recent: state.recent,
          marks: state.marks,
          start: state.start,
          now: { at, requests: stats.requests, done: ordersDone },
          orders: state.total! - state.resumed,
          planned: options.requestsPerOrder
        }) ?? (ordersPerSecond > 0 ? (remaining / ordersPerSecond) * 1000 : undefined)
      const capacity = windows === undefined || windows.length === 0
        ? undefined
        : WindowSchedule.capacity(windows, elapsedMillis)
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
        etaMillis,
        requestsPerOrder: thisRun > 0 ? stats.requests / thisRun : undefined,
        windowUse: capacity === undefined || stats.requests === 0
          ? undefined
          : Math.min(1, stats.requests / capacity),
        windows: windows === undefined || windows.length === 0 ? undefined : WindowSchedule.format(windows),
        resumedOrders: state.resumed,
        circuit: stats.circuit,
        unavailableMillis: stats.circuit === "closed" || stats.unavailableSince === undefined
          ? undefined
          : Math.max(0, at - stats.unavailableSince),
        nextProbeInMillis: stats.circuit !== "open" || stats.nextProbeAt === undefined
          ? undefined
          : Math.max(0, stats.nextProbeAt - at),
        outages: stats.outages,
        outageMillis: stats.outageMillis,
        listing: state.listing,
        finished: state.finishedAt !== undefined
      }
    })

    const update = (f: (state: State) => State) => SubscriptionRef.update(ref, f)

    const tracker: Tracker = {
      snapshot,
      changes: (every) => {
        const period = Duration.toMillis(Duration.decode(every))
        // the history wants a finer grain than a plain line every few seconds
        const tick = Math.max(1, Math.min(period, 1000))
        let shown: number | undefined = undefined
        const ticks = Stream.repeatEffectWithSchedule(
          Effect.zip(snapshot, now),
          Schedule.spaced(Duration.millis(tick))
        ).pipe(
          Stream.filter(([snap, at]) => {
            if (!snap.finished && shown !== undefined && at - shown < period) return false
            shown = at
            return true
          }),
          Stream.map(([snap]) => snap)
        )
        // the end is shown when it happens, not at the next tick
        const end = ref.changes.pipe(
          Stream.filter((state) => state.finishedAt !== undefined),
          Stream.take(1),
          Stream.mapEffect(() => snapshot)
        )
        return Stream.merge(ticks, end).pipe(Stream.takeUntil((s) => s.finished))
      },
      setTotal: (total) => update((state) => ({ ...state, total })),
      start: (base, stats) =>
        Effect.gen(function*() {
          const at = yield* now
          const requests = (yield* stats).requests
          yield* update((state) => {
            const sample = { at, requests, done: base.exported + base.failed }
            return {
              ...state,
              exported: base.exported,
              failed: base.failed,
              badLines: base.badLines,
              rows: base.rows,
              resumed: base.exported + base.failed,
              // after a listing the clock runs on: its time and requests belong to this run
              startedAt: state.listing === undefined ? at : state.startedAt ?? at,
              finishedAt: undefined,
              stats,
              start: sample,
              // the listing's requests stay in the history: they took room in the windows
              recent: Eta.addRecent(state.recent, sample, longest),
              marks: [sample]
            }
          })
        }),
      record: (increment) =>
        update((state) => {
          switch (increment._tag) {
            case "Exported":
              return { ...state, exported: state.exported + 1, rows: state.rows + increment.rows }
            case "Failed":
              return { ...state, failed: state.failed + 1 }
            case "BadLine":
              return { ...state, badLines: state.badLines + 1 }
          }
        }),
      startListing: (stats) =>
        Effect.gen(function*() {
          const at = yield* now
          const requests = (yield* stats).requests
          yield* update((state) => ({
            ...state,
            listing: { pages: 0, ids: 0, total: undefined, done: false },
            startedAt: at,
            finishedAt: undefined,
            stats,
            recent: [{ at, requests, done: 0 }]
          }))
        }),
      recordPage: (page) =>
        update((state) => ({
          ...state,
          listing: { pages: (state.listing?.pages ?? 0) + 1, ids: page.listed, total: page.total, done: page.last }
        })),
      finish: Effect.flatMap(now, (at) =>
        update((state) => state.finishedAt === undefined ? { ...state, finishedAt: at } : state))
    }
    return tracker
  })

/**
 * A new tracker without windows: its ETA goes by the pace seen so far (see {@link makeWith}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Tracker> = makeWith()

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

/**
 * A fresh {@link Progress} service that knows the client's windows (and the planned requests per order): its ETA
 * places the requests left into them.
 *
 * @example
 * ```ts
 * import { RollingWindowLimiter } from "@certcentral/core"
 * import { Progress } from "@certcentral/export"
 *
 * const layer = Progress.layerWith({ windows: RollingWindowLimiter.digicertDefault, requestsPerOrder: 3 })
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerWith = (options: Options): Layer.Layer<Progress> => Layer.effect(Progress, makeWith(options))

/**
 * A duration as people write it (see `ProgressLine.formatDuration`).
 *
 * @since 0.2.0
 * @category rendering
 */
export const formatDuration: (millis: number) => string = ProgressLine.formatDuration

/**
 * What the client waits for during an outage (see `ProgressLine.renderOutage`).
 *
 * @since 0.2.0
 * @category rendering
 */
export const renderOutage: (s: Snapshot) => string | undefined = ProgressLine.renderOutage

/**
 * One line for a terminal with a bar (see `ProgressLine.renderBar`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderBar: (s: Snapshot, width?: number) => string = ProgressLine.renderBar

/**
 * One plain line for logs (see `ProgressLine.renderLine`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderLine: (s: Snapshot) => string = ProgressLine.renderLine

/**
 * The closing paragraph (see `ProgressLine.renderSummary`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderSummary: (s: Snapshot, outcome: string) => string = ProgressLine.renderSummary
