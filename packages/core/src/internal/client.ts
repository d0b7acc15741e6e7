import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Api from "../CertCentralClient.js"
import * as Errors from "../CertCentralError.js"
import * as ClientHealth from "../ClientHealth.js"
import { DuplicateList } from "../DuplicateCertificate.js"
import { ReissueList } from "../ReissueCertificate.js"
import * as RollingWindowLimiter from "../RollingWindowLimiter.js"
import { SubaccountOrder } from "../SubaccountOrder.js"
import { type Call, decodeBody, makeBodyReader } from "./body.js"
import * as Budget from "./budget.js"
import * as Deadline from "./deadline.js"
import { describe, fromHttpError, fromStatus, gaveUp, parseRetryAfter, storeLost } from "./errorMapping.js"
import * as Listing from "./listing.js"
import { validate } from "./options.js"
import { retrying } from "./retry.js"
import * as StatusChanges from "./statusChanges.js"
import { version } from "./version.js"

const API_KEY_HEADER = "X-DC-DEVKEY"

/**
 * Effect's own tracer, the one of every program that installs none: it keeps spans in memory and exports nothing. A
 * call made under it skips its spans (the client's and the platform's per-request one) and their per-request
 * bookkeeping; under any other tracer (`@effect/opentelemetry`, a test's) every span is made as before.
 */
const nativeTracer = Effect.runSync(Effect.tracer)

/** Metrics shared by every client of the process; `Stats` counts per client. */
export const metrics = {
  requests: Metric.counter("certcentral_requests_total", { description: "HTTP requests sent to CertCentral" }),
  retries: Metric.counter("certcentral_retries_total", { description: "Requests retried after a retriable failure" }),
  rateLimited: Metric.counter("certcentral_rate_limited_total", { description: "429 responses received" }),
  circuitTransitions: ClientHealth.transitions
}

interface Exchange {
  readonly response: HttpClientResponse.HttpClientResponse
  readonly body: string
}

