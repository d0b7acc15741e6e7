import * as Deferred from "effect/Deferred"
import type * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"

/**
 * "Something changed" for any number of waiters: a waiter takes `next()` before it looks at the state, so a change
 * between its look and its wait still wakes it; `notify` wakes every waiter of the moment at once.
 */
export interface Signal {
  readonly next: () => Effect.Effect<void>
  readonly notify: () => void
}

export const make = (): Signal => {
  let current = Deferred.unsafeMake<void>(FiberId.none)
  return {
    next: () => Deferred.await(current),
    notify: () => {
      const done = current
      current = Deferred.unsafeMake<void>(FiberId.none)
      Deferred.unsafeDone(done, Exit.void)
    }
  }
}
