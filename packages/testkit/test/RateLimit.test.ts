import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Random from "../src/internal/random.js"
import * as RateLimit from "../src/RateLimit.js"

/** The obvious model: keep every admitted time, admit when each window holds fewer than `limit` of them. */
const reference = (windows: ReadonlyArray<RateLimit.Window>, times: ReadonlyArray<number>): Array<boolean> => {
  const admitted: Array<number> = []
  return times.map((t) => {
    const ok = windows.every((w) => admitted.filter((a) => a > t - w.windowMs).length < w.limit)
    if (ok) admitted.push(t)
    return ok
  })
}

const arrivals = (seed: number, count: number, meanGapMs: number): Array<number> => {
  const random = Random.make(seed)
  let t = 1_000_000
  return Array.from({ length: count }, () => {
    // bursts of simultaneous arrivals, short gaps and long pauses
    const r = random()
    t += r < 0.3 ? 0 : r < 0.95 ? Math.floor(random() * meanGapMs * 2) : Math.floor(random() * meanGapMs * 200)
    return t
  })
}

describe("RollingWindowLimiter", () => {
  it("admits exactly what the sliding-window reference admits", () => {
    const cases: Array<ReadonlyArray<RateLimit.Window>> = [
      [{ limit: 5, windowMs: 100 }],
      [{ limit: 3, windowMs: 50 }, { limit: 10, windowMs: 1000 }],
      [{ limit: 100, windowMs: 5_000 }, { limit: 1000, windowMs: 180_000 }],
      [{ limit: 1, windowMs: 10 }]
    ]
    for (const [i, windows] of cases.entries()) {
      for (const seed of [1, 2, 3]) {
        const times = arrivals(seed * 31 + i, 3000, windows[0].windowMs / windows[0].limit / 2)
        const limiter = RateLimit.make(windows)
        const actual = times.map((t) => limiter.tryAcquire(t).admitted)
        const expected = reference(windows, times)
        expect(actual).toEqual(expected)
        expect(actual.some((a) => !a)).toBe(true)
        expect(actual.some((a) => a)).toBe(true)
      }
    }
  })

  it("never admits more than the limit in any window", () => {
    const windows = [{ limit: 10, windowMs: 1000 }]
    const limiter = RateLimit.make(windows)
    const admitted = arrivals(9, 5000, 50).filter((t) => limiter.tryAcquire(t).admitted)
    for (let i = 10; i < admitted.length; i++) expect(admitted[i] - admitted[i - 10]).toBeGreaterThanOrEqual(1000)
  })

  it("says how long until the next arrival would be admitted", () => {
    const limiter = RateLimit.make([{ limit: 2, windowMs: 1000 }])
    expect(limiter.tryAcquire(0).admitted).toBe(true)
    expect(limiter.tryAcquire(400).admitted).toBe(true)
    expect(limiter.tryAcquire(500)).toEqual({ admitted: false, retryAfterMs: 500 })
    expect(limiter.tryAcquire(1000).admitted).toBe(true)
    limiter.reset()
    expect(limiter.tryAcquire(1001).admitted).toBe(true)
  })

  it("rejects windows with no room", () => {
    expect(() => RateLimit.make([{ limit: 0, windowMs: 1000 }])).toThrow()
  })
})

describe("RateLimit.parse", () => {
  it("reads N/DURATION lists and off", () => {
    expect(RateLimit.parse("100/5s,1000/3m")).toEqual(Either.right(RateLimit.digicertWindows))
    expect(RateLimit.parse("10/250ms, 5/1h")).toEqual(
      Either.right([{ limit: 10, windowMs: 250 }, { limit: 5, windowMs: 3_600_000 }])
    )
    expect(RateLimit.parse("off")).toEqual(Either.right("off"))
    expect(RateLimit.format(RateLimit.digicertWindows)).toBe("100/5s,1000/3m")
  })

  it("refuses anything else", () => {
    for (const spec of ["", "100", "100/5", "100/5d", "0/5s", "100/0s", "a/5s", "100/5s,"]) {
      expect(Either.isLeft(RateLimit.parse(spec))).toBe(true)
    }
  })
})
