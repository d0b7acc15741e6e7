/**
 * The export, composed from its three one-way stages: order ids ({@link OrderIds}) -> outcomes ({@link Outcomes}:
 * the CertCentral calls) -> files ({@link ExportSink}: output, errors file, checkpoint). {@link toFiles} is the whole
 * job; {@link rows} is the stream of rows for pipelines of your own.
 *
 * @since 0.1.0
 */
import type { CertCentralError } from "@certcentral/core"
import { CertCentralClient } from "@certcentral/core"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as CertificateRow from "./CertificateRow.js"
import type * as ExportError from "./ExportError.js"
import * as ExportSink from "./ExportSink.js"
import * as OrderIds from "./OrderIds.js"
import * as Outcomes from "./Outcomes.js"
import * as OutputLock from "./OutputLock.js"
import * as Progress from "./Progress.js"

/**
 * How orders are fetched: the options of {@link rows}, {@link outcomes} and {@link toFiles} (see
 * {@link Outcomes.Options}).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = Outcomes.Options

/**
 * The export stopped because the API stayed unavailable longer than the client's `retry.maxOutage` (see
 * {@link Outcomes.ApiUnavailableError}): unlike a {@link Outcomes.Failed} order it is not written to the errors file,
 * and {@link toFiles} leaves synced files and a checkpoint that a `resume` continues from, at the order it stopped at. To
 * fail fast instead, give the client a short `maxOutage` (or `0`); to wait longer, a long one.
 *
 * @since 0.2.0
 * @category errors
 */
export const ApiUnavailableError: typeof Outcomes.ApiUnavailableError = Outcomes.ApiUnavailableError

/**
 * The type of {@link ApiUnavailableError}.
 *
 * @since 0.2.0
 * @category errors
 */
export type ApiUnavailableError = Outcomes.ApiUnavailableError

/**
 * Every input entry's outcome, in input order (see {@link Outcomes.stream}). Entries carry the planner's hint
 * (`hasDuplicates`) when they come from a listing or a file with a `has_duplicates` column.
 *
 * @since 0.1.0
 * @category streams
 */
export const outcomes: typeof Outcomes.stream = Outcomes.stream

/**
 * The rows of many orders, in input order. Each element is an id, or an id with what a listing said of it
 * (`{ id, hasDuplicates }`, see {@link OrderIds.Hinted}): `hasDuplicates: false` spares that order's duplicates
 * request, with the same rows. Orders that fail for good are left out and handed to `onFailure`; ids that are not
 * positive safe integers to `onBadLine` (with their position as line number). Repeated ids come once. The stream fails
 * with an {@link ApiUnavailableError} when the API stays unavailable past the client's `maxOutage`.
 *
 * @since 0.1.0
 * @category streams
 */
export const rows = <E, R>(
  ids: Stream.Stream<number | OrderIds.Hinted, E, R>,
  options: Options & {
    readonly onFailure?: ((failed: Outcomes.Failed) => Effect.Effect<void>) | undefined
    readonly onBadLine?: ((bad: OrderIds.BadLine) => Effect.Effect<void>) | undefined
  } = {}
): Stream.Stream<
  CertificateRow.CertificateRow,
  E | CertCentralError.AuthenticationError | ApiUnavailableError,
  R | CertCentralClient.CertCentralClient
> =>
  Outcomes.stream(OrderIds.fromNumbers(ids), options).pipe(
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

/**
 * Options of {@link toFiles}: how orders are fetched and where they are written.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileOptions extends Options, ExportSink.Options {
  /** Receives progress; without it, the {@link Progress.Progress} service when one is provided. */
  readonly progress?: Progress.Tracker | undefined
}

/**
 * What an export to files did, counting entries done before a resume too (except `folded`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary extends ExportSink.Summary {
  /**
   * Duplicates and reissues entries this run wrote no row for: echoes of an order's own certificate and repeated
   * entries (see `CertificateRow.fromOrderCounted`). Counted by this run only: a resume does not know earlier runs'.
   */
  readonly folded: number
}

/**
 * Writes an export to an output file (CSV or NDJSON) and an errors file (NDJSON), in input order, with a checkpoint
 * (`<output>.checkpoint.json`) replaced about every second after both files are synced. Without `resume` existing
 * files are overwritten. With `resume` the checkpoint's options and input prefix must match; both files are cut back
 * to the checkpoint's lengths and the export goes on from there, so the result is byte-identical to an uninterrupted
 * run. On interruption, a 401 or an {@link ApiUnavailableError} (the API unavailable past the client's `maxOutage`:
 * the orders from the one it stopped at on are not written anywhere) the files are synced and the checkpoint written
 * before it returns, so that a `resume` continues exactly there. At the end the checkpoint is kept, marked complete,
 * so that another `resume` does nothing. The output is locked first (see {@link OutputLock.acquire}): while another
 * run writes it, this one fails with an {@link OutputLock.OutputLockedError} and changes nothing.
 *
 * @since 0.1.0
 * @category files
 */
export const toFiles = <E, R>(
  input: Stream.Stream<OrderIds.Entry, E, R>,
  options: FileOptions
): Effect.Effect<
  Summary,
  | E
  | CertCentralError.AuthenticationError
  | ApiUnavailableError
  | ExportError.ExportError
  | OutputLock.OutputLockedError,
  R | CertCentralClient.CertCentralClient | FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const progress = options.progress ?? Option.getOrUndefined(yield* Effect.serviceOption(Progress.Progress))
    const run = Effect.gen(function*() {
      const client = yield* CertCentralClient.CertCentralClient
      // before any file is opened or truncated; released when this scope closes, however the export ends
      yield* OutputLock.acquire(options.output)
      const files = yield* ExportSink.open(options)
      if (progress !== undefined) yield* progress.start(files.before, client.stats)
      if (files.complete) {
        return {
          ...files.before,
          alreadyComplete: true,
          resumed: true,
          output: files.output,
          errors: files.errors,
          folded: 0
        }
      }
      let folded = 0
      const outcomes = Stream.tap(
        Outcomes.stream(files.remaining(input), options),
        (outcome) => {
          if (outcome._tag === "Exported") folded += outcome.folded ?? 0
          return progress === undefined ? Effect.void : progress.record(
            outcome._tag === "Exported" ? { _tag: "Exported", rows: outcome.rows.length } : { _tag: outcome._tag }
          )
        }
      )
      const summary = yield* Stream.run(outcomes, files.sink)
      return { ...summary, folded }
    })
    // finished however the export ends, so that whoever renders it stops
    return yield* run.pipe(Effect.scoped, Effect.ensuring(progress === undefined ? Effect.void : progress.finish))
  })
