/**
 * The typed errors of the CertCentral client: one union, each a `Schema.TaggedError` carrying what a caller needs to
 * decide what to do (endpoint, order id, HTTP status, DigiCert's `errors[]`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The client's endpoints, by method name.
 *
 * @since 0.1.0
 * @category models
 */
export const Endpoint = Schema.Literal(
  "listDuplicates",
  "listReissues",
  "getSubaccountOrder",
  "listOrders",
  "listSubaccountOrders",
  "listStatusChanges"
)

/**
 * One of the client's endpoints, by method name: `"listDuplicates"`, `"listReissues"`, `"getSubaccountOrder"`,
 * `"listOrders"`, `"listSubaccountOrders"` (the last two for every page of their listing) or `"listStatusChanges"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = typeof Endpoint.Type

/**
 * One entry of DigiCert's `{"errors":[{"code":"...","message":"..."}]}` body. A code such as `not_found|order` is
 * split into `code` (`not_found`) and `qualifier` (`order`); `raw` keeps it whole.
 *
 * @since 0.1.0
 * @category models
 */
export class DigiCertErrorEntry extends Schema.Class<DigiCertErrorEntry>("DigiCertErrorEntry")({
  raw: Schema.String,
  code: Schema.String,
  qualifier: Schema.optional(Schema.String),
  message: Schema.String
}) {}

const common = {
  endpoint: Endpoint,
  /** The order the call was about; absent for `listOrders` and `listSubaccountOrders`, which concern no one order. */
  orderId: Schema.optional(Schema.Number),
  message: Schema.String
}

const withResponse = {
  ...common,
  status: Schema.Number,
  errors: Schema.Array(DigiCertErrorEntry)
}

/**
 * 401: the API key is missing, wrong or revoked. Not retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError
  extends Schema.TaggedError<AuthenticationError>()("AuthenticationError", withResponse)
{}

/**
 * 403: the key may not read this order (for example `access_denied|missing_permission`). Not retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class PermissionError extends Schema.TaggedError<PermissionError>()("PermissionError", withResponse) {}

/**
 * 404: no such order (`not_found|order`) or route. Not retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFoundError extends Schema.TaggedError<NotFoundError>()("NotFoundError", withResponse) {}

/**
 * 429 `request_limit_exceeded`, after the retries allowed by the policy. `retryAfter` is the server's hint in
 * milliseconds when it sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitedError extends Schema.TaggedError<RateLimitedError>()("RateLimitedError", {
  ...withResponse,
  retryAfterMillis: Schema.optional(Schema.Number)
}) {}

/**
 * Any other 4xx. Not retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequestError extends Schema.TaggedError<BadRequestError>()("BadRequestError", withResponse) {}

/**
 * 5xx, after the retries allowed by the policy.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  ...withResponse,
  retryAfterMillis: Schema.optional(Schema.Number)
}) {}

/**
 * The request or response did not get through: connection refused or reset, the timeout, or a body cut short
 * (fewer bytes than `Content-Length`, a reset mid-body). Retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  ...common,
  reason: Schema.Literal("connection", "timeout", "body"),
  status: Schema.optional(Schema.Number)
}) {}

/**
 * A complete 2xx response whose body is not JSON, is declared as another content type, is nested too deeply, is larger
 * than the client accepts, or does not fit the schema;
 * `path` says where it failed. Not retried: the same body would come back.
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  ...common,
  status: Schema.Number,
  path: Schema.String
}) {}

/**
 * The order id is not a positive safe integer; raised before any request is made.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOrderIdError extends Schema.TaggedError<InvalidOrderIdError>()("InvalidOrderIdError", {
  endpoint: Endpoint,
  input: Schema.String,
  message: Schema.String
}) {}

/**
 * Options of a listing (`listOrders`, `listSubaccountOrders`) that cannot be sent: a page size outside 1 to 1000 or a
 * filter name that is not a plain property name. Raised before any request is made.
 *
 * @since 0.2.0
 * @category errors
 */
export class InvalidListOptionsError extends Schema.TaggedError<InvalidListOptionsError>()("InvalidListOptionsError", {
  endpoint: Endpoint,
  option: Schema.String,
  message: Schema.String
}) {}

/**
 * A store the client shares with other processes (the rate limiter's windows or the 429 pause and circuit, in Redis
 * for shared limits) stayed unreachable for longer than its `maxOutage`. Until then the client waits and retries.
 * The message never carries the store's password.
 *
 * @since 0.2.0
 * @category errors
 */
