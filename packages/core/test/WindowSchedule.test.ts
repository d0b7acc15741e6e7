import { describe, expect, it } from "@effect/vitest"
import { RollingWindowLimiter, WindowSchedule } from "../src/index.js"

const digicert = [{ limit: 100, windowMillis: 5000 }, { limit: 1000, windowMillis: 180_000 }]

/** The rule one request at a time: request j starts at the latest of now and each window's (j - limit)-th start + W. */
const reference = (
  windows: ReadonlyArray<{ readonly limit: number; readonly windowMillis: number }>,
  history: ReadonlyArray<number>,
  requests: number,
  now: number
) => {
  const starts = [...history].sort((a, b) => a - b)
  let last = now
  for (let n = 0; n < requests; n++) {
    let t = Math.max(now, starts.at(-1) ?? now)
    for (const { limit, windowMillis } of windows) {
      if (starts.length >= limit) t = Math.max(t, starts[starts.length - limit]! + windowMillis)
    }
    starts.push(t)
    last = t
  }
  return last
}

describe("WindowSchedule", () => {
  it("places requests from an idle key the way the limiter's rule does, in both window shapes", () => {
    expect(WindowSchedule.leastMillis(digicert, 0)).toBe(0)
    expect(WindowSchedule.leastMillis(digicert, 100)).toBe(0)
    expect(WindowSchedule.leastMillis(digicert, 101)).toBe(5000)
    expect(WindowSchedule.leastMillis(digicert, 1000)).toBe(45_000)
    expect(WindowSchedule.leastMillis(digicert, 1001)).toBe(180_000)
    expect(WindowSchedule.leastMillis(RollingWindowLimiter.digicertDefault, 2500)).toBe(360_000 + 20_000)
    for (const n of [1, 99, 250, 1999, 3001]) {
      expect(WindowSchedule.leastMillis(digicert, n)).toBe(reference(digicert, [], n, 0))
    }
  })

  it("gives the issue's plan: 42,104 requests need at least 2h06m at 1000/3m", () => {
    expect(WindowSchedule.leastMillis([{ limit: 1000, window: "3 minutes" }], 42_104)).toBe(126 * 60_000)
    expect(WindowSchedule.format(digicert)).toBe("100/5s,1000/3m")
    expect(WindowSchedule.format([{ limit: 5, window: "1500 millis" }, { limit: 9, window: "2 hours" }])).toBe(
      "5/1500ms,9/2h"
    )
  })

  it("counts the history: starts inside a window delay the next ones, older ones do not", () => {
    // 60 requests in the last second and 950 in the last 3 minutes
    const history = [{ at: 100_000, count: 890 }, { at: 189_000, count: 60 }]
    const now = 190_000
    // the 3 min window has 50 left: the 5 s one lets 40 now and 10 more at 194 s; the 51st waits for 100 s + 3 min
    expect(WindowSchedule.earliestStart(digicert, history, 40, now)).toBe(now)
    expect(WindowSchedule.earliestStart(digicert, history, 50, now)).toBe(194_000)
    expect(WindowSchedule.earliestStart(digicert, history, 51, now)).toBe(280_000)
    // a start exactly one window ago has left it
    expect(WindowSchedule.earliestStart(digicert, [{ at: 10_000, count: 1000 }], 100, 190_000)).toBe(190_000)
    expect(WindowSchedule.earliestStart(digicert, [{ at: 0, count: 1000 }], 1, 180_000)).toBe(180_000)
  })

  it("agrees with the one-at-a-time rule on random windows, histories and counts", () => {
    let seed = 7
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    for (let round = 0; round < 200; round++) {
      const windows = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
        limit: 1 + Math.floor(random() * 20),
        windowMillis: 1 + Math.floor(random() * 5000)
      }))
      const now = 10_000
      const history = Array.from({ length: Math.floor(random() * 40) }, () => now - Math.floor(random() * 6000))
      const requests = Math.floor(random() * 120)
      const batches = history.map((at) => ({ at, count: 1 }))
      // the reference applies every past start, the schedule only those inside the longest window: same answer
      expect(WindowSchedule.earliestStart(windows, batches, requests, now)).toBe(
        reference(
          windows,
          history.filter((at) => at > now - Math.max(...windows.map((w) => w.windowMillis))),
          requests,
          now
        )
      )
    }
  })

  it("starts everything now without windows, and counts what a span allows", () => {
    expect(WindowSchedule.earliestStart([], [{ at: 0, count: 5 }], 1e6, 42)).toBe(42)
    expect(WindowSchedule.capacity([], 1000)).toBe(Infinity)
    expect(WindowSchedule.capacity(digicert, 0)).toBe(100)
    expect(WindowSchedule.capacity(digicert, 49_999)).toBe(1000)
    expect(WindowSchedule.capacity(digicert, 180_000)).toBe(1100)
    expect(WindowSchedule.capacity(digicert, 3_600_000)).toBe(20_100)
  })

  it("places 100,000 requests in about a thousand steps", () => {
    // 100 per 5 s: 1000 openings; 1000 per 3 min caps it at 100 windows of 3 minutes
    expect(WindowSchedule.leastMillis(digicert, 100_000)).toBe(99 * 180_000 + 45_000)
  })
})
