import { RollingWindowLimiter } from "@certcentral/core"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either, Fiber, TestClock } from "effect"

interface Interval {
  readonly start: number
  readonly end: number
}

// Reference model of the server: a sliding log that counts arrivals in (T - W, T].
const maxInAnyWindow = (arrivals: ReadonlyArray<number>, windowMillis: number): number => {
  const sorted = [...arrivals].sort((a, b) => a - b)
  let best = 0
  let lo = 0
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[lo]! <= sorted[hi]! - windowMillis) lo++
    best = Math.max(best, hi - lo + 1)
  }
  return best
}

// Runs `requests` through the limiter from `fibers` concurrent fibers; each request takes latency(i) ms.
const runLoad = (
  limiter: RollingWindowLimiter.RollingWindowLimiter,
  fibers: number,
  perFiber: number,
  latency: (i: number) => number
) =>
  Effect.gen(function*() {
    const intervals: Array<Interval> = []
    let counter = 0
    const one = Effect.gen(function*() {
      const i = counter++
      const start = yield* Clock.currentTimeMillis
      yield* Effect.sleep(Duration.millis(latency(i)))
      const end = yield* Clock.currentTimeMillis
      intervals.push({ start, end })
    })
    const worker = Effect.forEach(Array.from({ length: perFiber }), () => limiter.withPermit(one), { discard: true })
    const fiber = yield* Effect.fork(Effect.all(Array.from({ length: fibers }, () => worker), {
      concurrency: "unbounded",
      discard: true
    }))
    // TestClock runs every sleep due within the adjustment, in time order, including ones scheduled meanwhile.
    while (fiber.unsafePoll() === null) yield* TestClock.adjust("1 second")
    yield* Fiber.join(fiber)
    return intervals
  })

