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
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"

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
   * until it completes (or fails, or is interrupted) and for one window length after that.
   */
  readonly withPermit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
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
 * Tells whether a value is a {@link RollingWindowLimiter}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRollingWindowLimiter = (u: unknown): u is RollingWindowLimiter =>
  typeof u === "object" && u !== null && TypeId in u

const validate = (windows: ReadonlyArray<Window>) =>
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

// After a 429 the share of each limit is multiplied by this...
const SHARE_CUT = 0.75
// ...and grows back by this much of the configured limits per longest window.
const SHARE_RECOVERY = 0.1

/**
 * Makes a limiter for the given windows. Time comes from the `Clock` in force when it is made, so `TestClock`
 * drives it in tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (windows: ReadonlyArray<Window>): Effect.Effect<RollingWindowLimiter> =>
  Effect.gen(function*() {
    const normalized = validate(windows)
    const longest = Math.max(0, ...normalized.map((w) => w.windowMillis))
    const clock = yield* Effect.clock
    // The clock's monotonic, sub-millisecond time, not the wall clock in whole milliseconds: a completion rounded down
    // would open its slot up to a millisecond early, enough for a server that times arrivals finely to count one
    // request too many in a window (and a wall clock set back would open slots early too).
    const nowMillis = () => Number(clock.unsafeCurrentTimeNanos()) / 1_000_000
    // Only one fiber at a time looks for room, so waiters are admitted in the order they arrived.
    const turnstile = yield* Effect.makeSemaphore(1)

    let inFlight = 0
    // Completion times, ascending (releases happen in clock order); trimmed to the longest window.
    let completions: Array<number> = []
    let head = 0
    let released = yield* Deferred.make<void>()

    // Additive increase, multiplicative decrease of the share of each limit the limiter uses (see `backOff`): the
    // share is `cutShare` at `cutAt` and grows linearly from there. A limit never goes below one request.
    let cutShare = 1
    let cutAt = 0
    // below this share every limit is down to one request already: a lower one would only slow the recovery
    const floor = Math.min(...normalized.map((w) => 1 / w.limit))
    const recoveryMillis = Math.max(1, longest) / SHARE_RECOVERY
    const shareAt = (now: number) => cutShare >= 1 ? 1 : Math.min(1, cutShare + (now - cutAt) / recoveryMillis)
    const limitOf = (limit: number, share: number) => share >= 1 ? limit : Math.max(1, Math.floor(limit * share + 1e-9))

    const trim = (now: number) => {
      while (head < completions.length && completions[head]! <= now - longest) head++
      if (head > 1024 && head * 2 > completions.length) {
        completions = completions.slice(head)
        head = 0
      }
    }

    // Index of the first completion still inside a window ending now.
    const firstWithin = (now: number, windowMillis: number) => {
      let lo = head, hi = completions.length
      const bound = now - windowMillis
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (completions[mid]! <= bound) lo = mid + 1
        else hi = mid
      }
      return lo
    }

    // Either room now (undefined) or how to wait: until a time, or (null) for an in-flight request to complete.
    const nextOpening = (now: number): number | null | undefined => {
      let wakeAt: number | null | undefined = undefined
      const share = shareAt(now)
      for (const window of normalized) {
        const windowMillis = window.windowMillis
        const limit = limitOf(window.limit, share)
        const first = firstWithin(now, windowMillis)
        const completed = completions.length - first
        const excess = inFlight + completed - limit + 1
        if (excess <= 0) continue
        if (excess > completed) {
          wakeAt = null
          break
        }
        const at = completions[first + excess - 1]! + windowMillis
        wakeAt = wakeAt === undefined ? at : Math.max(wakeAt, at)
      }
      if (wakeAt === undefined || share >= 1) return wakeAt
      // while the share comes back, a limit grows by one request at a known time: look again then
      const grows = Math.ceil(
        Math.min(
          ...normalized.map((w) => cutAt + ((limitOf(w.limit, share) + 1) / w.limit - cutShare) * recoveryMillis)
        )
      )
      return wakeAt === null ? Math.max(now + 1, grows) : Math.max(now + 1, Math.min(wakeAt, grows))
    }

    const waitForRoom = (token: { held: boolean }): Effect.Effect<void> =>
      Effect.suspend(() => {
        const now = nowMillis()
        trim(now)
        const opening = nextOpening(now)
        if (opening === undefined) {
          inFlight++
          token.held = true
          return Effect.void
        }
        const signal = Deferred.await(released)
        const wait = opening === null
          ? signal
          : Effect.raceFirst(signal, clock.sleep(Duration.millis(Math.max(1, opening - now))))
        return Effect.zipRight(wait, waitForRoom(token))
      })

    const release = (token: { held: boolean }) =>
      Effect.suspend(() => {
        if (!token.held) return Effect.void
        token.held = false
        inFlight--
        completions.push(nowMillis())
        const done = released
        return Effect.flatMap(Deferred.make<void>(), (next) => {
          released = next
          return Deferred.succeed(done, undefined)
        })
      })

    const limiter: RollingWindowLimiter = {
      [TypeId]: TypeId,
      windows: normalized,
      withPermit: (effect) =>
        Effect.suspend(() => {
          const token = { held: false }
          return turnstile.withPermits(1)(waitForRoom(token)).pipe(
            Effect.zipRight(effect),
            Effect.ensuring(release(token))
          )
        }),
      inFlight: Effect.sync(() => inFlight),
      backOff: Effect.sync(() => {
        const now = nowMillis()
        cutShare = Math.max(floor, shareAt(now) * SHARE_CUT)
        cutAt = now
      }),
      share: Effect.sync(() => shareAt(nowMillis()))
    }
    return limiter
  })

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

/**
 * The fewest milliseconds in which `requests` requests can all be sent under the given windows, with instant
 * responses: the schedule a perfect limiter would follow. Benchmarks divide the measured span by it.
 *
 * @since 0.1.0
 * @category utils
 */
export const fastestSpanMillis = (windows: ReadonlyArray<Window>, requests: number): number => {
  const normalized = validate(windows)
  const sends: Array<number> = []
  for (let i = 0; i < requests; i++) {
    let t = i === 0 ? 0 : sends[i - 1]!
    for (const { limit, windowMillis } of normalized) {
      // Request i may go once request i - limit has left the window.
      if (i >= limit) t = Math.max(t, sends[i - limit]! + windowMillis)
    }
    sends.push(t)
  }
  return requests === 0 ? 0 : sends[requests - 1]!
}
