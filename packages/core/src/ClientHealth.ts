/**
 * The client's health: the client-wide pause after a 429 and the circuit for transient failures (5xx, resets,
 * timeouts), one piece so that they never fight. Every request of every client that shares it passes its gate.
 *
 * - After a 429, every request waits out one pause (429s that overlap extend it), then one request goes first as a
 *   probe and the others wait for its answer.
 * - When transient failures cluster (`failureThreshold` in a row, or a client's retry budget spent), the circuit
 *   opens: no request goes out but one probe per pause, the pause growing from `firstPause`, doubling, jittered and
 *   capped at `maxPause`. Calls wait instead of failing; the probe's success (any answer but a 5xx or a 429) closes the
 *   circuit and lets the others through at the limiter's pace. A 429 from the probe closes it too: the API is up and
 *   the 429 pause takes over.
 * - A client gives up once the API has been unavailable for longer than its `maxOutage`: calls then fail with their
 *   last error (and `gaveUp` is set) until a request succeeds again.
 *
 * The state lives behind a {@link Store} of atomic operations, so that another store (shared by several processes)
 * can replace the in-process one.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type { StoreUnavailableError } from "./CertCentralError.js"
import * as internal from "./internal/clientHealth.js"

/**
 * The circuit's state: `closed` (requests flow), `open` (waiting for the next probe) or `probing` (one probe out).
 *
 * @since 0.2.0
 * @category models
 */
export type Circuit = "closed" | "open" | "probing"

/**
 * Everything a store keeps. Times are epoch milliseconds by Effect's `Clock`.
 *
 * @since 0.2.0
 * @category models
 */
export interface State {
  readonly circuit: Circuit
  /** End of the 429 pause (in the past when none runs). */
  readonly pauseUntil: number
  /** 429 pauses started so far. */
  readonly pauses: number
  /** The next request goes alone, as a probe (after a 429 pause). */
  readonly probeNeeded: boolean
  /** A probe is out; the others wait for its answer. */
  readonly probeInFlight: boolean
  /** Transient failures since the last answer. */
  readonly consecutiveFailures: number
  /** When the current run of transient failures began. */
  readonly streakSince: number | undefined
  /** When the current outage began (the first failure of the run that opened the circuit). */
  readonly unavailableSince: number | undefined
  /** When the circuit opened. */
  readonly openedAt: number | undefined
  /** When an open circuit lets its next probe go. */
  readonly nextProbeAt: number | undefined
  /** Failed probes in the current outage (the pause doubles with each). */
  readonly openings: number
  /** Circuit openings so far. */
  readonly outages: number
  /** Time spent open in outages that ended. */
  readonly outageMillis: number
  /** A client gave up on the current outage (past its `maxOutage`). */
  readonly gaveUp: boolean
  /** The last transient failure, described without secrets (`503 service_unavailable`, `connection`). */
  readonly lastFailure: string | undefined
}

/**
 * How the circuit opens and how long it pauses; `jitter` (0.8 to 1.2) is drawn once per operation.
 *
 * @since 0.2.0
 * @category models
 */
export interface PauseRule {
  readonly failureThreshold: number
  readonly firstPauseMillis: number
  readonly maxPauseMillis: number
  readonly jitter: number
}

/**
 * A request's pass through the gate: it goes (maybe as the probe, maybe after the client gave up).
 *
 * @since 0.2.0
 * @category models
 */
export interface Go {
  readonly _tag: "Go"
  readonly probe: boolean
  readonly gaveUp: boolean
  /** This admission is the one that gave up (for the log line and the metric). */
  readonly first: boolean
}

/**
 * What {@link Store.enter} answers: go, or wait until a time (or `undefined`: until a change) or until `changed`.
 *
 * @since 0.2.0
 * @category models
 */
export type Admission = Go | {
  readonly _tag: "Wait"
  readonly until: number | undefined
  readonly changed: Effect.Effect<void>
}

/**
 * A change of the circuit made by one operation.
 *
 * @since 0.2.0
 * @category models
 */
export type Transition = "opened" | "reopened" | "closed" | undefined

/**
 * The shared state and its atomic operations (`now` is passed in, so one clock rules). The in-process store is
 * {@link memoryStore}; a store shared by several processes implements the same operations, failing with
 * `StoreUnavailableError` once it stayed unreachable past its `maxOutage` (a read answers the last state it saw).
 *
 * @since 0.2.0
 * @category models
 */
