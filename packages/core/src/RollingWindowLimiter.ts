/**
 * A client-side rate limiter that keeps requests within rolling windows exactly, the way DigiCert counts them.
 *
 * A token bucket that starts full lets through up to twice a rolling window's limit, so this limiter keeps a log
 * instead: each request holds a slot from the moment it is sent until its response is back, and then for one more
 * window length. The server counts a request when it arrives, somewhere between those two instants, so no server
 * window can ever see more requests than the limit, whatever the transit time.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as CertCentralError from "./CertCentralError.js"
import * as memory from "./internal/rollingWindowMemory.js"

/**
 * A rolling window: at most `limit` requests in any span of `window`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Window {
  readonly limit: number
  readonly window: Duration.DurationInput
}

/**
 * DigiCert's documented limits per API key: 100 requests per 5 seconds and 1000 per 3 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const digicertDefault: ReadonlyArray<Window> = [
  { limit: 100, window: "5 seconds" },
  { limit: 1000, window: "3 minutes" }
]

/**
 * The unique identifier of a `RollingWindowLimiter`, used by `isRollingWindowLimiter`.
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@certcentral/core/RollingWindowLimiter")

/**
 * The type of `TypeId`.
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A limiter shared by every fiber that uses it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RollingWindowLimiter {
  readonly [TypeId]: TypeId
  /** The windows, normalised to milliseconds. */
  readonly windows: ReadonlyArray<{ readonly limit: number; readonly windowMillis: number }>
  /**
   * Runs `effect` holding one slot of every window: it starts once every window has room, and its slot stays taken
   * until it completes (or fails, or is interrupted) and for one window length after that. Fails with
   * `StoreUnavailableError` only when a shared store (Redis) stayed unreachable past its `maxOutage`.
   */
  readonly withPermit: <A, E, R>(
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | CertCentralError.StoreUnavailableError, R>
  /** Requests holding a slot right now (started and not yet completed). */
  readonly inFlight: Effect.Effect<number>
  /**
   * The server refused a request this limiter admitted (a 429): something else uses the same key. Every window's
   * limit is lowered by a quarter of its current value (never below one request); the share comes back by a tenth of
   * the configured limits per longest window. The client calls it once per pause, not once per 429.
   */
  readonly backOff: Effect.Effect<void>
  /** The share of the configured limits allowed right now: 1 unless {@link backOff} lowered it. */
  readonly share: Effect.Effect<number>
}

/**
 * The limiter as a service: provide one {@link layer} to several clients of the same key and they share its windows.
 * A client given no limiter in its options uses this one when the context has it.
 *
 * @since 0.2.0
 * @category tags
 */
export const RollingWindowLimiter: Context.Tag<RollingWindowLimiter, RollingWindowLimiter> = Context.GenericTag<
  RollingWindowLimiter
>("@certcentral/core/RollingWindowLimiter")

/**
 * What {@link Store.take} answers: the slot is taken, or wait `millis` (`undefined`: until a release), waking early
 * on a release when `onRelease`.
 *
 * @since 0.2.0
 * @category models
 */
export type Room =
  | { readonly _tag: "Taken" }
  | { readonly _tag: "Wait"; readonly millis: number | undefined; readonly onRelease: boolean }

/**
 * Where a limiter keeps its log: the in-process store ({@link memoryStore}) or one shared by several processes
 * (`RollingWindowLimiter/Redis`). The waiting, the order of waiters and the lease renewal are the limiter's
 * ({@link makeWith}); a store only counts, atomically.
 *
 * @since 0.2.0
 * @category models
 */
export interface Store {
  /** The windows the store counts, normalised to milliseconds. */
  readonly windows: ReadonlyArray<{ readonly limit: number; readonly windowMillis: number }>
  /** A fresh permit id (unique wherever the store is shared). */
  readonly permitId: () => string
  /** Takes a slot of every window for the permit, or says how long to wait. */
  readonly take: (id: string) => Effect.Effect<Room, CertCentralError.StoreUnavailableError>
  /** The request is done (`taken`: its slot was granted): the slot counts for one more window from now. */
  readonly release: (id: string, taken: boolean) => Effect.Effect<void>
  /** For a store whose slots are leases: renews the permit's lease every `everyMillis` while its request runs. */
  readonly renew: { readonly everyMillis: number; readonly run: (id: string) => Effect.Effect<void> } | undefined
  /** Completes at the next release (here, or in any process sharing the store), from the moment it is called. */
  readonly released: () => Effect.Effect<void>
  /** A 429: lowers the share of every limit (see {@link RollingWindowLimiter.backOff}). */
  readonly backOff: Effect.Effect<void>
  /** The share of the configured limits allowed now. */
  readonly share: Effect.Effect<number>
}

/**
 * Tells whether a value is a {@link RollingWindowLimiter}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRollingWindowLimiter = (u: unknown): u is RollingWindowLimiter =>
  typeof u === "object" && u !== null && TypeId in u

/**
 * Checks and normalises windows to milliseconds, throwing a `RangeError` for a window of no requests or no length.
 *
 * @since 0.2.0
 * @category constructors
 */
