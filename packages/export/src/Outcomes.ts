/**
 * The middle stage of an export: input entries in, one {@link Outcome} per entry out, in input order. It owns the
 * calls to CertCentral (each order's endpoints concurrently, a bounded number of orders in flight, an order all or
 * nothing) and the first-order key probe; it knows nothing of files.
 *
 * @since 0.2.0
 */
import { CertCentralClient, CertCentralError } from "@certcentral/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as CertificateRow from "./CertificateRow.js"
import { mapInOrder } from "./internal/inOrder.js"
import type * as OrderIds from "./OrderIds.js"

/**
 * The endpoints an export may call, as `--include` names them.
 *
 * @since 0.2.0
 * @category models
 */
export const Endpoint = Schema.Literal("order", "duplicates", "reissues")

/**
 * The type of an endpoint name as `--include` takes it.
 *
 * @since 0.2.0
 * @category models
 */
export type Endpoint = typeof Endpoint.Type

/**
 * The client's per-order endpoints (the list endpoints only discover order ids).
 *
 * @since 0.2.0
 * @category models
 */
export type OrderEndpoint = Exclude<
  CertCentralError.Endpoint,
  "listOrders" | "listSubaccountOrders" | "listStatusChanges"
>

/**
 * The `--include` name of each of the client's endpoints: the one place the two vocabularies meet.
 *
 * @since 0.2.0
 * @category constants
 */
export const endpointNames: { readonly [K in OrderEndpoint]: Endpoint } = {
  getSubaccountOrder: "order",
  listDuplicates: "duplicates",
  listReissues: "reissues"
}

/**
 * Every endpoint, in the canonical order `order`, `duplicates`, `reissues`: the default of `include`.
 *
 * @since 0.2.0
 * @category constants
 */
export const allEndpoints: ReadonlyArray<Endpoint> = Endpoint.literals

/**
 * The include list without repeats, in the canonical order.
 *
 * @since 0.2.0
 * @category constructors
 */
export const normalizeInclude = (include: ReadonlyArray<Endpoint> | undefined): ReadonlyArray<Endpoint> =>
  include === undefined ? allEndpoints : allEndpoints.filter((e) => include.includes(e))

/**
 * How orders are fetched.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Endpoints to call (default all); one left out is never called. Without `order`, order columns are empty. */
  readonly include?: ReadonlyArray<Endpoint> | undefined
  /** Pass `show_archived=true` to the list endpoints. */
  readonly showArchived?: boolean | undefined
  /** Orders in flight at once (default {@link defaultConcurrency}). */
  readonly concurrency?: number | undefined
}

/**
 * Orders in flight at once unless told otherwise: with three endpoints each, enough to keep DigiCert's 100 requests
 * per 5 seconds busy without queueing much behind the rate limiter.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultConcurrency = 8

/**
 * An order whose rows are all there.
 *
 * @since 0.2.0
 * @category models
 */
export interface Exported {
  readonly _tag: "Exported"
  readonly orderId: OrderIds.Id["orderId"]
  readonly line: number
  readonly rows: ReadonlyArray<CertificateRow.CertificateRow>
  /** Duplicates and reissues entries that got no row: echoes of the order's certificate or repeats (absent: 0). */
  readonly folded?: number | undefined
}

/**
 * An order that failed for good on some endpoint; none of its rows are written.
 *
 * @since 0.2.0
 * @category models
 */
export interface Failed {
  readonly _tag: "Failed"
  readonly orderId: OrderIds.Id["orderId"]
  readonly line: number
  readonly error: Exclude<CertCentralError.CertCentralError, CertCentralError.AuthenticationError>
}

/**
 * What became of one input entry, in input order.
 *
 * @since 0.2.0
 * @category models
 */
export type Outcome = Exported | Failed | OrderIds.BadLine