describe("RollingWindowLimiter", () => {
  it.effect("keeps 50 concurrent fibers within every rolling window, wherever in transit the server counts", () =>
    Effect.gen(function*() {
      const windows = [{ limit: 10, window: "500 millis" }, { limit: 100, window: "10 seconds" }] as const
      const limiter = yield* RollingWindowLimiter.make(windows)
      // Latencies from 0 to 299 ms, deterministic.
      const intervals = yield* runLoad(limiter, 50, 6, (i) => (i * 37) % 300)
      expect(intervals).toHaveLength(300)
      for (const { limit, windowMillis } of limiter.windows) {
        // The server may count a request at any instant between send and response: check the extremes and a mix.
        expect(maxInAnyWindow(intervals.map((r) => r.start), windowMillis)).toBeLessThanOrEqual(limit)
        expect(maxInAnyWindow(intervals.map((r) => r.end), windowMillis)).toBeLessThanOrEqual(limit)
        expect(maxInAnyWindow(intervals.map((r, i) => (i % 2 === 0 ? r.start : r.end)), windowMillis))
          .toBeLessThanOrEqual(limit)
      }
      expect(yield* limiter.inFlight).toBe(0)
    }))

  it.effect("with instant responses, follows the fastest schedule the windows allow", () =>
    Effect.gen(function*() {
      const windows: ReadonlyArray<RollingWindowLimiter.Window> = [
        { limit: 10, window: "500 millis" },
        { limit: 100, window: "10 seconds" }
      ]
      const limiter = yield* RollingWindowLimiter.make(windows)
      const intervals = yield* runLoad(limiter, 20, 13, () => 0)
      const starts = intervals.map((r) => r.start).sort((a, b) => a - b)
      expect(starts).toHaveLength(260)
      expect(starts[0]).toBe(0)
      // the fastest schedule: request i waits for i - 10 plus 500 ms and i - 100 plus 10 s; the 260th goes at 22.5 s
      expect(starts[starts.length - 1]).toBe(22_500)
      // 100 at once would break the 10 / 500 ms window: the first ten go together, the eleventh 500 ms later.
      expect(starts[9]).toBe(0)
      expect(starts[10]).toBe(500)
    }))

  it.effect("is not a token bucket: a full window is not followed by a second burst", () =>
    Effect.gen(function*() {
      const limiter = yield* RollingWindowLimiter.make([{ limit: 5, window: "1 second" }])
      const intervals = yield* runLoad(limiter, 10, 1, () => 0)
      const starts = intervals.map((r) => r.start).sort((a, b) => a - b)
      expect(starts).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000])
    }))

  it.effect("counts a slow request until its response is back", () =>
    Effect.gen(function*() {
      const limiter = yield* RollingWindowLimiter.make([{ limit: 2, window: "1 second" }])
      // Two requests take 3 s each; the third may only go one window after the first response.
      const intervals = yield* runLoad(limiter, 3, 1, (i) => (i < 2 ? 3000 : 0))
      const third = intervals.find((r) => r.end === r.start)!
      expect(third.start).toBe(4000)
    }))

  it.effect("frees the slot of a fiber interrupted while waiting or running", () =>
    Effect.gen(function*() {
      const limiter = yield* RollingWindowLimiter.make([{ limit: 1, window: "1 second" }])
      const running = yield* Effect.fork(limiter.withPermit(Effect.never))
      yield* TestClock.adjust("10 millis")
      expect(yield* limiter.inFlight).toBe(1)
      const waiting = yield* Effect.fork(limiter.withPermit(Effect.void))
      yield* TestClock.adjust("10 millis")
      yield* Fiber.interrupt(waiting)
      yield* Fiber.interrupt(running)
      expect(yield* limiter.inFlight).toBe(0)
      // The interrupted request still counts for its window: the next one waits until it has passed.
      const next = yield* Effect.fork(limiter.withPermit(Clock.currentTimeMillis))
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(next)).toBe(1020)
    }))

  it("parses window specs as the CLI takes them", () => {
    expect(RollingWindowLimiter.parse("off")).toEqual(Either.right("off"))
    const parsed = RollingWindowLimiter.parse("100/5s, 1000/3m,7/250ms,1/1h")
    expect(Either.isRight(parsed)).toBe(true)
    const windows = Either.getOrThrow(parsed) as ReadonlyArray<RollingWindowLimiter.Window>
    expect(windows.map((w) => [w.limit, Duration.toMillis(Duration.decode(w.window))])).toEqual([
      [100, 5000],
      [1000, 180_000],
      [7, 250],
      [1, 3_600_000]
    ])
    for (const bad of ["", "100", "100/5", "0/5s", "100/0s", "-1/5s", "100/5d", "1e3/5s", "100/5s,"]) {
      expect(Either.isLeft(RollingWindowLimiter.parse(bad)), bad).toBe(true)
    }
  })

  it("rejects windows that cannot work", () => {
    expect(() => Effect.runSync(RollingWindowLimiter.make([{ limit: 0, window: "1 second" }]))).toThrow(/limit/)
    expect(() => Effect.runSync(RollingWindowLimiter.make([{ limit: 1, window: 0 }]))).toThrow(/length/)
  })

  it.effect("after backOff keeps a quarter below each limit, then wins a tenth back per longest window", () =>
    Effect.gen(function*() {
      const windows = [{ limit: 100, window: "10 seconds" }] as const
      const limiter = yield* RollingWindowLimiter.make(windows)
      expect(yield* limiter.share).toBe(1)
      yield* limiter.backOff
      expect(yield* limiter.share).toBe(0.75)
      // a burst of instant requests: only 75 fit in the window now
      const started: Array<number> = []
      const fiber = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 80 }),
          () => limiter.withPermit(Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => started.push(t)))),
          { concurrency: "unbounded", discard: true }
        )
      )
      yield* TestClock.adjust("1 millis")
      expect(started).toHaveLength(75)
      // after 5 s the share is 0.8: room for 80 in the window, so the others go
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(fiber)
      expect(started).toHaveLength(80)
      expect(Math.max(...started)).toBeLessThanOrEqual(5_001)
      expect(yield* limiter.share).toBeCloseTo(0.8, 3)
      // a second cut is a quarter of what is left; 40 s later (a tenth per 10 s) it is back to 1
      yield* limiter.backOff
      expect(yield* limiter.share).toBeCloseTo(0.6, 3)
      yield* TestClock.adjust("40 seconds")
      expect(yield* limiter.share).toBe(1)
    }))

  it.effect("never lowers a limit below one request", () =>
    Effect.gen(function*() {
      const limiter = yield* RollingWindowLimiter.make([{ limit: 2, window: "1 second" }])
      for (let i = 0; i < 20; i++) yield* limiter.backOff
      expect(yield* limiter.share).toBeGreaterThan(0)
      const done = yield* Effect.fork(limiter.withPermit(Effect.void))
      yield* TestClock.adjust("1 millis")
      expect(done.unsafePoll()).not.toBeNull()
      expect(yield* RollingWindowLimiter.unlimited.share).toBe(1)
    }))

  it.effect("times completions to the sub-millisecond: a next request never starts early by a rounded-down millisecond", () =>
    Effect.gen(function*() {
      // Node's clocks: the wall clock in whole milliseconds, the monotonic one finer. Here the monotonic time runs
      // `fraction` ms ahead of the (test) wall clock; sleeps follow the test clock.
      const testClock = yield* Effect.clock
      let fraction = 0
      const clock: Clock.Clock = Object.assign(Object.create(testClock) as Clock.Clock, {
        unsafeCurrentTimeNanos: () =>
          BigInt(testClock.unsafeCurrentTimeMillis()) * BigInt(1_000_000) + BigInt(Math.round(fraction * 1_000_000))
      })
      const limiter = yield* RollingWindowLimiter.make([{ limit: 1, window: "250 millis" }]).pipe(
        Effect.withClock(clock)
      )
      fraction = 0.9 // the first request completes at 0.9 ms: the wall clock says 0
      yield* limiter.withPermit(Effect.void)
      yield* TestClock.adjust("250 millis")
      fraction = 0.5 // 250.5 ms: whole milliseconds would say the window since the completion has passed; it has not
      const next = yield* Effect.fork(limiter.withPermit(Effect.void))
      yield* Effect.yieldNow()
      expect(next.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis") // 251.5 ms: past 250.9
      yield* Effect.yieldNow()
      expect(next.unsafePoll()).not.toBeNull()
    }))
})
