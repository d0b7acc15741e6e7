import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Arr from "effect/Array"
import * as Chunk from "effect/Chunk"
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberId from "effect/FiberId"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Api from "../CertCentralClient.js"
import * as Errors from "../CertCentralError.js"
import { DuplicateList } from "../DuplicateCertificate.js"
import { ReissueList } from "../ReissueCertificate.js"
import * as RollingWindowLimiter from "../RollingWindowLimiter.js"
import { SubaccountOrder } from "../SubaccountOrder.js"
import * as Listing from "./listing.js"
import { version } from "./version.js"

const API_KEY_HEADER = "X-DC-DEVKEY"

export const BASE_URLS = {
  us: "https://www.digicert.com/services/v2",
  eu: "https://certcentral.digicert.eu/services/v2"
} as const

/** Metrics shared by every client of the process; `Stats` counts per client. */
export const metrics = {
  requests: Metric.counter("certcentral_requests_total", { description: "HTTP requests sent to CertCentral" }),
  retries: Metric.counter("certcentral_retries_total", { description: "Requests retried after a retriable failure" }),
  rateLimited: Metric.counter("certcentral_rate_limited_total", { description: "429 responses received" })
}

/** Real responses nest four or five levels deep; anything far deeper is refused before it is parsed. */
const MAX_DEPTH = 64

/** The deepest nesting of arrays and objects in JSON text, counted in one pass (strings skipped). */
export const jsonDepth = (text: string): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > deepest) deepest = depth
    } else if (c === 93 || c === 125) depth--
  }
  return deepest
}

const decoder = new TextDecoder()

/** `application/json`, or any `+json` type, with or without parameters; absent means JSON is assumed. */
export const isJsonMediaType = (contentType: string): boolean => {
  const semicolon = contentType.indexOf(";")
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"))
}

const ErrorBody = Schema.Struct({
  errors: Schema.Array(Schema.Struct({ code: Schema.String, message: Schema.optional(Schema.String) }))
})
const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody)

/** Parses DigiCert's `{"errors":[...]}` body; anything else gives no entries. */
export const parseErrorEntries = (body: string): ReadonlyArray<Errors.DigiCertErrorEntry> => {
  if (body.length > 65_536 || jsonDepth(body) > MAX_DEPTH) return []
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return []
  }
  return Option.match(decodeErrorBody(json), {
    onNone: () => [],
    onSome: ({ errors }) =>
      errors.slice(0, 20).map(({ code, message }) => {
        const bar = code.indexOf("|")
        return new Errors.DigiCertErrorEntry({
          raw: code,
          code: bar === -1 ? code : code.slice(0, bar),
          ...(bar === -1 ? {} : { qualifier: code.slice(bar + 1) }),
          message: message ?? ""
        })
      })
  })
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): number | undefined => {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const date = Date.parse(text)
  return Number.isFinite(date) ? Math.max(0, date - nowMillis) : undefined
}

interface Call<A> {
  readonly endpoint: Errors.Endpoint
  /** Absent for the list endpoints. */
  readonly orderId?: number | undefined
  readonly path: string
  readonly query: Record<string, string>
  readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>
}

type Attempt = Errors.CertCentralError

interface BodyParts {
  readonly chunks: Chunk.Chunk<Uint8Array>
  readonly size: number
}

