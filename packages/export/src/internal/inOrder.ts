import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/**
 * `Stream.mapEffect(self, f, { concurrency })`, for the export's per-order work: at most `concurrency` elements in
 * flight, results in input order, the first failure in input order ends the stream after every result before it,
 * and closing the stream interrupts the work in flight. Once an element has failed, no worker takes another.
 *
 * It runs on `concurrency` long-lived worker fibers that take the next element in turn. `Stream.mapEffect` forks a
 * fiber per element and races it against the stream's failure signal (three fibers, a deferred and a queue entry per
 * element); for the export that was about 160 µs of CPU per order (see bench/README.md).
 *
 * Results wait in a window of `2 × concurrency` elements: a worker takes no new element while the oldest result it
 * would pass is still unread, so a slow consumer holds the workers back instead of letting results pile up. Results
 * that are ready together leave as one chunk.
 */
export const mapInOrder = <A, B, E, R, E2, R2>(
  self: Stream.Stream<A, E, R>,
  concurrency: number,
  f: (a: A) => Effect.Effect<B, E2, R2>
): Stream.Stream<B, E | E2, R | R2> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const pull = yield* Stream.toPull(self)
    const takeLock = yield* Effect.makeSemaphore(1)
    const window = yield* Effect.makeSemaphore(concurrency * 2)

    // elements pulled and not yet taken by a worker
    let pending: ReadonlyArray<A> = []
    let pendingIndex = 0
    let taken = 0
    // set by the input's end or failure, or by an element's failure: the stream ends there, so no worker takes more
    let stopped = false
    // results by input position: a value, or the input's end (none), or the failure at that position
    const results = new Map<number, Exit.Exit<Option.Option<B>, E | E2>>()
    let emitted = 0
    let waiting: Deferred.Deferred<void> | undefined

    const settle = (position: number, exit: Exit.Exit<Option.Option<B>, E | E2>): void => {
      results.set(position, exit)
      if (Exit.isFailure(exit)) stopped = true
      if (position === emitted && waiting !== undefined) {
        const consumer = waiting
        waiting = undefined
        Deferred.unsafeDone(consumer, Exit.void)
      }
    }

    // The next element and its position, or none once the input has ended (or failed: its failure is the result at
    // the position after the last element). One worker at a time pulls.
    const take: Effect.Effect<Option.Option<readonly [number, A]>, never, R> = takeLock.withPermits(1)(
      Effect.suspend(function next(): Effect.Effect<Option.Option<readonly [number, A]>, never, R> {
        if (stopped) return Effect.succeed(Option.none())
        if (pendingIndex < pending.length) return Effect.succeed(Option.some([taken++, pending[pendingIndex++]!]))
        return Effect.flatMap(Effect.exit(pull), (exit) => {
          if (Exit.isSuccess(exit)) {
            pending = Chunk.toReadonlyArray(exit.value)
            pendingIndex = 0
            return next()
          }
          stopped = true
          // a failure with none is the input's end
          const failure = Cause.flipCauseOption(exit.cause)
          settle(taken, Option.isNone(failure) ? Exit.succeed(Option.none()) : Exit.failCause(failure.value))
          return Effect.succeed(Option.none())
        })
      })
    )

    const work: Effect.Effect<void, never, R | R2> = Effect.zipRight(
      window.take(1),
      Effect.flatMap(take, (next) => {
        if (Option.isNone(next)) return Effect.void
        const [position, element] = next.value
        return Effect.flatMap(Effect.exit(f(element)), (exit) => {
          settle(position, Exit.map(exit, Option.some))
          return work
        })
      })
    )

    // interrupted when the stream's scope closes: the consumer stopped, failed, or the input failed
    for (let i = 0; i < concurrency; i++) yield* Effect.forkScoped(work)

    // every result that is ready from the oldest unread one on; waits when there is none
    const pullResults: Effect.Effect<Chunk.Chunk<B>, Option.Option<E | E2>> = Effect.suspend(
      function ready(): Effect.Effect<Chunk.Chunk<B>, Option.Option<E | E2>> {
        const values: Array<B> = []
        for (let exit = results.get(emitted); exit !== undefined; exit = results.get(emitted)) {
          if (Exit.isFailure(exit) || Option.isNone(exit.value)) {
            if (values.length > 0) break
            return Exit.isFailure(exit)
              ? Effect.failCause(Cause.map(exit.cause, Option.some))
              : Effect.fail(Option.none())
          }
          results.delete(emitted)
          emitted++
          values.push(exit.value.value)
        }
        if (values.length > 0) return Effect.as(window.release(values.length), Chunk.unsafeFromArray(values))
        const consumer = Deferred.unsafeMake<void>(FiberId.none)
        waiting = consumer
        return Effect.flatMap(Deferred.await(consumer), () => ready())
      }
    )
    return Stream.repeatEffectChunkOption(pullResults)
  }))