/**
 * The export stopped because the API stayed unavailable longer than the client's `retry.maxOutage`: `orderId` failed
 * with the client's `UnavailableError`, whose last transient `error` (5xx, connection, timeout, 429) it carries. It is not a
 * per-order failure: that order and every one after it are left out of the outcomes (and so out of the errors
 * file), the outcomes before it are all there, and a resume continues at `orderId`.
 *
 * @since 0.2.0
 * @category errors
 */
export class ApiUnavailableError extends Schema.TaggedError<ApiUnavailableError>()("ApiUnavailableError", {
  /** The order (and its input line) the export stopped at: the first one, in input order, that met the outage. */
  orderId: Schema.Number,
  line: Schema.Number,
  /** The order's last error (or the shared store's, when Redis was lost). */
  error: CertCentralError.UnavailableError.fields.lastError,
  /** How long the API had been unavailable when the order failed. */
  unavailableMillis: Schema.Number,
  message: Schema.String
}) {}

/**
 * A short description of a transient failure, without secrets: `503 service_unavailable`, `connection failed`.
 *
 * @since 0.2.0
 * @category conversions
 */
export const describeFailure: (error: CertCentralError.UnavailableError["lastError"]) => string =
  CertCentralError.describe

/** An order that failed transiently after the client gave up on an outage: the stream ends there. */
interface GaveUp {
  readonly _tag: "GaveUp"
  readonly error: ApiUnavailableError
}

/**
 * The input entry an outcome stands for (what a checkpoint counts and digests).
 *
 * @since 0.2.0
 * @category conversions
 */
export const toEntry = (outcome: Outcome): OrderIds.Entry =>
  outcome._tag === "BadLine" ? outcome : { _tag: "Id", orderId: outcome.orderId, line: outcome.line }

type Fetched<A> = Option.Option<Either.Either<A, CertCentralError.CertCentralError>>

// One part of an order: its value, its lasting failure (kept until the order's other endpoints are back), or none
// when the endpoint is left out. A 401 ends the order at once.
const part = <A>(
  included: boolean,
  call: () => Effect.Effect<A, CertCentralError.CertCentralError>
): Effect.Effect<Fetched<A>, CertCentralError.AuthenticationError> =>
  included
    ? Effect.matchEffect(call(), {
      onFailure: (error) =>
        error._tag === "AuthenticationError" ? Effect.fail(error) : Effect.succeed(Option.some(Either.left(error))),
      onSuccess: (a) => Effect.succeed(Option.some(Either.right(a)))
    })
    : Effect.succeed(Option.none())

const value = <A>(fetched: Fetched<A>): A | undefined =>
  Option.isSome(fetched) && Either.isRight(fetched.value) ? fetched.value.right : undefined

// Fetches one order's endpoints concurrently and builds its rows. The error, when several endpoints fail, is the first
// in the order `order`, `duplicates`, `reissues` (so it does not depend on timing); a 401 wins over anything. The
// planner: an order a listing says has no duplicates gets no duplicates request, and an empty list in its place.
const fetchWith = (
  client: CertCentralClient.Service,
  include: ReadonlyArray<Endpoint>,
  options: Options,
  id: OrderIds.Id
): Effect.Effect<CertificateRow.OrderRows, CertCentralError.CertCentralError> => {
  const list = { showArchived: options.showArchived === true }
  const orderId = id.orderId
  const duplicates = !include.includes("duplicates")
    ? Effect.succeed(Option.none())
    : id.hasDuplicates === false
    ? Effect.succeed(Option.some(Either.right([])))
    : part(true, () => client.listDuplicates(orderId, list))
  return Effect.flatMap(
    Effect.all([
      part(include.includes("order"), () => client.getSubaccountOrder(orderId)),
      duplicates,
      part(include.includes("reissues"), () => client.listReissues(orderId, list))
    ], { concurrency: "unbounded" }),
    ([order, duplicates, reissues]) => {
      const failures: ReadonlyArray<Fetched<unknown>> = [order, duplicates, reissues]
      for (const fetched of failures) {
        if (Option.isSome(fetched) && Either.isLeft(fetched.value)) return Effect.fail(fetched.value.left)
      }
      return Effect.succeed(CertificateRow.fromOrderCounted(orderId, {
        order: value(order),
        duplicates: value(duplicates),
        reissues: value(reissues)
      }))
    }
  )
}

