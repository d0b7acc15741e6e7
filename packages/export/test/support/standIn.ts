/**
 * The CLI in this process against the testkit's in-memory stand-in, on `TestClock`: no socket, no process, and time
 * that the test moves. {@link drive} runs an effect while moving the clock whenever the rest of the process has had a
 * turn and no file request is in flight (real file I/O completes between steps), the way `TestClock.adjust` moves a
 * single sleep.
 */
import * as StandIn from "@certcentral/testkit/StandIn"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as InProcess from "./inProcess.js"

/** File system requests of this process still in flight (reads, writes, fsyncs of the CLI's files). */
const fileIoInFlight = (): boolean => process.getActiveResourcesInfo().some((name) => name.startsWith("FSReq"))

/**
 * A turn of the real event loop: until no file request is in flight, then one timer turn (where Effect's scheduler
 * resumes yielded fibers). So the clock moves only once the CLI waits on it, not while its writes are under way,
 * however slow the machine: what a run does in virtual time does not depend on the load.
 */
const turn = Effect.promise(() =>
  new Promise<void>((resolve) => {
    const settle = () => fileIoInFlight() ? setImmediate(settle) : setTimeout(resolve, 0)
    setImmediate(settle)
  })
)

/** Milliseconds from now to the earliest sleep pending on the test clock, if any. */
const nextSleep = Effect.gen(function*() {
  const sleeps = yield* TestClock.sleeps()
  const now = yield* TestClock.currentTimeMillis
  return Chunk.reduce(sleeps, Infinity, (min, end) => Math.min(min, end)) - now
})

/**
 * Runs `effect` in a fiber and, until it ends, gives the event loop a turn and then moves the test clock by `step`
 * (default 100 ms), or straight to the earliest pending sleep when that is further: steps where no sleep ends fire
 * nothing, and each costs the test clock's wall-clock turns. Returns what the effect returned.
 */
export const drive = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options?: { readonly step?: Duration.DurationInput }
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const step = Duration.toMillis(options?.step ?? "100 millis")
    const fiber = yield* Effect.fork(effect)
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* turn
      if ((yield* nextSleep) <= step) {
        yield* TestClock.adjust(step)
        continue
      }
      // a long way to the next sleep: let every fiber settle (the clock moves by 0) and its file requests end first,
      // so the jump passes no sleep a fiber still about to start would have ended before
      yield* TestClock.adjust(0)
      if (fileIoInFlight()) continue
      const next = yield* nextSleep
      yield* TestClock.adjust(Number.isFinite(next) ? Math.max(next, step) : step)
    }
    return yield* Fiber.join(fiber)
  })

/** A stand-in (in memory) and the environment a CLI run needs to reach it with its key. */
export interface Api {
  readonly standIn: StandIn.InMemory
  readonly env: Readonly<Record<string, string>>
  readonly http: Layer.Layer<HttpClient.HttpClient>
}

/** A new in-memory stand-in with these options, and the `env`/`http` a run passes to reach it. */
export const api = (options?: StandIn.Options): Effect.Effect<Api> =>
  Effect.map(StandIn.make(options), (standIn) => ({
    standIn,
    env: { DIGICERT_API_KEY: standIn.apiKey, DIGICERT_BASE_URL: standIn.baseUrl },
    http: Layer.succeed(HttpClient.HttpClient, standIn.client)
  }))

/** `certcentral-export <args>` in this process against `api`, driven on the test clock. */
export const run = (
  api: Api,
  args: ReadonlyArray<string>,
  options?: Omit<InProcess.Options, "env" | "http"> & {
    readonly env?: Readonly<Record<string, string>>
    readonly step?: Duration.DurationInput
  }
): Effect.Effect<InProcess.Result> =>
  drive(
    InProcess.run(args, { ...options, env: options?.env ?? api.env, http: api.http }),
    options?.step === undefined ? undefined : { step: options.step }
  )
