/**
 * When requests can go under rolling windows: the earliest time N more requests can all have started, given the
 * starts so far, and the least time a number of requests needs from an idle key. Pure arithmetic on milliseconds,
 * for an ETA that knows the windows and for a plan made before any request.
 *
 * The rule is the limiter's: a window of `limit` requests per `windowMillis` lets request `j` start no earlier than
 * request `j - limit`'s start plus `windowMillis`. The schedule is computed in batches (every request that may start
 * at one instant starts then), so its cost grows with the number of window openings, not with the requests: 100,000
 * requests under DigiCert's windows are about a thousand steps.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"

/**
 * A rolling window, in either of the shapes core gives it: as `RollingWindowLimiter.parse` and the client's options
 * give it (`window` as a duration), or as a limiter's `windows` give it (`windowMillis`).
 *
 * @since 0.2.0
 * @category models
 */
export type Window =
  | { readonly limit: number; readonly windowMillis: number }
  | { readonly limit: number; readonly window: Duration.DurationInput }

/**
 * Requests that started at one instant: `count` of them at `at` (milliseconds on the caller's clock). A coarse
 * history (a counter read now and then, its increase put at the time of the read) is a list of these too; it places
 * the requests a little later than they went, so the schedule it gives is a little late, never early.
 *
 * @since 0.2.0
 * @category models
 */
export interface Batch {
  readonly at: number
  readonly count: number
}

const normalize = (windows: ReadonlyArray<Window>): Array<{ readonly limit: number; readonly windowMillis: number }> =>
  windows.map((w) => ({
    limit: Math.max(1, Math.floor(w.limit)),
    windowMillis: "windowMillis" in w ? w.windowMillis : Duration.toMillis(Duration.decode(w.window))
  })).filter((w) => w.windowMillis > 0 && Number.isFinite(w.windowMillis))

/**
 * Walks the greedy schedule from `now`: calls `take(at, room)` at each instant where `room` more requests may start
 * (after the `history` and what was taken before), with the count it takes; stops when it takes none.
 */
const walk = (
  windows: ReadonlyArray<Window>,
  history: ReadonlyArray<Batch>,
  now: number,
  take: (at: number, room: number) => number
): void => {
  const ws = normalize(windows)
  if (ws.length === 0) {
    take(now, Infinity)
    return
  }
  const longest = Math.max(...ws.map((w) => w.windowMillis))
  const batches: Array<Batch> = []
  for (const b of history) {
    if (b.count > 0 && b.at > now - longest) batches.push({ at: Math.min(b.at, now), count: b.count })
  }
  batches.sort((a, b) => a.at - b.at)
  // requests before each batch: a window's count is a difference, and the start that must leave it a binary search
  const before: Array<number> = [0]
  for (const b of batches) before.push(before[before.length - 1]! + b.count)
  const first = ws.map(() => 0)
  let t = now
  for (;;) {
    const sent = before[before.length - 1]!
    let room = Infinity
    let opensAt = t
    for (let i = 0; i < ws.length; i++) {
      const { limit, windowMillis } = ws[i]!
      let k = first[i]!
      while (k < batches.length && batches[k]!.at + windowMillis <= t) k++
      first[i] = k
      const inside = sent - before[k]!
      room = Math.min(room, limit - inside)
      if (inside >= limit) {
        // (the same sum as the test above: with fractional times a different one could loop on one instant)
        // the window has room once its oldest `inside - limit + 1` starts have left it: find the batch of the last
        const target = before[k]! + inside - limit + 1
        let lo = k, hi = batches.length - 1
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          if (before[mid + 1]! >= target) hi = mid
          else lo = mid + 1
        }
        opensAt = Math.max(opensAt, batches[lo]!.at + windowMillis)
      }
    }
    if (room > 0) {
      const taken = take(t, room)
      if (taken <= 0) return
      batches.push({ at: t, count: taken })
      before.push(sent + taken)
    } else {
      t = opensAt
    }
  }
}

/**
 * The earliest time at which `requests` more requests can all have started under the windows, after the starts in
 * `history` (any order; those older than the longest window are ignored), starting no earlier than `now`. `now`
 * itself when `requests` is 0 or there are no windows.
 *
 * @example
 * ```ts
 * import { WindowSchedule } from "@certcentral/core"
 *
 * // 250 requests at 100 per 5 s: 100 now, 100 at 5 s, the last 50 at 10 s
 * assert.strictEqual(WindowSchedule.earliestStart([{ limit: 100, window: "5 seconds" }], [], 250, 0), 10_000)
 * ```
 *
 * @since 0.2.0
 * @category scheduling
 */
export const earliestStart = (
  windows: ReadonlyArray<Window>,
  history: ReadonlyArray<Batch>,
  requests: number,
  now: number
): number => {
  let left = Math.ceil(requests)
  if (!(left > 0)) return now
  let last = now
  walk(windows, history, now, (at, room) => {
    const taken = Math.min(room, left)
    left -= taken
    last = at
    return left > 0 ? taken : 0
  })
  return last
}

/**
 * The least time in which `requests` requests can all have started on a key nobody used for the longest window:
 * the floor a plan can promise (`20,000 orders x 3 requests at 1000/3m: at least 2h57m`). Responses take time on
 * top of it.
 *
 * @since 0.2.0
 * @category scheduling
 */
export const leastMillis = (windows: ReadonlyArray<Window>, requests: number): number =>
  earliestStart(windows, [], requests, 0)

/**
 * The most requests that can start within `millis` (both ends included) on a key nobody used before: what a run of
 * that length could have sent at best. `Infinity` without windows.
 *
 * @since 0.2.0
 * @category scheduling
 */
export const capacity = (windows: ReadonlyArray<Window>, millis: number): number => {
  let total = 0
  walk(windows, [], 0, (at, room) => {
    if (at > millis || room === Infinity) {
      if (room === Infinity) total = Infinity
      return 0
    }
    total += room
    return room
  })
  return total
}

/**
 * Windows as people write them, the way `--rate-limit` takes them: `100/5s,1000/3m`.
 *
 * @since 0.2.0
 * @category rendering
 */
export const format = (windows: ReadonlyArray<Window>): string =>
  normalize(windows).map(({ limit, windowMillis }) => {
    const [unit, size] = windowMillis % 3_600_000 === 0
      ? ["h", 3_600_000]
      : windowMillis % 60_000 === 0
      ? ["m", 60_000]
      : windowMillis % 1000 === 0
      ? ["s", 1000]
      : ["ms", 1]
    return `${limit}/${windowMillis / (size as number)}${unit}`
  }).join(",")
