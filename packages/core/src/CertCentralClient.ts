/**
 * The CertCentral client: a service for the list duplicates, list reissues and subaccount order info endpoints of
 * DigiCert's Services API v2, with typed errors, retries, rolling-window rate limiting and Schema-decoded responses.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"
import * as BaseUrl from "./BaseUrl.js"
import type * as CertCentralError from "./CertCentralError.js"
import type * as ClientHealth from "./ClientHealth.js"
import type { DuplicateCertificate } from "./DuplicateCertificate.js"
import * as internal from "./internal/client.js"
import type * as OrderSummary from "./OrderSummary.js"
import type { ReissueCertificate } from "./ReissueCertificate.js"
import type * as RollingWindowLimiter from "./RollingWindowLimiter.js"
import type * as StatusChange from "./StatusChange.js"
import type { SubaccountOrder } from "./SubaccountOrder.js"

/**
 * DigiCert's regional base URLs for the Services API v2 (the same as `BaseUrl.regions`).
 *
 * @since 0.1.0
 * @category constants
 */
export const baseUrls: {
  readonly us: "https://www.digicert.com/services/v2"
  readonly eu: "https://certcentral.digicert.eu/services/v2"
} = BaseUrl.regions

/**
 * A CertCentral region: `"us"` (the default) or `"eu"`, each with its own base URL and its own API keys (the same as
 * `BaseUrl.Region`).
 *
 * @since 0.1.0
 * @category models
 */
export type Region = BaseUrl.Region

/**
 * How failed requests are retried. Only 429, 5xx and transport failures are ever retried; a complete body that does
 * not decode and any other 4xx are not.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** Tries in all for 5xx and transport failures, the first included (default 5). */
  readonly maxAttempts?: number
  /**
   * Tries in all for 429s, counted apart (default 15). DigiCert's longest window is 3 minutes and its 429s carry no
   * `Retry-After`, so a key that another tool has used up may need several minutes of waiting.
   */
  readonly maxRateLimitedAttempts?: number
  /** First backoff delay, doubled on each retry and jittered (default 500 ms). */
  readonly baseDelay?: Duration.DurationInput
  /** Longest single backoff delay (default 20 s). */
  readonly maxDelay?: Duration.DurationInput
  /** Longest wait a `Retry-After` header may impose; longer values are clamped (default 60 s). */
  readonly maxRetryAfter?: Duration.DurationInput
  /** Total time one call may spend on retries before it gives up (default 5 min). */
  readonly maxElapsed?: Duration.DurationInput
  /**
   * The retry budget shared by all calls of the client, against retry storms: each retry of a 5xx or transport
   * failure spends `retryCost` tokens, each success refunds one. When too few tokens are left the failures cluster:
   * the retry is not dropped but the circuit opens (one probe per pause, see `ClientHealth`) and the budget starts
   * full again (default `{ capacity: 100, retryCost: 5 }`). `false` turns it off.
   */
  readonly budget?: false | { readonly capacity: number; readonly retryCost: number }
  /**
   * How long the API may stay unavailable (the circuit open) before calls stop waiting and fail with their last
   * error; `Stats.gaveUp` is then true until a request succeeds (default 10 minutes). `0` fails fast: a call fails as
   * soon as the circuit opens. An export that must finish waits long; a service answering its own users picks a
   * few seconds.
   */
  readonly maxOutage?: Duration.DurationInput
  /**
   * When the circuit opens and how long it pauses, for the client's own health piece (ignored when a
   * `ClientHealth` layer is provided: its options rule).
   */
  readonly circuit?: ClientHealth.Options
  /**
   * Replaces the backoff entirely: the schedule receives each retriable error and decides whether and when to
   * retry. `Retry-After` is still honoured (the longer of the two waits) and the budget still applies. Failures while
   * the circuit is open are not steps of it: the circuit's pause is the wait.
   */
  readonly schedule?: Schedule.Schedule<unknown, CertCentralError.RetriableError>
}

/**
 * Options of {@link make} and {@link layer}. Everything but the key has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The CertCentral API key, sent only as `X-DC-DEVKEY`. */
  readonly apiKey: Redacted.Redacted<string>
  /** Base URL of the Services API v2 (wins over `region`), for example the testkit server's. */
  readonly baseUrl?: string | undefined
  /** DigiCert region when no `baseUrl` is given (default `"us"`). */
  readonly region?: Region | undefined
  /**
   * Rolling windows the client keeps to, or `"off"` (default: the `RollingWindowLimiter` service when the context
   * has one, else DigiCert's: 100 per 5 s and 1000 per 3 min). An existing limiter may be passed to share one budget
   * between several clients of the same key.
   */
  readonly rateLimit?:
    | ReadonlyArray<RollingWindowLimiter.Window>
    | RollingWindowLimiter.RollingWindowLimiter
    | "off"
    | undefined
  /** Retry policy, see {@link RetryOptions}. */
  readonly retry?: RetryOptions | undefined
  /** Time limit of one attempt, response body included (default 30 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest response body accepted, in bytes (default 16 MiB). */
  readonly maxResponseBytes?: number | undefined
  /** `User-Agent` header (default `certcentral-effect/<version>`). */
  readonly userAgent?: string | undefined
}

