/**
 * Lines of the errors file (NDJSON): one per order that failed for good and one per bad input line, in input order.
 * Nothing in a line depends on timing, so an interrupted and resumed export writes the same bytes.
 *
 * @since 0.1.0
 */
import type { CertCentralError } from "@certcentral/core"
import * as Schema from "effect/Schema"
import type * as OrderIds from "./OrderIds.js"
import * as Outcomes from "./Outcomes.js"

/**
 * The endpoints as `--include` names them (defined once, in {@link Outcomes.Endpoint}).
 *
 * @since 0.1.0
 * @category models
 */
export const Endpoint = Outcomes.Endpoint

/**
 * The type of an endpoint name as `--include` takes it.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = Outcomes.Endpoint

/**
 * An order that failed: the first endpoint that failed for good (in the order `order`, `duplicates`, `reissues`),
 * the error's tag, its HTTP status and DigiCert's code when there was a response.
 *
 * @since 0.1.0
 * @category models
 */
export const OrderFailure = Schema.Struct({
  order_id: Schema.Number,
  endpoint: Endpoint,
  error: Schema.String,
  status: Schema.NullOr(Schema.Number),
  code: Schema.NullOr(Schema.String),
  message: Schema.String
}).annotations({ identifier: "OrderFailure" })

/**
 * The type of an order's failure record.
 *
 * @since 0.1.0
 * @category models
 */
export type OrderFailure = typeof OrderFailure.Type

/**
 * A bad input line: its 1-based line number and text; `error` is `InvalidOrderIdError`.
 *
 * @since 0.1.0
 * @category models
 */
export const BadInputLine = Schema.Struct({
  line: Schema.Number,
  input: Schema.String,
  endpoint: Schema.Null,
  error: Schema.Literal("InvalidOrderIdError"),
  status: Schema.Null,
  code: Schema.Null,
  message: Schema.String
}).annotations({ identifier: "BadInputLine" })

/**
 * The type of a bad input line's record.
 *
 * @since 0.1.0
 * @category models
 */
export type BadInputLine = typeof BadInputLine.Type

/**
 * One line of the errors file.
 *
 * @since 0.1.0
 * @category models
 */
export const ErrorRecord = Schema.Union(OrderFailure, BadInputLine)

/**
 * The type of one line of the errors file.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorRecord = typeof ErrorRecord.Type

/**
 * The `--include` name of a client endpoint.
 *
 * @since 0.1.0
 * @category conversions
 */
export const endpointOf = (endpoint: CertCentralError.Endpoint): Endpoint => {
  const name = (Outcomes.endpointNames as Partial<Record<CertCentralError.Endpoint, Endpoint>>)[endpoint]
  // an order is only ever fetched from the per-order endpoints; a listing's failure never becomes an order's record
  if (name === undefined) throw new TypeError(`not a per-order endpoint: ${endpoint}`)
  return name
}

/**
 * The record of an order's failure.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromError = (orderId: number, error: CertCentralError.CertCentralError): OrderFailure => ({
  order_id: orderId,
  endpoint: endpointOf(error.endpoint),
  error: error._tag,
  status: "status" in error && error.status !== undefined ? error.status : null,
  code: "errors" in error && error.errors.length > 0 ? error.errors[0]!.raw : null,
  message: error.message
})

/**
 * The record of an outcome that goes to the errors file; `undefined` for an exported order.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromOutcome = (outcome: Outcomes.Outcome): ErrorRecord | undefined =>
  outcome._tag === "Failed"
    ? fromError(outcome.orderId, outcome.error)
    : outcome._tag === "BadLine"
    ? fromBadLine(outcome)
    : undefined

/**
 * The record of a bad input line.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromBadLine = (bad: OrderIds.BadLine): BadInputLine => ({
  line: bad.line,
  input: bad.input,
  endpoint: null,
  error: "InvalidOrderIdError",
  status: null,
  code: null,
  message: bad.message
})

/**
 * One line of NDJSON, line break included.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (record: ErrorRecord): string => JSON.stringify(record) + "\n"