export const normalize = (
  windows: ReadonlyArray<Window>
): ReadonlyArray<{ readonly limit: number; readonly windowMillis: number }> =>
  windows.map(({ limit, window }) => {
    const windowMillis = Duration.toMillis(Duration.decode(window))
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`rate limit window: limit must be a positive integer, got ${limit}`)
    }
    if (!Number.isFinite(windowMillis) || windowMillis <= 0) {
      throw new RangeError(`rate limit window: length must be a positive duration, got ${String(window)}`)
    }
    return { limit, windowMillis }
  })

/**
 * The in-process store for the given windows. Time comes from the `Clock` in force when it is made.
 *
 * @since 0.2.0
 * @category constructors
 */
export const memoryStore = (windows: ReadonlyArray<Window>): Effect.Effect<Store> =>
  Effect.suspend(() => memory.make(normalize(windows)))

/**
 * The limiter over a store: one fiber at a time asks the store for room, so waiters are admitted in the order they
 * arrived and a crowd of waiters costs one look per release, not one each; a waiter sleeps until the store's opening
 * or the next release, never polling.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeWith = (store: Store): Effect.Effect<RollingWindowLimiter> =>
  Effect.map(Effect.makeSemaphore(1), (turnstile) => {
    let inFlight = 0
    const waitForRoom = (permit: Permit): Effect.Effect<void, CertCentralError.StoreUnavailableError> =>
      Effect.suspend(() => {
        // taken before asking, so that a release between the answer and the wait still wakes this waiter
        const released = store.released()
        permit.sent = true
        return Effect.flatMap(store.take(permit.id), (room) => {
          if (room._tag === "Taken") {
            permit.held = true
            inFlight++
            return Effect.void
          }
          const wait = room.millis === undefined
            ? released
            : room.onRelease
            ? Effect.raceFirst(released, Effect.sleep(Duration.millis(room.millis)))
            : Effect.sleep(Duration.millis(room.millis))
          return Effect.zipRight(wait, waitForRoom(permit))
        })
      })
    const release = (permit: Permit) =>
      Effect.suspend(() => {
        if (!permit.sent) return Effect.void
        const taken = permit.held
        if (taken) inFlight--
        permit.held = false
        permit.sent = false
        return store.release(permit.id, taken)
      })
    const renew = store.renew
    const running = <A, E, R>(permit: Permit, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      renew === undefined ? effect : Effect.scoped(Effect.zipRight(
        Effect.forkScoped(
          renew.run(permit.id).pipe(Effect.delay(Duration.millis(renew.everyMillis)), Effect.forever)
        ),
        effect
      ))
    const limiter: RollingWindowLimiter = {
      [TypeId]: TypeId,
      windows: store.windows,
      withPermit: (effect) =>
        Effect.suspend(() => {
          const permit: Permit = { id: store.permitId(), sent: false, held: false }
          return turnstile.withPermits(1)(waitForRoom(permit)).pipe(
            Effect.zipRight(running(permit, effect)),
            Effect.ensuring(release(permit))
          )
        }),
      inFlight: Effect.sync(() => inFlight),
      backOff: store.backOff,
      share: store.share
    }
    return limiter
  })

interface Permit {
  readonly id: string
  sent: boolean
  held: boolean
}

/**
 * Makes an in-process limiter for the given windows. Time comes from the `Clock` in force when it is made, so
 * `TestClock` drives it in tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (windows: ReadonlyArray<Window>): Effect.Effect<RollingWindowLimiter> =>
  Effect.flatMap(memoryStore(windows), makeWith)

/**
 * A layer of a limiter for the given windows (default DigiCert's), to share between clients.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (windows: ReadonlyArray<Window> = digicertDefault): Layer.Layer<RollingWindowLimiter> =>
  Layer.effect(RollingWindowLimiter, make(windows))

/**
 * A limiter that never waits, for `rateLimit: "off"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unlimited: RollingWindowLimiter = {
  [TypeId]: TypeId,
  windows: [],
  withPermit: (effect) => effect,
  inFlight: Effect.succeed(0),
  backOff: Effect.void,
  share: Effect.succeed(1)
}

const UNIT_MILLIS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses a limit spec as the CLI takes it: windows as `N/DURATION` joined by commas (`100/5s,1000/3m`; units `ms`,
 * `s`, `m`, `h`), or `off`.
 *
 * @example
 * ```ts
 * import { RollingWindowLimiter } from "@certcentral/core"
 * import { Either } from "effect"
 *
 * const windows = Either.getOrThrow(RollingWindowLimiter.parse("100/5s,1000/3m"))
 * assert.strictEqual(windows === "off" ? 0 : windows.length, 2)
 * assert.ok(Either.isLeft(RollingWindowLimiter.parse("100 per minute")))
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (spec: string): Either.Either<ReadonlyArray<Window> | "off", string> => {
  const text = spec.trim()
  if (text.toLowerCase() === "off") return Either.right("off")
  if (text === "") return Either.left("empty rate limit: use windows like 100/5s,1000/3m, or off")
  const windows: Array<Window> = []
  for (const part of text.split(",")) {
    const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*(ms|s|m|h)\s*$/.exec(part)
    if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1) {
      return Either.left(
        `invalid rate limit window ${JSON.stringify(part.trim())}: expected N/DURATION such as 100/5s or 1000/3m`
      )
    }
    windows.push({ limit: Number(m[1]), window: Duration.millis(Number(m[2]) * UNIT_MILLIS[m[3]!]!) })
  }
  return Either.right(windows)
}