/**
 * Every input entry's outcome, in input order, with at most `concurrency` orders in flight. An entry whose
 * `hasDuplicates` is `false` (a listing said so) gets no duplicates request. An order that fails for good becomes a
 * {@link Failed} outcome and the export goes on; a 401 fails the stream. The first order runs alone,
 * so that a key the API refuses stops the export after a request or three instead of one per order in flight.
 *
 * An order that fails transiently once the client has given up on an outage (past `retry.maxOutage`) ends the stream
 * with an {@link ApiUnavailableError} instead, after every outcome before it in input order: orders in flight after it
 * are dropped, so what was emitted is always a prefix of the input that a resume can continue from.
 *
 * @since 0.2.0
 * @category streams
 */
export const stream = <E, R>(
  entries: Stream.Stream<OrderIds.Entry, E, R>,
  options: Options = {}
): Stream.Stream<
  Outcome,
  E | CertCentralError.AuthenticationError | ApiUnavailableError,
  R | CertCentralClient.CertCentralClient
> =>
  Stream.unwrap(Effect.gen(function*() {
    const client = yield* CertCentralClient.CertCentralClient
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? defaultConcurrency))
    const include = normalizeInclude(options.include)
    const keyAccepted = yield* Deferred.make<void>()
    let probing = false
    // the client's give-up on an outage ends the stream; any other failure is the order's own
    const failed = (id: OrderIds.Id, error: Failed["error"]): Failed | GaveUp =>
      error._tag === "UnavailableError"
        ? {
          _tag: "GaveUp",
          error: new ApiUnavailableError({
            orderId: id.orderId,
            line: id.line,
            error: error.lastError,
            unavailableMillis: error.unavailableMillis,
            message: `the API has been unavailable for ${Math.round(error.unavailableMillis / 1000)} s (last: ${
              describeFailure(error.lastError)
            }); stopped at order ${id.orderId}`
          })
        }
        : { _tag: "Failed", orderId: id.orderId, line: id.line, error }
    const run = (id: OrderIds.Id): Effect.Effect<
      Exported | Failed | GaveUp,
      CertCentralError.AuthenticationError,
      CertCentralClient.CertCentralClient
    > =>
      Effect.matchEffect(fetchWith(client, include, options, id), {
        onFailure: (error) =>
          error._tag === "AuthenticationError" ? Effect.fail(error) : Effect.succeed(failed(id, error)),
        onSuccess: ({ folded, rows }) =>
          Effect.succeed<Exported>({ _tag: "Exported", orderId: id.orderId, line: id.line, rows, folded })
      })
    // the order that met the outage fails: in input order, everything before it, then the stop
    const outcome = (id: OrderIds.Id): Effect.Effect<
      Outcome,
      CertCentralError.AuthenticationError | ApiUnavailableError,
      CertCentralClient.CertCentralClient
    > => Effect.flatMap(run(id), (o) => o._tag === "GaveUp" ? Effect.fail(o.error) : Effect.succeed(o))
    const work = (entry: OrderIds.Entry): Effect.Effect<
      Outcome,
      CertCentralError.AuthenticationError | ApiUnavailableError,
      CertCentralClient.CertCentralClient
    > => {
      if (entry._tag === "BadLine") return Effect.succeed(entry)
      // the first order probes the key; the others wait until it was accepted
      if (!probing) {
        probing = true
        return Effect.tap(outcome(entry), () => Deferred.succeed(keyAccepted, undefined))
      }
      return Effect.zipRight(Deferred.await(keyAccepted), outcome(entry))
    }
    return mapInOrder(entries, concurrency, work)
  }))