const resolveBaseUrl = (options: Api.Options): string => {
  const raw = options.baseUrl ?? BASE_URLS[options.region ?? "us"]
  if (BASE_URLS[options.region ?? "us"] === undefined) {
    throw new RangeError(`unknown CertCentral region ${JSON.stringify(options.region)}: use "us" or "eu"`)
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new RangeError(`invalid CertCentral base URL: ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new RangeError(`CertCentral base URL must be http(s): ${JSON.stringify(raw)}`)
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new RangeError("CertCentral base URL must not carry credentials, a query or a fragment")
  }
  return url.toString().replace(/\/+$/, "")
}

/**
 * The client-wide pause after a 429. Every request waits here; 429s that overlap extend one pause. When a pause ends,
 * one request goes first as a probe and the others wait for its answer, so that a window still full costs one 429,
 * not one per waiting fiber.
 */
const makePauseGate = (clock: Clock.Clock) => {
  let until = 0
  let pauses = 0
  let needsProbe = false
  let probe: Deferred.Deferred<void> | undefined
  // Succeeds with true for the one request that probes after a pause.
  const enter: Effect.Effect<boolean> = Effect.suspend(() => {
    const now = clock.unsafeCurrentTimeMillis()
    if (now < until) return Effect.zipRight(clock.sleep(Duration.millis(until - now)), enter)
    if (probe !== undefined) return Effect.zipRight(Deferred.await(probe), enter)
    if (!needsProbe) return Effect.succeed(false)
    needsProbe = false
    probe = Deferred.unsafeMake<void>(FiberId.none)
    return Effect.succeed(true)
  })
  return {
    enter,
    probeDone: Effect.suspend(() => {
      const done = probe
      probe = undefined
      return done === undefined ? Effect.void : Deferred.succeed(done, undefined)
    }),
    // Succeeds with true when this starts a pause (no pause was running).
    pause: (millis: number) =>
      Effect.sync(() => {
        const now = clock.unsafeCurrentTimeMillis()
        const starts = until <= now
        if (starts) pauses++
        until = Math.max(until, now + millis)
        needsProbe = true
        return starts
      }),
    get pauses() {
      return pauses
    }
  }
}

const makeBudget = (config: Api.RetryOptions["budget"]) => {
  if (config === false) return { spend: () => true, refund: () => {} }
  const capacity = config?.capacity ?? 100
  const cost = config?.retryCost ?? 5
  let tokens = capacity
  return {
    spend: () => {
      if (tokens < cost) return false
      tokens -= cost
      return true
    },
    refund: () => {
      tokens = Math.min(capacity, tokens + 1)
    }
  }
}

export const make = (options: Api.Options): Effect.Effect<Api.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const baseUrl = resolveBaseUrl(options)
    const clock = yield* Effect.clock
    const limiter = options.rateLimit === "off"
      ? RollingWindowLimiter.unlimited
      : RollingWindowLimiter.isRollingWindowLimiter(options.rateLimit)
      ? options.rateLimit
      : yield* RollingWindowLimiter.make(options.rateLimit ?? RollingWindowLimiter.digicertDefault)
    const gate = makePauseGate(clock)
    const retry = options.retry ?? {}
    const maxAttempts = Math.max(1, Math.floor(retry.maxAttempts ?? 5))
    const maxRateLimitedAttempts = Math.max(1, Math.floor(retry.maxRateLimitedAttempts ?? 15))
    const maxRetryAfterMillis = Duration.toMillis(retry.maxRetryAfter ?? "60 seconds")
    const budget = makeBudget(retry.budget)
    const firstPauseMillis = Duration.toMillis(retry.baseDelay ?? "500 millis")
    const timeout = Duration.decode(options.timeout ?? "30 seconds")
    const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024
    const schedule: Schedule.Schedule<unknown, Errors.RetriableError> = retry.schedule ??
      Schedule.exponential(retry.baseDelay ?? "500 millis", 2).pipe(
        Schedule.jittered,
        Schedule.modifyDelay((d) => Duration.min(d, Duration.decode(retry.maxDelay ?? "20 seconds"))),
        Schedule.upTo(retry.maxElapsed ?? "5 minutes")
      )

    const stats = { requests: 0, retries: 0, rateLimited: 0 }

    const httpClient = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(baseUrl),
          HttpClientRequest.setHeaders({
            "Content-Type": "application/json",
            Accept: "application/json",
            "User-Agent": options.userAgent ?? `certcentral-effect/${version}`
          }),
          HttpClientRequest.setHeader(API_KEY_HEADER, Redacted.value(options.apiKey))
        )
      ),
      HttpClient.withTracerPropagation(false)
    )

    // A body refused as a whole (path ""): too large, not declared as JSON, nested too deeply, not JSON.
    const refused = (call: Call<unknown>, status: number, message: string) =>
      new Errors.DecodeError({ endpoint: call.endpoint, orderId: call.orderId, status, path: "", message })
    const tooLarge = (call: Call<unknown>, status: number) =>
      refused(call, status, `response body larger than ${maxBytes} bytes`)

    // With a declared length (HTTP framing bounds the read to it) the body is read in one piece; without one it is
    // streamed and refused as soon as it passes `maxBytes`.
    const readBytes = (
      call: Call<unknown>,
      response: HttpClientResponse.HttpClientResponse,
      declared: number | undefined
    ): Effect.Effect<Uint8Array, Errors.DecodeError | HttpClientError.ResponseError> => {
      if (declared !== undefined) {
        return declared > maxBytes
          ? Effect.fail(tooLarge(call, response.status))
          : Effect.map(response.arrayBuffer, (buffer) => new Uint8Array(buffer))
      }
      return response.stream.pipe(
        Stream.runFoldEffect(
          { chunks: Chunk.empty<Uint8Array>(), size: 0 } as BodyParts,
          (acc, chunk): Effect.Effect<BodyParts, Errors.DecodeError> =>
            acc.size + chunk.length > maxBytes
              ? Effect.fail(tooLarge(call, response.status))
              : Effect.succeed({ chunks: Chunk.append(acc.chunks, chunk), size: acc.size + chunk.length })
        ),
        Effect.map(({ chunks, size }) => {
          const bytes = new Uint8Array(size)
          let offset = 0
          for (const chunk of chunks) {
            bytes.set(chunk, offset)
            offset += chunk.length
          }
          return bytes
        })
      )
    }

    const readBody = (call: Call<unknown>, response: HttpClientResponse.HttpClientResponse) => {
      const encoding = response.headers["content-encoding"]
      const length = response.headers["content-length"]
      const declared = (encoding === undefined || encoding === "identity") && length !== undefined &&
          /^\d+$/.test(length.trim())
        ? Number(length)
        : undefined
      return Effect.flatMap(
        readBytes(call, response, declared),
        (bytes) =>
          declared !== undefined && bytes.length !== declared
            ? Effect.fail(
              new Errors.TransportError({
                endpoint: call.endpoint,
                orderId: call.orderId,
                status: response.status,
                reason: "body",
                message: bytes.length < declared
                  ? `response body cut short: ${bytes.length} of ${declared} bytes`
                  : `response body longer than its Content-Length: ${bytes.length} > ${declared} bytes`
              })
            )
            : Effect.succeed(decoder.decode(bytes))
      )
    }

    const fromHttpError = (call: Call<unknown>, error: HttpClientError.HttpClientError) =>
      new Errors.TransportError({
        endpoint: call.endpoint,
        orderId: call.orderId,
        reason: error._tag === "ResponseError" ? "body" : "connection",
        ...(error._tag === "ResponseError" ? { status: error.response.status } : {}),
        message: error._tag === "ResponseError"
          ? `response body could not be read (${error.reason})`
          : `request failed (${error.reason})${describeCause(error.cause)}`
      })

    const fromStatus = (call: Call<unknown>, status: number, body: string, retryAfter: string | undefined) => {
      const errors = parseErrorEntries(body)
      const fields = {
        endpoint: call.endpoint,
        orderId: call.orderId,
        status,
        errors,
        message: errors.length > 0 ? errors.map((e) => `${e.raw}: ${e.message}`).join("; ") : `HTTP ${status}`
      }
      const retryAfterMillis = parseRetryAfter(retryAfter, clock.unsafeCurrentTimeMillis())
      const hint = retryAfterMillis === undefined ? {} : { retryAfterMillis }
      switch (status) {
        case 401:
          return new Errors.AuthenticationError(fields)
        case 403:
          return new Errors.PermissionError(fields)
        case 404:
          return new Errors.NotFoundError(fields)
        case 429:
          return new Errors.RateLimitedError({ ...fields, ...hint })
        default:
          return status >= 500 ? new Errors.ServerError({ ...fields, ...hint }) : new Errors.BadRequestError(fields)
      }
    }

    const decodeBody = <A>(
      call: Call<A>,
      status: number,
      contentType: string | undefined,
      body: string
    ): Either.Either<A, Errors.DecodeError> => {
      if (contentType !== undefined && !isJsonMediaType(contentType)) {
        return Either.left(
          refused(
            call,
            status,
            `expected a JSON response, got Content-Type ${JSON.stringify(contentType.slice(0, 100))}`
          )
        )
      }
      if (jsonDepth(body) > MAX_DEPTH) {
        return Either.left(refused(call, status, `response body is nested deeper than ${MAX_DEPTH} levels`))
      }
      let json: unknown
      try {
        json = JSON.parse(body)
      } catch (e) {
        const reason = e instanceof Error ? e.message : "parse error"
        return Either.left(refused(call, status, `response body is not JSON (${reason})`))
      }
      return Either.mapLeft(call.decode(json), (error) => {
        const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
        const path = issue === undefined ? "" : issue.path.map(String).join(".")
        return new Errors.DecodeError({
          endpoint: call.endpoint,
          orderId: call.orderId,
          status,
          path,
          message: `response does not fit the ${call.endpoint} schema at ${path === "" ? "the root" : path}: ${
            (issue?.message ?? "invalid").slice(0, 300)
          }`
        })
      })
    }

    const attempt = <A>(call: Call<A>): Effect.Effect<A, Attempt> => {
      const request = HttpClientRequest.get(call.path, { urlParams: call.query })
      const exchange = httpClient.execute(request).pipe(
        Effect.mapError((e) => fromHttpError(call, e)),
        Effect.flatMap((response) =>
          readBody(call, response).pipe(
            Effect.catchTag("ResponseError", (e) => Effect.fail(fromHttpError(call, e))),
            Effect.map((body) => ({ response, body }))
          )
        ),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new Errors.TransportError({
              endpoint: call.endpoint,
              orderId: call.orderId,
              reason: "timeout",
              message: `no complete response within ${Duration.format(timeout)}`
            })
        })
      )
      const send = Effect.sync(() => stats.requests++).pipe(
        Effect.zipRight(Metric.increment(metrics.requests)),
        Effect.zipRight(exchange),
        Effect.tap(({ response }) => {
          if (response.status !== 429) return Effect.void
          stats.rateLimited++
          // Pause at once, before a probe reports back; the retry schedule may lengthen the pause.
          const hinted = parseRetryAfter(response.headers["retry-after"], clock.unsafeCurrentTimeMillis())
          // A new pause (not every 429 of one burst) also lowers the limiter's share: the key's budget is shared.
          return Effect.zipRight(
            Metric.increment(metrics.rateLimited),
            Effect.flatMap(
              gate.pause(Math.min(hinted ?? firstPauseMillis, maxRetryAfterMillis)),
              (starts) => (starts ? limiter.backOff : Effect.void)
            )
          )
        })
      )
      // The pause gate is passed inside the limiter's permit, right before sending: a request that waited for room
      // in a window when a 429 came back waits out the pause too, instead of being sent into the same full window.
      // The pause is set before the permit is released, so no request that was waiting for it slips through.
      return limiter.withPermit(
        gate.enter.pipe(Effect.flatMap((isProbe) => (isProbe ? Effect.ensuring(send, gate.probeDone) : send)))
      ).pipe(
        Effect.flatMap(({ body, response }) =>
          Effect.gen(function*() {
            yield* Effect.annotateCurrentSpan("http.response.status_code", response.status)
            if (response.status < 200 || response.status >= 300) {
              return yield* Effect.fail(fromStatus(call, response.status, body, response.headers["retry-after"]))
            }
            const decoded = decodeBody(call, response.status, response.headers["content-type"], body)
            return Either.isRight(decoded) ? decoded.right : yield* Effect.fail(decoded.left)
          })
        )
      )
    }

    const withRetries = <A>(call: Call<A>): Effect.Effect<A, Attempt> =>
      Effect.gen(function*() {
        let lastError: Errors.RetriableError | undefined
        // Made on the first failure only: most calls succeed at once.
        const makeDriver = () =>
          Schedule.driver(
            schedule.pipe(
              Schedule.modifyDelayEffect((_, delay) => {
                const error = lastError
                const hinted =
                  error !== undefined && "retryAfterMillis" in error && error.retryAfterMillis !== undefined
                    ? Math.min(error.retryAfterMillis, maxRetryAfterMillis)
                    : 0
                const wait = Math.max(Duration.toMillis(delay), hinted)
                return error?._tag === "RateLimitedError"
                  ? Effect.as(gate.pause(wait), Duration.millis(wait))
                  : Effect.succeed(Duration.millis(wait))
              })
            )
          )
        let driver: Schedule.ScheduleDriver<unknown, Errors.RetriableError> | undefined
        let attempts = 1
        // 429s and other failures are counted apart: waiting out a full window is not a sign of a failing API.
        let rateLimited = 0
        let failed = 0
        while (true) {
          const result = yield* Effect.either(attempt(call))
          if (Either.isRight(result)) {
            budget.refund()
            yield* Effect.annotateCurrentSpan("certcentral.attempts", attempts)
            return result.right
          }
          const error = result.left
          const retriable = Errors.isRetriable(error) && (error._tag === "RateLimitedError"
            ? ++rateLimited < maxRateLimitedAttempts
            : ++failed < maxAttempts && budget.spend())
          if (!retriable) {
            yield* Effect.annotateCurrentSpan("certcentral.attempts", attempts)
            return yield* Effect.fail(error)
          }
          lastError = error
          driver ??= yield* makeDriver()
          const next = yield* Effect.option(driver.next(error))
          if (Option.isNone(next)) {
            yield* Effect.annotateCurrentSpan("certcentral.attempts", attempts)
            return yield* Effect.fail(error)
          }
          attempts++
          stats.retries++
          yield* Metric.increment(metrics.retries)
        }
      })

    const run = <A>(call: Call<A>): Effect.Effect<A, Errors.CertCentralError> =>
      withRetries(call).pipe(
        Effect.locallyWith(Headers.currentRedactedNames, Arr.append(API_KEY_HEADER.toLowerCase())),
        Effect.withSpan(`CertCentral.${call.endpoint}`, {
          kind: "client",
          captureStackTrace: false,
          attributes: { "certcentral.order_id": call.orderId, "certcentral.endpoint": call.endpoint }
        })
      )

    const checked = <A>(
      endpoint: Errors.Endpoint,
      orderId: number,
      build: (id: number) => Call<A>
    ): Effect.Effect<A, Errors.CertCentralError> =>
      typeof orderId === "number" && Number.isSafeInteger(orderId) && orderId > 0
        ? run(build(orderId))
        : Effect.fail(
          new Errors.InvalidOrderIdError({
            endpoint,
            input: String(orderId).slice(0, 80),
            message: `order id must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${
              String(orderId).slice(0, 80)
            }`
          })
        )

    const decodeOrder = Schema.decodeUnknownEither(SubaccountOrder)
    const flagQuery = (name: string, on: boolean | undefined): Record<string, string> =>
      on === true ? { [name]: "true" } : {}

    // The two list endpoints differ only in their path segment and certificate schema.
    const listing = <A, I>(
      endpoint: "listDuplicates" | "listReissues",
      segment: "duplicate" | "reissue",
      schema: Schema.Schema<{ readonly certificates: ReadonlyArray<A> }, I>
    ) => {
      const decode = Schema.decodeUnknownEither(schema)
      return (orderId: number, opts?: Api.ListOptions) =>
        checked(endpoint, orderId, (id) => ({
          endpoint,
          orderId: id,
          path: `/order/certificate/${id}/${segment}`,
          query: flagQuery("show_archived", opts?.showArchived),
          decode: (u: unknown) => Either.map(decode(u), (list) => list.certificates)
        }))
    }

    const service: Api.Service = {
      listDuplicates: listing("listDuplicates", "duplicate", DuplicateList),
      listReissues: listing("listReissues", "reissue", ReissueList),
      getSubaccountOrder: (orderId, opts) =>
        checked("getSubaccountOrder", orderId, (id) => ({
          endpoint: "getSubaccountOrder",
          orderId: id,
          path: `/account/subaccount/order/${id}`,
          query: flagQuery("include_validation_status", opts?.includeValidationStatus),
          decode: decodeOrder
        })),
      // The list endpoints (paging, filters, decoding) live in ./listing.ts; `run` is their one seam.
      ...Listing.make((request) => run(request)),
      stats: Effect.sync(() => ({ ...stats, pauses: gate.pauses }))
    }
    return service
  })

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code ?? (cause.cause as { code?: unknown } | undefined)?.code
    return typeof code === "string" ? `: ${code}` : `: ${cause.message.slice(0, 200)}`
  }
  return ""
}