export interface Store {
  /** The state now. */
  readonly read: Effect.Effect<State>
  /** Try to pass the gate: become the probe, go, or learn how long to wait. */
  readonly enter: (now: number, maxOutageMillis: number) => Effect.Effect<Admission, StoreUnavailableError>
  /** An answer came back (anything but a 5xx or a 429): closes an open circuit. */
  readonly succeeded: (now: number, probe: boolean) => Effect.Effect<Transition, StoreUnavailableError>
  /** A transient failure: counts towards opening; a failed probe reopens with a longer pause. */
  readonly failed: (
    now: number,
    probe: boolean,
    failure: string,
    rule: PauseRule
  ) => Effect.Effect<Transition, StoreUnavailableError>
  /** Opens the circuit now (a client's retry budget is spent). */
  readonly open: (now: number, failure: string, rule: PauseRule) => Effect.Effect<Transition, StoreUnavailableError>
  /** A 429: pauses every request for `millis`; `starts` when no pause was running. */
  readonly rateLimited: (
    now: number,
    probe: boolean,
    millis: number
  ) => Effect.Effect<{ readonly starts: boolean; readonly closed: boolean }, StoreUnavailableError>
  /** The probe ended without an answer (interrupted): the next request probes instead. */
  readonly releaseProbe: Effect.Effect<void>
}

/**
 * What a client reports in its `Stats`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Snapshot {
  readonly circuit: Circuit
  readonly unavailableSince: number | undefined
  readonly nextProbeAt: number | undefined
  readonly outages: number
  /** Total time spent open, the current outage included. */
  readonly outageMillis: number
  readonly gaveUp: boolean
  readonly pauses: number
  readonly lastFailure: string | undefined
}

/**
 * The health service.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientHealth {
  readonly store: Store
  /** Waits until a request may go (pause over, circuit closed or this one the probe, or given up). */
  readonly admit: (maxOutageMillis: number) => Effect.Effect<Go, StoreUnavailableError>
  /** The request got an answer other than a 5xx or a 429. */
  readonly succeeded: (probe: boolean) => Effect.Effect<void, StoreUnavailableError>
  /** The request failed transiently (5xx, connection, timeout, body cut short). */
  readonly failed: (probe: boolean, failure: string) => Effect.Effect<void, StoreUnavailableError>
  /** Opens the circuit (a retry budget is spent). */
  readonly open: (failure: string) => Effect.Effect<void, StoreUnavailableError>
  /** A 429 pauses every request; true when this started the pause. */
  readonly rateLimited: (probe: boolean, millis: number) => Effect.Effect<boolean, StoreUnavailableError>
  /** The request ended without an outcome (interrupted). */
  readonly abandoned: Effect.Effect<void>
  /** The state as a client reports it. */
  readonly snapshot: Effect.Effect<Snapshot>
}

/**
 * The health service tag: provide one {@link layer} to several clients and they share one pause and one circuit.
 *
 * @since 0.2.0
 * @category tags
 */
export const ClientHealth: Context.Tag<ClientHealth, ClientHealth> = Context.GenericTag<ClientHealth>(
  "@certcentral/core/ClientHealth"
)

/**
 * How the circuit opens and pauses.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Transient failures in a row (across all calls) that open the circuit (default 5). */
  readonly failureThreshold?: number | undefined
  /** The first pause before a probe (default 1 s); doubled after each failed probe, jittered by ±20%. */
  readonly firstPause?: Duration.DurationInput | undefined
  /** The longest pause (default 1 minute). */
  readonly maxPause?: Duration.DurationInput | undefined
}

/**
 * The in-process store.
 *
 * @since 0.2.0
 * @category constructors
 */
export const memoryStore: Effect.Effect<Store> = internal.memoryStore

/**
 * Makes the health service over a store (the in-process one by default). Time comes from the `Clock` in force.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (options?: Options, store?: Effect.Effect<Store>) => Effect.Effect<ClientHealth> = internal.make

/**
 * A layer of the health service, for clients to share.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options?: Options, store?: Effect.Effect<Store>): Layer.Layer<ClientHealth> =>
  Layer.effect(ClientHealth, make(options, store))

/**
 * The state of a health service, as a client's `Stats` reports it.
 *
 * @since 0.2.0
 * @category accessors
 */
export const snapshot: Effect.Effect<Snapshot, never, ClientHealth> = Effect.flatMap(
  ClientHealth,
  (health) => health.snapshot
)

/**
 * Counts circuit transitions of every client of the process, tagged `transition` (`opened`, `reopened`, `closed`,
 * `gave_up`).
 *
 * @since 0.2.0
 * @category metrics
 */
export const transitions: Metric.Metric.Counter<number> = internal.transitions