/**
 * Per-call options of the list endpoints.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  /** Include archived certificates (`show_archived=true`). */
  readonly showArchived?: boolean | undefined
}

/**
 * Per-call options of {@link CertCentralClient.getSubaccountOrder}.
 *
 * @since 0.1.0
 * @category models
 */
export interface OrderOptions {
  /** Ask for the order's validation status too (`include_validation_status=true`). */
  readonly includeValidationStatus?: boolean | undefined
}

/**
 * Filters of list orders, each sent as `filters[KEY]=VALUE` with the value verbatim, so DigiCert's operators pass
 * through (`{ status: "issued", valid_till: ">2026-01-01" }`). The documented names are typed; any other plain
 * property name DigiCert supports may be given too. `undefined` values are left out.
 *
 * @since 0.2.0
 * @category models
 */
export interface OrderFilters {
  /** Order status: `pending`, `issued`, `rejected`, `revoked`, `waiting_pickup`, `reissue_pending`, `canceled`. */
  readonly status?: string | undefined
  /** Creation date, `yyyy-MM-dd` with an optional operator. */
  readonly date_created?: string | undefined
  /** End of validity, `yyyy-MM-dd` with an optional operator. */
  readonly valid_till?: string | undefined
  /** Product identifier (`ssl_plus`, ...). */
  readonly product_name_id?: string | undefined
  readonly [name: string]: string | undefined
}

/**
 * Filters of list subaccount orders: those of {@link OrderFilters} and the subaccount.
 *
 * @since 0.2.0
 * @category models
 */
export interface SubaccountOrderFilters extends OrderFilters {
  /** Subaccount id. */
  readonly subaccount?: string | undefined
  /** Subaccount type. */
  readonly account_type?: string | undefined
}

/**
 * Options of {@link Service.listOrders} and {@link Service.listOrderPages}. Orders are always listed by ascending id
 * (`sort=id`).
 *
 * @since 0.2.0
 * @category models
 */
export interface ListOrdersOptions {
  readonly filters?: OrderFilters | undefined
  /** Orders per request, 1 to 1000 (default 1000, DigiCert's largest page). */
  readonly pageSize?: number | undefined
}

/**
 * Options of {@link Service.listSubaccountOrders} and {@link Service.listSubaccountOrderPages}.
 *
 * @since 0.2.0
 * @category models
 */
export interface ListSubaccountOrdersOptions extends ListOrdersOptions {
  readonly filters?: SubaccountOrderFilters | undefined
}

/**
 * Counts of what one client did since it was made.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** HTTP requests sent, retries included. */
  readonly requests: number
  /** Retries made. */
  readonly retries: number
  /** 429 responses received. */
  readonly rateLimited: number
  /** Client-wide pauses started by 429s (429s that arrive together make one). */
  readonly pauses: number
  /** The circuit: `closed`, `open` (waiting for the next probe) or `probing` (one probe out). */
  readonly circuit: ClientHealth.Circuit
  /** When the current outage began (epoch ms by Effect's `Clock`), while the circuit is not closed. */
  readonly unavailableSince: number | undefined
  /** When the next probe may go (epoch ms), while the circuit is open. */
  readonly nextProbeAt: number | undefined
  /** Circuit openings so far. */
  readonly outages: number
  /** Time spent with the circuit open, the current outage included. */
  readonly outageMillis: number
  /**
   * True once the API was unavailable for longer than `maxOutage`: calls now fail with their last error. Set before
   * the first such call returns; false again once a request succeeds.
   */
  readonly gaveUp: boolean
}