export const make = (
  options: Api.Options
): Effect.Effect<Api.Service, Errors.InvalidOptionsError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const settings = yield* validate(options)
    const clock = yield* Effect.clock
    // The limiter and the health piece: from the options, else shared through the context, else this client's own.
    const limiter = options.rateLimit === "off"
      ? RollingWindowLimiter.unlimited
      : RollingWindowLimiter.isRollingWindowLimiter(options.rateLimit)
      ? options.rateLimit
      : options.rateLimit !== undefined
      ? yield* RollingWindowLimiter.make(options.rateLimit)
      : yield* Effect.flatMap(
        Effect.serviceOption(RollingWindowLimiter.RollingWindowLimiter),
        Option.match({
          onNone: () => RollingWindowLimiter.make(RollingWindowLimiter.digicertDefault),
          onSome: Effect.succeed
        })
      )
    const health = yield* Effect.flatMap(
      Effect.serviceOption(ClientHealth.ClientHealth),
      Option.match({ onNone: () => ClientHealth.make(options.retry?.circuit), onSome: Effect.succeed })
    )
    const budget = Budget.make(options.retry?.budget)
    const readBody = makeBodyReader(settings.maxBytes)
    const { timeout } = settings
    const within = Deadline.make(clock, timeout)

    const stats = { requests: 0, retries: 0, rateLimited: 0 }

    const plainClient = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(settings.baseUrl),
          HttpClientRequest.setHeaders({
            "Content-Type": "application/json",
            Accept: "application/json",
            "User-Agent": options.userAgent ?? `certcentral-effect/${version}`
          }),
          HttpClientRequest.setHeader(API_KEY_HEADER, Redacted.value(options.apiKey))
        )
      )
    )
    // with a tracer installed: the platform's span per request, and no trace headers sent to DigiCert
    const tracedClient = HttpClient.withTracerPropagation(plainClient, false)

    // What one exchange tells the health piece: an answer, a transient failure, or a 429 (a client-wide pause).
    // A shared store lost meanwhile is not this exchange's failure: the next admission fails with it, typed.
    const report = (
      call: Call<unknown>,
      probe: boolean,
      exit: Exit.Exit<Exchange, Errors.TransportError | Errors.DecodeError>
    ): Effect.Effect<void> => Effect.ignore(reported(call, probe, exit))
    const reported = (
      call: Call<unknown>,
      probe: boolean,
      exit: Exit.Exit<Exchange, Errors.TransportError | Errors.DecodeError>
    ): Effect.Effect<void, Errors.StoreUnavailableError> =>
      Exit.match(exit, {
        onFailure: (cause) =>
          Option.match(Cause.failureOption(cause), {
            // interrupted (a timeout included, reported as its TransportError) or a defect: no outcome
            onNone: () => probe ? health.abandoned : Effect.void,
            onSome: (error) =>
              error._tag === "TransportError" ? health.failed(probe, describe(error)) : health.succeeded(probe)
          }),
        onSuccess: ({ body, response }) => {
          if (response.status === 429) {
            stats.rateLimited++
            // Pause at once, before a probe reports back; the retry schedule may lengthen the pause.
            const hinted = parseRetryAfter(response.headers["retry-after"], clock.unsafeCurrentTimeMillis())
            // A new pause (not every 429 of one burst) also lowers the limiter's share: the key's budget is shared.
            return Effect.zipRight(
              Metric.increment(metrics.rateLimited),
              Effect.flatMap(
                health.rateLimited(probe, Math.min(hinted ?? settings.firstPauseMillis, settings.maxRetryAfterMillis)),
                (starts) => (starts ? limiter.backOff : Effect.void)
              )
            )
          }
          if (response.status >= 500) {
            const error = fromStatus(call, response.status, body, undefined, 0)
            return health.failed(probe, Errors.isRetriable(error) ? describe(error) : String(response.status))
          }
          return health.succeeded(probe)
        }
      })

    const countRequest = Effect.zipRight(Effect.sync(() => stats.requests++), Metric.increment(metrics.requests))

    // The response's outcome: a plain function and one span annotation, no generator per response.
    const settle = <A>(
      call: Call<A>,
      traced: boolean,
      { body, response }: Exchange
    ): Effect.Effect<A, Errors.CertCentralError> => {
      const status = response.status
      const outcome: Effect.Effect<A, Errors.CertCentralError> = status < 200 || status >= 300
        ? Effect.fail(fromStatus(call, status, body, response.headers["retry-after"], clock.unsafeCurrentTimeMillis()))
        : decodeBody(call, status, response.headers["content-type"], body)
      return traced
        ? Effect.zipRight(Effect.annotateCurrentSpan("http.response.status_code", status), outcome)
        : outcome
    }

    const attempt = <A>(
      call: Call<A>,
      traced: boolean,
      lastError: Errors.RetriableError | undefined
    ): Effect.Effect<A, Errors.CertCentralError> => {
      const request = HttpClientRequest.get(call.path, { urlParams: call.query })
      const exchange: Effect.Effect<Exchange, Errors.TransportError | Errors.DecodeError> = (traced
        ? tracedClient
        : plainClient).execute(request)
        .pipe(
          Effect.mapError((e) => fromHttpError(call, e)),
          Effect.flatMap((response) =>
            readBody(call, response).pipe(
              Effect.catchTag("ResponseError", (e) => Effect.fail(fromHttpError(call, e))),
              Effect.map((body) => ({ response, body }))
            )
          ),
          (exchange) =>
            within(exchange, () =>
              new Errors.TransportError({
                endpoint: call.endpoint,
                orderId: call.orderId,
                reason: "timeout",
                message: `no complete response within ${Duration.format(timeout)}`
              }))
        )
      const send = (probe: boolean) =>
        countRequest.pipe(
          Effect.zipRight(exchange),
          Effect.onExit((exit) => report(call, probe, exit))
        )
      // The health gate is passed inside the limiter's permit, right before sending: a request that waited for room
      // in a window when a 429 came back or the circuit opened waits that out too, instead of being sent into it.
      // The outcome is reported before the permit is released, so no request that was waiting for it slips through.
      return limiter.withPermit(
        Effect.flatMap(
          health.admit(settings.maxOutageMillis),
          (go): Effect.Effect<Exchange, Errors.CertCentralError> =>
            go.gaveUp && lastError !== undefined
              ? Effect.flatMap(
                health.snapshot,
                (h) => Effect.fail(gaveUp(lastError, h.unavailableSince, clock.unsafeCurrentTimeMillis()))
              )
              : send(go.probe)
        )
      ).pipe(
        Effect.catchTag("StoreUnavailableError", (error) => Effect.fail(storeLost(call, error))),
        Effect.flatMap((exchange) => settle(call, traced, exchange))
      )
    }

    const policy = {
      maxAttempts: settings.maxAttempts,
      maxRateLimitedAttempts: settings.maxRateLimitedAttempts,
      maxRetryAfterMillis: settings.maxRetryAfterMillis,
      schedule: settings.schedule,
      budget,
      health,
      onRetry: Effect.zipRight(Effect.sync(() => stats.retries++), Metric.increment(metrics.retries))
    }

    // A span per call (and the platform's per request, the key redacted in its headers) under an installed tracer;
    // under Effect's own, which exports nothing, no span at all: tracing off for the call, one fiber ref set instead
    // of a span, two more fiber refs and the platform span's attributes per request (see bench/README.md).
    const traced = <A>(call: Call<A>): Effect.Effect<A, Errors.CertCentralError> =>
      retrying(policy, (lastError) => attempt(call, true, lastError)).pipe(
        Effect.locallyWith(Headers.currentRedactedNames, Arr.append(API_KEY_HEADER.toLowerCase())),
        Effect.withSpan(`CertCentral.${call.endpoint}`, {
          kind: "client",
          captureStackTrace: false,
          attributes: { "certcentral.order_id": call.orderId, "certcentral.endpoint": call.endpoint }
        })
      )
    const untraced = <A>(call: Call<A>): Effect.Effect<A, Errors.CertCentralError> =>
      Effect.withTracerEnabled(retrying(policy, (lastError) => attempt(call, false, lastError), false), false)
    const run = <A>(call: Call<A>): Effect.Effect<A, Errors.CertCentralError> =>
      Effect.tracerWith((tracer) => tracer === nativeTracer ? untraced(call) : traced(call))

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
      listStatusChanges: StatusChanges.make((request) => run(request)),
      stats: Effect.map(health.snapshot, (h) => ({
        ...stats,
        pauses: h.pauses,
        circuit: h.circuit,
        unavailableSince: h.unavailableSince,
        nextProbeAt: h.nextProbeAt,
        outages: h.outages,
        outageMillis: h.outageMillis,
        gaveUp: h.gaveUp
      }))
    }
    return service
  })
