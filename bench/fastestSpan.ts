// The benchmarks' yardstick for a limiter, not part of any package's API.
import { RollingWindowLimiter } from "@certcentral/core"

/**
 * The fewest milliseconds in which `requests` requests can all be sent under the given windows, with instant
 * responses: the schedule a perfect limiter would follow. Benchmarks divide the measured span by it. For 10/500ms and
 * 100/10s: 10 requests take 0 ms, 11 take 500, 100 take 4500, 101 take 10000.
 */
export const fastestSpanMillis = (windows: ReadonlyArray<RollingWindowLimiter.Window>, requests: number): number => {
  const normalized = RollingWindowLimiter.normalize(windows)
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
