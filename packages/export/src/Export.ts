/**
 * The export pipeline: order ids in, certificate rows out. Each order's endpoints are called concurrently, a bounded
 * number of orders is in flight, results come out in input order, and an order is all or nothing. {@link toFiles}
 * writes the result to an output and an errors file with a checkpoint for `--resume`.
 *
 * @since 0.1.0
 */
import type { DuplicateCertificate, ReissueCertificate, SubaccountOrder } from "@certcentral/core"
import { CertCentralClient, CertCentralError } from "@certcentral/core"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as CertificateRow from "./CertificateRow.js"
import * as ErrorRecord from "./ErrorRecord.js"
import type * as ExportError from "./ExportError.js"
import * as sink from "./internal/sink.js"
import * as OrderIds from "./OrderIds.js"
import type * as Progress from "./Progress.js"
import type * as RowEncoder from "./RowEncoder.js"

/**
 * The endpoints an export may call, as `--include` names them.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = ErrorRecord.Endpoint

/**
 * Every endpoint, the default of `include`.
 *
 * @since 0.1.0
 * @category constants
 */
export const allEndpoints: ReadonlyArray<Endpoint> = ["order", "duplicates", "reissues"]

/**
 * How orders are fetched.
 *
 * @since 0.1.0
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
 * @since 0.1.0
 * @category constants
 */
export const defaultConcurrency = 8

/**
 * An order whose rows are all there.
 *
 * @since 0.1.0
 * @category models
 */
export interface Exported {
  readonly _tag: "Exported"
  readonly orderId: number
  readonly line: number
  readonly rows: ReadonlyArray<CertificateRow.CertificateRow>
}

/**
 * An order that failed for good on some endpoint; none of its rows are written.
 *
 * @since 0.1.0
 * @category models
 */
export interface Failed {
  readonly _tag: "Failed"
  readonly orderId: number
  readonly line: number
  readonly error: Exclude<CertCentralError.CertCentralError, CertCentralError.AuthenticationError>
  readonly record: ErrorRecord.OrderFailure
}

/**
 * What became of one input entry, in input order.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = Exported | Failed | OrderIds.BadLine

/**
 * The include list without repeats, in the canonical order `order`, `duplicates`, `reissues`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const normalizeInclude = (include: ReadonlyArray<Endpoint> | undefined): ReadonlyArray<Endpoint> =>
  include === undefined ? allEndpoints : allEndpoints.filter((e) => include.includes(e))

type Fetched<A> = Option.Option<Either.Either<A, CertCentralError.CertCentralError>>

/**
 * Fetches one order's endpoints concurrently and builds its rows. The error, when several endpoints fail, is the
 * first in the order `order`, `duplicates`, `reissues` (so it does not depend on timing); a 401 wins over anything.
 *
 * @since 0.1.0
 * @category fetching
 */
export const fetchOrder = (
  orderId: number,
  options: Options = {}
): Effect.Effect<
  ReadonlyArray<CertificateRow.CertificateRow>,
  CertCentralError.CertCentralError,
  CertCentralClient.CertCentralClient
> =>
  Effect.gen(function*() {
    const client = yield* CertCentralClient.CertCentralClient
    const include = normalizeInclude(options.include)
    const list = { showArchived: options.showArchived === true }
    const part = <A>(
      endpoint: Endpoint,
      call: () => Effect.Effect<A, CertCentralError.CertCentralError>
    ): Effect.Effect<Fetched<A>, CertCentralError.AuthenticationError> =>
      include.includes(endpoint)
        ? call().pipe(
          Effect.map((a) => Option.some(Either.right(a))),
          // a 401 ends the order at once; other failures wait for the order's other endpoints
          Effect.catchAll((error) =>
            error._tag === "AuthenticationError" ? Effect.fail(error) : Effect.succeed(Option.some(Either.left(error)))
          )
        )
        : Effect.succeed(Option.none())
    const [order, duplicates, reissues] = yield* Effect.all([
      part<SubaccountOrder.SubaccountOrder>("order", () => client.getSubaccountOrder(orderId)),
      part<ReadonlyArray<DuplicateCertificate.DuplicateCertificate>>(
        "duplicates",
        () => client.listDuplicates(orderId, list)
      ),
      part<ReadonlyArray<ReissueCertificate.ReissueCertificate>>("reissues", () => client.listReissues(orderId, list))
    ], { concurrency: "unbounded" })
    const failures: ReadonlyArray<Fetched<unknown>> = [order, duplicates, reissues]
    for (const fetched of failures) {
      if (Option.isSome(fetched) && Either.isLeft(fetched.value)) return yield* Effect.fail(fetched.value.left)
    }
    const value = <A>(fetched: Fetched<A>): A | undefined =>
      Option.isSome(fetched) && Either.isRight(fetched.value) ? fetched.value.right : undefined
    return CertificateRow.fromOrder(orderId, {
      order: value(order),
      duplicates: value(duplicates),
      reissues: value(reissues)
    })
  })

/**
 * Every input entry's outcome, in input order, with at most `concurrency` orders in flight. An order that fails for
 * good becomes a {@link Failed} outcome and the export goes on; a 401 fails the stream. The first order runs alone,
 * so that a key the API refuses stops the export after a request or three instead of one per order in flight.
 *
 * @since 0.1.0
 * @category streams
 */
