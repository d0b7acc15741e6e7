import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Errors from "../CertCentralError.js"
import type * as ClientHealth from "../ClientHealth.js"
import type { Budget } from "./budget.js"
import { describe, gaveUp, storeLost } from "./errorMapping.js"

/** How one client retries; `health` and the budget are shared by all its calls. */
export interface Policy {
  readonly maxAttempts: number
  readonly maxRateLimitedAttempts: number
  readonly maxRetryAfterMillis: number
  readonly schedule: Schedule.Schedule<unknown, Errors.RetriableError>
  readonly budget: Budget
  readonly health: ClientHealth.ClientHealth
  /** Runs on every retry (counters). */
  readonly onRetry: Effect.Effect<void>
}

/**
 * Runs `attempt` until it succeeds or its error is final. `attempt` gets the call's last transient error: when the
 * client has given up on an outage it fails with an `UnavailableError` carrying that error instead of sending.
 *
 * The loop is written out rather than `Effect.retry`: a failure that happens while the circuit is open is not counted
 * and is not a step of the backoff schedule (the circuit's pause is the wait), which a schedule cannot skip.
 */
export const retrying = <A>(
  policy: Policy,
  attempt: (lastError: Errors.RetriableError | undefined) => Effect.Effect<A, Errors.CertCentralError>,
  /** Whether to annotate the current span with the number of attempts (off when the call is not traced). */
  annotate = true
): Effect.Effect<A, Errors.CertCentralError> =>
  Effect.suspend(() => {
    let lastError: Errors.RetriableError | undefined
    let driver: Schedule.ScheduleDriver<unknown, Errors.RetriableError> | undefined
    let attempts = 1
    // 429s and other failures are counted apart: waiting out a full window is not a sign of a failing API.
    let rateLimited = 0
    let failed = 0

    // Made on the first counted failure only: most calls succeed at once.
    const makeDriver = () =>
      Schedule.driver(
        policy.schedule.pipe(
          Schedule.modifyDelayEffect((_, delay) => {
            const error = lastError
            const hinted = error !== undefined && "retryAfterMillis" in error && error.retryAfterMillis !== undefined
              ? Math.min(error.retryAfterMillis, policy.maxRetryAfterMillis)
              : 0
            const wait = Math.max(Duration.toMillis(delay), hinted)
            // A 429's wait is the whole client's: the pause holds every request, not just this call.
            // a shared store lost meanwhile shows at the next admission, as the call's typed failure
            return error?._tag === "RateLimitedError"
              ? Effect.as(Effect.ignore(policy.health.rateLimited(false, wait)), Duration.millis(wait))
              : Effect.succeed(Duration.millis(wait))
          })
        )
      )

    const backOff = (error: Errors.RetriableError): Effect.Effect<boolean> =>
      Effect.gen(function*() {
        driver ??= yield* makeDriver()
        return Option.isSome(yield* Effect.option(driver.next(error)))
      })

    // Whether to try again after a transient failure, after waiting what the policy says; or the failure that ends
    // the call when the client has given up on the outage.
    const decide = (error: Errors.RetriableError): Effect.Effect<boolean | Errors.UnavailableError> =>
      Effect.gen(function*() {
        lastError = error
        if (error._tag === "RateLimitedError") {
          return ++rateLimited < policy.maxRateLimitedAttempts && (yield* backOff(error))
        }
        const health = yield* policy.health.snapshot
        if (health.gaveUp) return gaveUp(error, health.unavailableSince, yield* Clock.currentTimeMillis)
        if (health.circuit === "closed") {
          if (++failed >= policy.maxAttempts) return false
          if (policy.budget.spend()) return yield* backOff(error)
          // The budget is spent: the failures cluster. Slow the whole client down instead of dropping the retry.
          const opened = yield* Effect.either(policy.health.open(describe(error)))
          if (opened._tag === "Left") return storeLost(error, opened.left)
        }
        // The circuit is open: its gate is the wait, and the call starts afresh once the API is back.
        failed = 0
        driver = undefined
        return true
      })

    const loop: Effect.Effect<A, Errors.CertCentralError> = Effect.catchAll(
      Effect.suspend(() => attempt(lastError)),
      (error) => {
        if (!Errors.isRetriable(error)) return finish(Effect.fail(error))
        return Effect.flatMap(decide(error), (again) => {
          if (again !== true) return finish(Effect.fail(again === false ? error : again))
          attempts++
          return Effect.zipRight(policy.onRetry, loop)
        })
      }
    )
    const finish = <X, E>(effect: Effect.Effect<X, E>) =>
      annotate ? Effect.zipRight(Effect.annotateCurrentSpan("certcentral.attempts", attempts), effect) : effect

    return Effect.tap(loop, () => {
      policy.budget.refund()
      return annotate ? Effect.annotateCurrentSpan("certcentral.attempts", attempts) : Effect.void
    })
  })
