import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, FiberRef, Option, TestClock } from "effect"
import * as Deadline from "../src/internal/deadline.js"

// The per-attempt timeout: on the live clock a forked fiber and a Node timer, on any other clock
// `Effect.timeoutFail`; both must end the same way.

const timedOut = () => "timed out" as const

// the clock a program gets from Effect's default services: the one that takes the timer path
const defaultClock = Effect.runSync(Effect.clock)

const liveWithin = (duration: Duration.DurationInput) =>
  Effect.map(Effect.clock, (clock) => {
    expect(clock).toBe(defaultClock)
    return Deadline.make(clock, Duration.decode(duration))
  })

describe("Deadline (live clock)", () => {
  it.scopedLive("gives the effect's value, and its fiber refs, when it ends in time", () =>
    Effect.gen(function*() {
      const within = yield* liveWithin("10 seconds")
      const ref = yield* FiberRef.make("before")
      const value = yield* within(Effect.as(FiberRef.set(ref, "set inside"), 42), timedOut)
      expect(value).toBe(42)
      expect(yield* FiberRef.get(ref)).toBe("set inside")
    }))

  it.live("passes the effect's own failure through, not a timeout", () =>
    Effect.gen(function*() {
      const within = yield* liveWithin("10 seconds")
      const exit = yield* Effect.exit(within(Effect.fail("refused" as const), timedOut))
      expect(exit).toStrictEqual(Exit.fail("refused"))
    }))

  it.live("fails with onTimeout and interrupts the effect, finalizers run, when it does not end in time", () =>
    Effect.gen(function*() {
      const within = yield* liveWithin("20 millis")
      const finalized = yield* Deferred.make<void>()
      const exit = yield* Effect.exit(
        within(Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(finalized, undefined))), timedOut)
      )
      expect(exit).toStrictEqual(Exit.fail("timed out"))
      // awaited before the failure: already done, not merely requested
      expect(yield* Deferred.isDone(finalized)).toBe(true)
    }))

  it.live("interrupting the caller interrupts the effect", () =>
    Effect.gen(function*() {
      const within = yield* liveWithin("10 seconds")
      const started = yield* Deferred.make<void>()
      const finalized = yield* Deferred.make<void>()
      const caller = yield* Effect.fork(within(
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(finalized, undefined))
        ),
        timedOut
      ))
      yield* Deferred.await(started)
      const exit = yield* Fiber.interrupt(caller)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(yield* Deferred.isDone(finalized)).toBe(true)
    }))
})

describe("Deadline (TestClock)", () => {
  it.effect("follows the test clock: no timeout before the duration, a timeout at it", () =>
    Effect.gen(function*() {
      const within = Deadline.make(yield* Effect.clock, Duration.seconds(30))
      const fiber = yield* Effect.fork(Effect.exit(within(Effect.never, timedOut)))
      yield* TestClock.adjust("29 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.join(fiber)
      expect(exit).toStrictEqual(Exit.fail("timed out"))
    }))
})