export class StoreUnavailableError extends Schema.TaggedError<StoreUnavailableError>()("StoreUnavailableError", {
  /** Which shared state: the rate limiter's windows or the client's health (pause and circuit). */
  store: Schema.Literal("limiter", "health"),
  /** How long the store had been unreachable, in milliseconds. */
  millis: Schema.Number,
  /** The last failure, one line. */
  detail: Schema.String
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    return `Redis unreachable for ${Math.round(this.millis / 1000)} s, longer than allowed: ${this.detail}`
  }
}

/**
 * The client gave up: the API stayed unavailable (the circuit open) for longer than the client's `retry.maxOutage`,
 * or a store shared with other processes (Redis) for longer than its own. `lastError` is the call's last transient
 * failure (or the store's); `unavailableMillis` how long the outage had lasted. Not retried by the client: a later call
 * tries again (and so finds out when the API is back).
 *
 * @since 0.2.0
 * @category errors
 */
export class UnavailableError extends Schema.TaggedError<UnavailableError>()("UnavailableError", {
  ...common,
  unavailableMillis: Schema.Number,
  lastError: Schema.Union(ServerError, TransportError, RateLimitedError, StoreUnavailableError)
}) {}

/**
 * Every failure the client can produce. Match them by tag; every one carries the endpoint, and those of per-order
 * calls the order id.
 *
 * @example
 * ```ts
 * import { CertCentralClient } from "@certcentral/core"
 * import { Effect, Option } from "effect"
 *
 * // Orders the key may not see or that do not exist become `None`; every other failure stays typed.
 * const orderOrNone = (orderId: number) =>
 *   Effect.flatMap(CertCentralClient.CertCentralClient, (client) => client.getSubaccountOrder(orderId)).pipe(
 *     Effect.map(Option.some),
 *     Effect.catchTags({
 *       NotFoundError: () => Effect.succeedNone,
 *       PermissionError: (error) =>
 *         Effect.logWarning(`order ${error.orderId}: ${error.errors.map((e) => e.raw).join(", ")}`).pipe(
 *           Effect.as(Option.none())
 *         )
 *     })
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CertCentralError =
  | AuthenticationError
  | PermissionError
  | NotFoundError
  | RateLimitedError
  | BadRequestError
  | ServerError
  | TransportError
  | DecodeError
  | InvalidOrderIdError
  | InvalidListOptionsError
  | UnavailableError

/**
 * The schema of the union, for encoding errors (for example into an errors file).
 *
 * @since 0.1.0
 * @category errors
 */
export const CertCentralError = Schema.Union(
  AuthenticationError,
  PermissionError,
  NotFoundError,
  RateLimitedError,
  BadRequestError,
  ServerError,
  TransportError,
  DecodeError,
  InvalidOrderIdError,
  InvalidListOptionsError,
  UnavailableError
)

/**
 * The errors a retry may fix.
 *
 * @since 0.1.0
 * @category errors
 */
export type RetriableError = RateLimitedError | ServerError | TransportError

/**
 * Tells whether a second try could succeed (429, 5xx, transport failures).
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetriable = (error: CertCentralError): error is RetriableError =>
  error._tag === "RateLimitedError" || error._tag === "ServerError" || error._tag === "TransportError"

/**
 * A transient failure in a few words for people, without secrets: `503 service_unavailable`, `connection failed`,
 * `timeout`, `response body cut short`. Log lines, `Stats`, and the export's messages all use it.
 *
 * @example
 * ```ts
 * import { CertCentralError } from "@certcentral/core"
 *
 * const error = new CertCentralError.TransportError({
 *   endpoint: "listDuplicates",
 *   orderId: 1,
 *   reason: "timeout",
 *   message: "no complete response within 30s"
 * })
 * assert.strictEqual(CertCentralError.describe(error), "timeout")
 * ```
 *
 * @since 0.2.0
 * @category conversions
 */
export const describe = (error: RetriableError | StoreUnavailableError): string => {
  if (error._tag === "StoreUnavailableError") return `Redis unreachable: ${error.detail}`
  if (error._tag === "TransportError") {
    const what = error.reason === "connection"
      ? "connection failed"
      : error.reason === "timeout"
      ? "timeout"
      : "response body cut short"
    return error.status === undefined ? what : `${error.status} ${what}`
  }
  const code = error.errors[0]?.raw
  return code === undefined ? String(error.status) : `${error.status} ${code.slice(0, 60)}`
}

/**
 * An option given to `CertCentralClient.make` (or `layer`, `layerConfig`) that cannot work: a base URL that is not an
 * http(s) URL, an unknown region, a rate-limit window of no requests, a negative duration. Raised once, when the
 * client is made, never by a call.
 *
 * @since 0.2.0
 * @category errors
 */
export class InvalidOptionsError extends Schema.TaggedError<InvalidOptionsError>()("InvalidOptionsError", {
  option: Schema.String,
  message: Schema.String
}) {}
