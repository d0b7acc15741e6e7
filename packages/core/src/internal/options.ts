import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as BaseUrl from "../BaseUrl.js"
import type * as Api from "../CertCentralClient.js"
import * as Errors from "../CertCentralError.js"
import * as RollingWindowLimiter from "../RollingWindowLimiter.js"

/** The options of `make`, checked and with their defaults. */
export interface Settings {
  readonly baseUrl: string
  readonly maxAttempts: number
  readonly maxRateLimitedAttempts: number
  readonly maxRetryAfterMillis: number
  readonly maxOutageMillis: number
  readonly firstPauseMillis: number
  readonly timeout: Duration.Duration
  readonly maxBytes: number
  readonly schedule: Schedule.Schedule<unknown, Errors.RetriableError>
}

class Invalid {
  constructor(readonly option: string, readonly message: string) {}
}

const duration = (
  option: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.DurationInput,
  positive: boolean
) => {
  const decoded = Duration.decodeUnknown(input ?? fallback)
  if (Option.isNone(decoded)) {
    throw new Invalid(option, `${option} must be a duration, got ${String(input).slice(0, 80)}`)
  }
  const millis = Duration.toMillis(decoded.value)
  if (Number.isNaN(millis) || millis < 0 || (positive && millis === 0)) {
    throw new Invalid(option, `${option} must be a ${positive ? "positive" : "non-negative"} duration`)
  }
  return decoded.value
}

const count = (option: string, input: number | undefined, fallback: number) => {
  const value = input ?? fallback
  if (typeof value !== "number" || !Number.isFinite(value) || value < 1) {
    throw new Invalid(option, `${option} must be a number of at least 1, got ${String(value).slice(0, 80)}`)
  }
  return Math.floor(value)
}

const check = (options: Api.Options): Settings => {
  const baseUrl = BaseUrl.resolve(options)
  if (Either.isLeft(baseUrl)) throw new Invalid(options.baseUrl !== undefined ? "baseUrl" : "region", baseUrl.left)
  if (Array.isArray(options.rateLimit)) {
    for (const { limit, window } of options.rateLimit as ReadonlyArray<RollingWindowLimiter.Window>) {
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new Invalid("rateLimit", `rateLimit: limit must be a positive integer, got ${String(limit)}`)
      }
      duration("rateLimit", window, window, true)
    }
  }
  const retry = options.retry ?? {}
  if (retry.budget !== undefined && retry.budget !== false) {
    count("retry.budget.capacity", retry.budget.capacity, 1)
    count("retry.budget.retryCost", retry.budget.retryCost, 1)
  }
  if (retry.circuit !== undefined) {
    count("retry.circuit.failureThreshold", retry.circuit.failureThreshold, 5)
    duration("retry.circuit.firstPause", retry.circuit.firstPause, "1 second", true)
    duration("retry.circuit.maxPause", retry.circuit.maxPause, "1 minute", true)
  }
  const baseDelay = duration("retry.baseDelay", retry.baseDelay, "500 millis", false)
  const maxDelay = duration("retry.maxDelay", retry.maxDelay, "20 seconds", false)
  const maxElapsed = duration("retry.maxElapsed", retry.maxElapsed, "5 minutes", false)
  const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new Invalid("maxResponseBytes", `maxResponseBytes must be a positive integer, got ${String(maxBytes)}`)
  }
  return {
    baseUrl: baseUrl.right,
    maxAttempts: count("retry.maxAttempts", retry.maxAttempts, 5),
    maxRateLimitedAttempts: count("retry.maxRateLimitedAttempts", retry.maxRateLimitedAttempts, 15),
    maxRetryAfterMillis: Duration.toMillis(duration("retry.maxRetryAfter", retry.maxRetryAfter, "60 seconds", false)),
    maxOutageMillis: Duration.toMillis(duration("retry.maxOutage", retry.maxOutage, "10 minutes", false)),
    firstPauseMillis: Duration.toMillis(baseDelay),
    timeout: duration("timeout", options.timeout, "30 seconds", true),
    maxBytes,
    schedule: retry.schedule ??
      Schedule.exponential(baseDelay, 2).pipe(
        Schedule.jittered,
        Schedule.modifyDelay((d) => Duration.min(d, maxDelay)),
        Schedule.upTo(maxElapsed)
      )
  }
}

/** Checks the options once, when the client is made: a bad one is a typed failure naming it. */
export const validate = (options: Api.Options): Effect.Effect<Settings, Errors.InvalidOptionsError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(check(options))
    } catch (e) {
      if (e instanceof Invalid) {
        return Effect.fail(new Errors.InvalidOptionsError({ option: e.option, message: e.message }))
      }
      throw e
    }
  })