export const outcomes = <E, R>(
  entries: Stream.Stream<OrderIds.Entry, E, R>,
  options: Options = {}
): Stream.Stream<Outcome, E | CertCentralError.AuthenticationError, R | CertCentralClient.CertCentralClient> =>
  Stream.unwrap(Effect.gen(function*() {
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? defaultConcurrency))
    const keyAccepted = yield* Deferred.make<void>()
    let probing = false
    const run = (id: OrderIds.Id): Effect.Effect<
      Exported | Failed,
      CertCentralError.AuthenticationError,
      CertCentralClient.CertCentralClient
    > =>
      fetchOrder(id.orderId, options).pipe(
        Effect.map((rows): Exported | Failed => ({ _tag: "Exported", orderId: id.orderId, line: id.line, rows })),
        Effect.catchAll((error) =>
          error._tag === "AuthenticationError"
            ? Effect.fail(error)
            : Effect.succeed<Failed>({
              _tag: "Failed",
              orderId: id.orderId,
              line: id.line,
              error,
              record: ErrorRecord.fromError(id.orderId, error)
            })
        )
      )
    return Stream.mapEffect(entries, (entry): Effect.Effect<
      Outcome,
      CertCentralError.AuthenticationError,
      CertCentralClient.CertCentralClient
    > => {
      if (entry._tag === "BadLine") return Effect.succeed(entry)
      if (!probing) {
        probing = true
        return Effect.tap(run(entry), () => Deferred.succeed(keyAccepted, undefined))
      }
      return Effect.zipRight(Deferred.await(keyAccepted), run(entry))
    }, { concurrency })
  }))

/**
 * The rows of many orders, in input order. Orders that fail for good are left out and handed to `onFailure`; ids
 * that are not positive safe integers to `onBadLine` (with their position as line number). Repeated ids come once.
 *
 * @since 0.1.0
 * @category streams
 */
export const rows = <E, R>(
  ids: Stream.Stream<number, E, R>,
  options: Options & {
    readonly onFailure?: ((failed: Failed) => Effect.Effect<void>) | undefined
    readonly onBadLine?: ((bad: OrderIds.BadLine) => Effect.Effect<void>) | undefined
  } = {}
): Stream.Stream<
  CertificateRow.CertificateRow,
  E | CertCentralError.AuthenticationError,
  R | CertCentralClient.CertCentralClient
> => {
  // through the line parser, so that repeated ids come out once and invalid numbers are reported, as for files
  const entries = OrderIds.fromLines(Stream.map(ids, String))
  return outcomes(entries, options).pipe(
    Stream.mapConcatEffect((outcome) => {
      switch (outcome._tag) {
        case "Exported":
          return Effect.succeed(outcome.rows)
        case "Failed":
          return Effect.as(options.onFailure?.(outcome) ?? Effect.void, [])
        case "BadLine":
          return Effect.as(options.onBadLine?.(outcome) ?? Effect.void, [])
      }
    })
  )
}

/**
 * Options of {@link toFiles}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileOptions extends Options {
  /** The output file. */
  readonly output: string
  /** The errors file (default `<output>.errors.ndjson`). */
  readonly errors?: string | undefined
  /** Default from the output's extension: `.ndjson`/`.jsonl` give NDJSON, else CSV. */
  readonly format?: RowEncoder.Format | undefined
  /** Continue from the checkpoint of an earlier run into the same files. */
  readonly resume?: boolean | undefined
  /** Receives progress. */
  readonly progress?: Progress.Tracker | undefined
  /** How often the files are synced and the checkpoint replaced (default 1 second). */
  readonly checkpointEvery?: Duration.DurationInput | undefined
}

/**
 * What an export to files did, counting entries done before a resume too.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly exported: number
  readonly failed: number
  readonly badLines: number
  readonly rows: number
  /** `--resume` found the export already complete and did nothing. */
  readonly alreadyComplete: boolean
  /** This run continued an earlier one. */
  readonly resumed: boolean
  readonly output: string
  readonly errors: string
}

/**
 * Writes an export to an output file (CSV or NDJSON) and an errors file (NDJSON), in input order, with a checkpoint
 * (`<output>.checkpoint.json`) replaced about every second after both files are synced. Without `resume` existing
 * files are overwritten. With `resume` the checkpoint's options and input prefix must match; both files are cut back
 * to the checkpoint's lengths and the export goes on from there, so the result is byte-identical to an uninterrupted
 * run. On interruption or a 401 the files are synced and the checkpoint written before it returns. At the end the
 * checkpoint is kept, marked complete, so that another `resume` does nothing.
 *
 * @since 0.1.0
 * @category files
 */
export const toFiles = <E, R>(
  input: Stream.Stream<OrderIds.Entry, E, R>,
  options: FileOptions
): Effect.Effect<
  Summary,
  E | CertCentralError.AuthenticationError | ExportError.ExportError,
  R | CertCentralClient.CertCentralClient
> => sink.toFiles(input, options, outcomes)
