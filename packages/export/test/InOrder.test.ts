import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Fiber, Option, Stream, TestClock } from "effect"
import { mapInOrder } from "../src/internal/inOrder.js"

// Each element finishes after its own delay (TestClock seconds); the log says what started, ended and was cut off.
const tracked = (delayOf: (n: number) => number) => {
  const log = { started: [] as Array<number>, ended: [] as Array<number>, interrupted: [] as Array<number> }
  let inFlight = 0
  let maxInFlight = 0
  const f = (n: number) =>
    Effect.suspend(() => {
      log.started.push(n)
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      return Effect.sleep(`${delayOf(n)} seconds`).pipe(
        Effect.as(n * 10),
        Effect.ensuring(Effect.sync(() => inFlight--)),
        Effect.onInterrupt(() => Effect.sync(() => log.interrupted.push(n))),
        Effect.tap(() => Effect.sync(() => log.ended.push(n)))
      )
    })
  return { log, f, maxInFlight: () => maxInFlight }
}

describe("mapInOrder", () => {
  it.effect("keeps input order, holds at most `concurrency` in flight, and takes chunks of any size", () =>
    Effect.gen(function*() {
      // later elements finish first
      const t = tracked((n) => 1 + ((n * 7) % 5))
      const input = Stream.fromIterable(Array.from({ length: 40 }, (_, i) => i + 1)).pipe(Stream.rechunk(3))
      const fiber = yield* Effect.fork(Stream.runCollect(mapInOrder(input, 4, t.f)))
      yield* TestClock.adjust("1 minute")
      const out = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(out).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) * 10))
      expect(t.maxInFlight()).toBe(4)
      expect(t.log.ended.slice(0, 4)).not.toEqual([1, 2, 3, 4])
    }))

  it.effect("an element's failure ends the stream after every result before it, and no more are taken", () =>
    Effect.gen(function*() {
      const t = tracked((n) => (n === 5 ? 1 : 3))
      const f = (n: number) => n === 5 ? Effect.zipRight(t.f(n), Effect.fail(`bad ${n}`)) : t.f(n)
      const emitted: Array<number> = []
      const fiber = yield* Effect.fork(
        Stream.runForEach(mapInOrder(Stream.range(1, 20), 3, f), (b) => Effect.sync(() => emitted.push(b)))
          .pipe(Effect.exit)
      )
      yield* TestClock.adjust("1 minute")
      const exit = yield* Fiber.join(fiber)
      expect(exit).toEqual(Exit.fail("bad 5"))
      // 1 to 3 ended at 3 s; 4, 5 and 6 started then, and 5 failed at 4 s, before 4 ended (6 s): everything before 5,
      // in order, then the failure
      expect(emitted).toEqual([10, 20, 30, 40])
      // once 5 had failed no worker took another element: nothing after 6 started, nothing was left running
      expect(t.log.started).toEqual([1, 2, 3, 4, 5, 6])
      expect(t.log.interrupted).toEqual([])
    }))

  it.effect("a failing input ends the stream after the results of every element before the failure", () =>
    Effect.gen(function*() {
      const t = tracked(() => 2)
      const input = Stream.concat(Stream.range(1, 5), Stream.fail("unreadable"))
      const emitted: Array<number> = []
      const fiber = yield* Effect.fork(
        Stream.runForEach(mapInOrder(input, 2, t.f), (b) => Effect.sync(() => emitted.push(b))).pipe(Effect.exit)
      )
      yield* TestClock.adjust("1 minute")
      expect(yield* Fiber.join(fiber)).toEqual(Exit.fail("unreadable"))
      expect(emitted).toEqual([10, 20, 30, 40, 50])
    }))

  it.effect("a defect in an element is the stream's defect, in order", () =>
    Effect.gen(function*() {
      const f = (n: number) => n === 3 ? Effect.dieMessage("boom") : Effect.succeed(n)
      const exit = yield* Effect.exit(Stream.runCollect(mapInOrder(Stream.range(1, 10), 4, f)))
      expect(Exit.isFailure(exit) && Option.isSome(Cause.dieOption(exit.cause))).toBe(true)
    }))

  it.effect("a consumer that stops early interrupts the work in flight and starts nothing more", () =>
    Effect.gen(function*() {
      const t = tracked(() => 1)
      const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(mapInOrder(Stream.range(1, 1000), 4, t.f), 6)))
      yield* TestClock.adjust("1 minute")
      expect(Chunk.toReadonlyArray(yield* Fiber.join(fiber))).toEqual([10, 20, 30, 40, 50, 60])
      // what ran ahead of the consumer stays within the window (2 × 4); whatever had started and not ended was
      // interrupted, and nothing starts after the stream ended
      const started = [...t.log.started]
      expect(started.length).toBeGreaterThan(6)
      expect(started.length).toBeLessThanOrEqual(6 + 8)
      expect(t.log.interrupted.sort((a, b) => a - b)).toEqual(started.filter((n) => !t.log.ended.includes(n)))
      expect(t.log.interrupted.length).toBeGreaterThan(0)
      yield* TestClock.adjust("1 minute")
      expect(t.log.started).toEqual(started)
    }))

  it.effect("a slow consumer holds the workers back: results waiting are bounded by a window, not by the input", () =>
    Effect.gen(function*() {
      const t = tracked(() => 0)
      let read = 0
      const fiber = yield* Effect.fork(
        Stream.runForEach(
          mapInOrder(Stream.range(1, 100), 4, t.f),
          () => Effect.zipRight(Effect.sleep("1 second"), Effect.sync(() => read++))
        )
      )
      yield* TestClock.adjust("10 seconds")
      // read 10; what started beyond them is bounded by the window (8 results waiting) and the chunk being read (at
      // most 8 more), not by the input's 100
      expect(read).toBe(10)
      expect(t.log.started.length - read).toBeLessThanOrEqual(2 * 8)
      yield* TestClock.adjust("2 minutes")
      yield* Fiber.join(fiber)
      expect(read).toBe(100)
      expect(t.log.started).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    }))

  it.effect("an empty input is an empty stream", () =>
    Effect.gen(function*() {
      const out = yield* Stream.runCollect(mapInOrder(Stream.empty, 4, (n: number) => Effect.succeed(n)))
      expect(Chunk.size(out)).toBe(0)
    }))
})
