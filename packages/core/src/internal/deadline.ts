import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/** The live clock of Effect's default services; a `TestClock`, or any clock a caller provides, is another object. */
const liveClock: Clock.Clock = Effect.runSync(Effect.clock)

/** The longest delay a Node timer takes (about 24.8 days); a longer timeout goes through `Effect.timeoutFail`. */
const MAX_TIMER_MILLIS = 2 ** 31 - 1

/** Runs `self` and fails with `onTimeout()` if it has not ended within the duration the function was made for. */
export type Within = <A, E, R, E2>(self: Effect.Effect<A, E, R>, onTimeout: () => E2) => Effect.Effect<A, E | E2, R>

/**
 * The per-attempt timeout of a client, as `Effect.timeoutFail` with the same outcomes: the effect's own exit when it
 * ends in time (its fiber refs inherited on success), else the effect interrupted (and awaited) and `onTimeout()`;
 * interrupting the caller interrupts the effect.
 *
 * On Effect's live clock it costs one forked fiber and one Node timer per call, where `Effect.timeoutFail` races two
 * fibers (the effect and a clock sleep) and interrupts the loser: about half the fiber work of every request (see
 * bench/README.md). On any other clock (`TestClock` in tests, a clock of the caller's) it is `Effect.timeoutFail`,
 * so that time is still the clock's.
 */
export const make = (clock: Clock.Clock, duration: Duration.Duration): Within => {
  const millis = Duration.toMillis(duration)
  if (clock !== liveClock || !(millis >= 0 && millis <= MAX_TIMER_MILLIS)) {
    return (self, onTimeout) => Effect.timeoutFail(self, { duration, onTimeout })
  }
  return <A, E, R, E2>(self: Effect.Effect<A, E, R>, onTimeout: () => E2): Effect.Effect<A, E | E2, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(self)), (fiber) =>
        restore(
          // the effect's exit, or `undefined` when the timer fired first
          Effect.async<Exit.Exit<A, E> | undefined>((resume) => {
            const done = (exit: Exit.Exit<A, E>) => {
              clearTimeout(timer)
              resume(Effect.succeed(exit))
            }
            const timer = setTimeout(() => {
              fiber.removeObserver(done)
              resume(Effect.succeed(undefined))
            }, millis)
            // called at once if the fiber has ended already
            fiber.addObserver(done)
            return Effect.sync(() => {
              clearTimeout(timer)
              fiber.removeObserver(done)
            })
          })
        ).pipe(
          Effect.onInterrupt(() => Fiber.interrupt(fiber)),
          Effect.flatMap((exit): Effect.Effect<A, E | E2> =>
            exit === undefined
              ? Effect.zipRight(Fiber.interrupt(fiber), Effect.fail(onTimeout()))
              : Exit.isSuccess(exit)
              ? Effect.as(Fiber.inheritAll(fiber), exit.value)
              : exit
          )
        ))
    )
}
