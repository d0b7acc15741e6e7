/**
 * Rolling-window (sliding-log) rate limiting as DigiCert applies it per API key, driven by the caller's clock so it
 * can be checked against a reference model without waiting.
 *
 * @since 0.1.0
 */
import { RollingWindowLimiter } from "@certcentral/core"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"

/**
 * At most `limit` requests in any `windowMs` milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Window {
  readonly limit: number
  readonly windowMs: number
}

/**
 * A list of windows that all apply, or `"off"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Setting = ReadonlyArray<Window> | "off"

/**
 * DigiCert's documented limits: 100 requests per 5 seconds and 1000 per 3 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const digicertWindows: ReadonlyArray<Window> = [{ limit: 100, windowMs: 5_000 }, {
  limit: 1000,
  windowMs: 180_000
}]

/**
 * The outcome for one arrival: admitted, or refused with the time until an arrival would be admitted.
 *
 * @since 0.1.0
 * @category models
 */
export type Decision =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly retryAfterMs: number }

/**
 * A sliding-log limiter. An arrival at time `t` is admitted when, for every window, fewer than `limit` admitted
 * arrivals happened in `(t - windowMs, t]`; refused arrivals do not count. Times are milliseconds and must not go
 * backwards (an earlier time is treated as the latest one seen).
 *
 * @since 0.1.0
 * @category models
 */
export interface RollingWindowLimiter {
  readonly windows: ReadonlyArray<Window>
  readonly tryAcquire: (now: number) => Decision
  readonly reset: () => void
}

const admitted: Decision = { admitted: true }

/**
 * Build a limiter. Each window keeps only its last `limit` admitted arrival times in a ring: an arrival is refused
 * exactly when the oldest of those is still inside the window, so each check is O(number of windows).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (windows: ReadonlyArray<Window>): RollingWindowLimiter => {
  for (const w of windows) {
    if (!Number.isSafeInteger(w.limit) || w.limit < 1 || !(w.windowMs > 0)) {
      throw new RangeError(`invalid rate-limit window ${w.limit}/${w.windowMs}ms`)
    }
  }
  const rings = windows.map((w) => ({ ...w, times: new Float64Array(w.limit), head: 0, count: 0 }))
  let last = -Infinity
  return {
    windows,
    tryAcquire: (time) => {
      const now = Math.max(time, last)
      last = now
      let waitMs = 0
      for (const ring of rings) {
        if (ring.count === ring.limit) {
          const oldest = ring.times[ring.head]
          if (oldest > now - ring.windowMs) waitMs = Math.max(waitMs, oldest + ring.windowMs - now)
        }
      }
      if (waitMs > 0) return { admitted: false, retryAfterMs: waitMs }
      for (const ring of rings) {
        if (ring.count < ring.limit) {
          ring.times[(ring.head + ring.count) % ring.limit] = now
          ring.count++
        } else {
          ring.times[ring.head] = now
          ring.head = (ring.head + 1) % ring.limit
        }
      }
      return admitted
    },
    reset: () => {
      last = -Infinity
      for (const ring of rings) {
        ring.head = 0
        ring.count = 0
      }
    }
  }
}

/**
 * Parse `N/DURATION` windows joined by commas (`100/5s,1000/3m`; units `ms`, `s`, `m`, `h`), or `off`: the grammar of
 * the client's `--rate-limit` (core's `RollingWindowLimiter.parse`, the one definition), in milliseconds.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (spec: string): Either.Either<Setting, string> =>
  Either.map(
    RollingWindowLimiter.parse(spec),
    (setting): Setting =>
      setting === "off"
        ? "off"
        : setting.map((w) => ({ limit: w.limit, windowMs: Duration.toMillis(Duration.decode(w.window)) }))
  )

/**
 * Format windows back into the `N/DURATION` grammar, e.g. for a startup banner.
 *
 * @since 0.1.0
 * @category parsing
 */
export const format = (setting: Setting): string =>
  setting === "off"
    ? "off"
    : setting.map((w) =>
      w.windowMs % 3_600_000 === 0
        ? `${w.limit}/${w.windowMs / 3_600_000}h`
        : w.windowMs % 60_000 === 0
        ? `${w.limit}/${w.windowMs / 60_000}m`
        : w.windowMs % 1000 === 0
        ? `${w.limit}/${w.windowMs / 1000}s`
        : `${w.limit}/${w.windowMs}ms`
    ).join(",")