/**
 * The client service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Lists the duplicate certificates of an order. */
  readonly listDuplicates: (
    orderId: number,
    options?: ListOptions
  ) => Effect.Effect<ReadonlyArray<DuplicateCertificate>, CertCentralError.CertCentralError>
  /** Lists the reissued certificates of an order. */
  readonly listReissues: (
    orderId: number,
    options?: ListOptions
  ) => Effect.Effect<ReadonlyArray<ReissueCertificate>, CertCentralError.CertCentralError>
  /** Reads an order placed by a subaccount or sub-subaccount. */
  readonly getSubaccountOrder: (
    orderId: number,
    options?: OrderOptions
  ) => Effect.Effect<SubaccountOrder, CertCentralError.CertCentralError>
  /**
   * Every order of the account (list orders, `GET /order/certificate`), filtered, by ascending id, one request per
   * page. Each page goes through the same limiter, pause and retries as any call; a page that fails for good ends
   * the stream with its error.
   */
  readonly listOrders: (
    options?: ListOrdersOptions
  ) => Stream.Stream<OrderSummary.OrderSummary, CertCentralError.CertCentralError>
  /** The pages of {@link Service.listOrders}, for progress: each with its orders, `page.total` and counts so far. */
  readonly listOrderPages: (
    options?: ListOrdersOptions
  ) => Stream.Stream<OrderSummary.Page, CertCentralError.CertCentralError>
  /** Every order of the subaccounts and sub-subaccounts (list subaccount orders), as {@link Service.listOrders}. */
  readonly listSubaccountOrders: (
    options?: ListSubaccountOrdersOptions
  ) => Stream.Stream<OrderSummary.OrderSummary, CertCentralError.CertCentralError>
  /** The pages of {@link Service.listSubaccountOrders}. */
  readonly listSubaccountOrderPages: (
    options?: ListSubaccountOrdersOptions
  ) => Stream.Stream<OrderSummary.Page, CertCentralError.CertCentralError>
  /**
   * The status change list (`GET /order/certificate/status-changes`) of one frame of at most 7 days, every page: the
   * orders whose status changed in it. A frame past 7 days fails before any request (`InvalidListOptionsError`); one
   * DigiCert refuses anyway is a `BadRequestError` that `StatusChange.isTimeFrameTooLong` recognises.
   */
  readonly listStatusChanges: (
    frame: StatusChange.TimeFrame
  ) => Effect.Effect<ReadonlyArray<StatusChange.StatusChange>, CertCentralError.CertCentralError>
  /** What this client did so far: requests, retries, 429s, and the circuit's state. */
  readonly stats: Effect.Effect<Stats>
}

/**
 * The client service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class CertCentralClient extends Context.Tag("@certcentral/core/CertCentralClient")<
  CertCentralClient,
  Service
>() {}

/**
 * Builds a client from options and an `HttpClient`. The rate limiter and the health piece (429 pause and circuit)
 * come from the options or the context (`RollingWindowLimiter.layer`, `ClientHealth.layer`: shared by every client
 * given the same layer), else are made here, once, and shared by every fiber that uses the returned service. Bad
 * options fail with an `InvalidOptionsError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<Service, CertCentralError.InvalidOptionsError, HttpClient.HttpClient> = internal.make

/**
 * Process-wide `Metric` counters of every client: requests sent, retries, 429s received, circuit transitions (tagged
 * `transition`: `opened`, `reopened`, `closed`, `gave_up`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics: {
  readonly requests: Metric.Metric.Counter<number>
  readonly retries: Metric.Metric.Counter<number>
  readonly rateLimited: Metric.Metric.Counter<number>
  readonly circuitTransitions: Metric.Metric.Counter<number>
} = internal.metrics

/**
 * A layer of the client, needing an `HttpClient` (for example `NodeHttpClient.layerUndici`).
 *
 * @example
 * ```ts
 * import { CertCentralClient } from "@certcentral/core"
 * import { TestServer } from "@certcentral/testkit"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const certcentral = yield* CertCentralClient.CertCentralClient
 *   const order = yield* certcentral.getSubaccountOrder(12345)
 *   const duplicates = yield* certcentral.listDuplicates(12345)
 *   return { id: order.id, duplicates: duplicates.length }
 * })
 *
 * // Against the testkit's stand-in server here; pass your own key (and `region: "eu"` for EU keys) in production.
 * const ClientLive = Layer.unwrapEffect(
 *   Effect.map(TestServer.TestServer, (server) =>
 *     CertCentralClient.layer({ apiKey: Redacted.make(server.apiKey), baseUrl: server.baseUrl }))
 * ).pipe(Layer.provide(NodeHttpClient.layerUndici), Layer.provide(TestServer.layer()))
 *
 * Effect.runPromise(Effect.provide(program, ClientLive)).then((result) => assert.strictEqual(result.id, 12345))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<CertCentralClient, CertCentralError.InvalidOptionsError, HttpClient.HttpClient> =>
  Layer.effect(CertCentralClient, make(options))

/**
 * A layer of the client configured from the environment: `DIGICERT_API_KEY` (required, redacted) and
 * `DIGICERT_BASE_URL` (optional; else `options.baseUrl`, `options.region` or US). Other options as in {@link layer}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Omit<Options, "apiKey"> = {}
): Layer.Layer<
  CertCentralClient,
  ConfigError.ConfigError | CertCentralError.InvalidOptionsError,
  HttpClient.HttpClient
> =>
  Layer.effect(
    CertCentralClient,
    Effect.gen(function*() {
      const apiKey = yield* Config.redacted("DIGICERT_API_KEY")
      const baseUrl = yield* Config.option(Config.string("DIGICERT_BASE_URL"))
      const fromEnv = Option.filter(baseUrl, (url) => url.trim() !== "")
      const checked = Option.isSome(fromEnv) && options.baseUrl === undefined
        ? yield* Either.match(BaseUrl.validate(fromEnv.value, "DIGICERT_BASE_URL"), {
          onLeft: (message) => Effect.fail(ConfigError.InvalidData(["DIGICERT_BASE_URL"], message)),
          onRight: Effect.succeed
        })
        : options.baseUrl
      return yield* make({ ...options, apiKey, baseUrl: checked })
    })
  )
