import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Errors from "../CertCentralError.js"
import { jsonDepth, MAX_DEPTH } from "./body.js"

/** Where a request was going, for the errors made of its outcome. */
export interface Target {
  readonly endpoint: Errors.Endpoint
  /** Absent for the list endpoints. */
  readonly orderId?: number | undefined
}

const ErrorBody = Schema.Struct({
  errors: Schema.Array(Schema.Struct({ code: Schema.String, message: Schema.optional(Schema.String) }))
})
const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody)

/** Parses DigiCert's `{"errors":[...]}` body; anything else gives no entries. */
const parseErrorEntries = (body: string): ReadonlyArray<Errors.DigiCertErrorEntry> => {
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

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code ?? (cause.cause as { code?: unknown } | undefined)?.code
    return typeof code === "string" ? `: ${code}` : `: ${cause.message.slice(0, 200)}`
  }
  return ""
}

/** A failed exchange: no response (connection) or a body that could not be read. */
export const fromHttpError = (target: Target, error: HttpClientError.HttpClientError): Errors.TransportError =>
  new Errors.TransportError({
    endpoint: target.endpoint,
    orderId: target.orderId,
    reason: error._tag === "ResponseError" ? "body" : "connection",
    ...(error._tag === "ResponseError" ? { status: error.response.status } : {}),
    message: error._tag === "ResponseError"
      ? `response body could not be read (${error.reason})`
      : `request failed (${error.reason})${describeCause(error.cause)}`
  })

/** A non-2xx response, by status, with DigiCert's `errors[]` and the `Retry-After` hint where one applies. */
export const fromStatus = (
  target: Target,
  status: number,
  body: string,
  retryAfter: string | undefined,
  nowMillis: number
): Errors.CertCentralError => {
  const errors = parseErrorEntries(body)
  const fields = {
    endpoint: target.endpoint,
    orderId: target.orderId,
    status,
    errors,
    message: errors.length > 0 ? errors.map((e) => `${e.raw}: ${e.message}`).join("; ") : `HTTP ${status}`
  }
  const retryAfterMillis = parseRetryAfter(retryAfter, nowMillis)
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

/** A 2xx body that is JSON but does not fit the endpoint's schema, with the path that failed. */
export const schemaMismatch = (
  endpoint: Errors.Endpoint,
  orderId: number | undefined,
  status: number,
  error: ParseResult.ParseError
): Errors.DecodeError => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const path = issue === undefined ? "" : issue.path.map(String).join(".")
  return new Errors.DecodeError({
    endpoint,
    orderId,
    status,
    path,
    message: `response does not fit the ${endpoint} schema at ${path === "" ? "the root" : path}: ${
      (issue?.message ?? "invalid").slice(0, 300)
    }`
  })
}

/** A transient failure in a few words: one wording for log lines, `Stats` and the export (see `describe`). */
export const describe = Errors.describe

/** A shared store lost past its `maxOutage`: the call gives up as on an outage of the API, one failure for both. */
export const storeLost = (target: Target, error: Errors.StoreUnavailableError): Errors.UnavailableError =>
  new Errors.UnavailableError({
    endpoint: target.endpoint,
    orderId: target.orderId,
    unavailableMillis: error.millis,
    lastError: error,
    message: error.message
  })

/** The call's failure once the client gave up on an outage: its last transient error, and for how long. */
export const gaveUp = (
  lastError: Errors.RetriableError,
  unavailableSince: number | undefined,
  nowMillis: number
): Errors.UnavailableError => {
  const unavailableMillis = unavailableSince === undefined ? 0 : Math.max(0, nowMillis - unavailableSince)
  return new Errors.UnavailableError({
    endpoint: lastError.endpoint,
    orderId: lastError.orderId,
    unavailableMillis,
    lastError,
    message: `the API has been unavailable for ${
      Math.round(unavailableMillis / 1000)
    } s, longer than maxOutage (last: ${describe(lastError)})`
  })
}
