/**
 * `--refresh` as a library function: brings a complete export made from a listing (`--orders-from`) up to date for a
 * small fraction of a full export's requests. It lists the orders again, asks DigiCert's status change list what
 * changed since the earlier listing, fetches only the orders that can have changed, copies every other order's rows
 * byte for byte from the earlier output, and replaces the output, the errors file, the checkpoint and the refresh
 * record together (temporary files, fsync, rename), writing `<output>.changes.ndjson` beside them.
 *
 * The result is what a full export at that moment writes. The earlier files are only copied from when they are
 * still exactly what their run recorded (the checkpoint's digests), and were made with the same source, filters,
 * format, `include` and `showArchived`.
 *
 * @since 0.2.0
 */
import type { CertCentralClient, CertCentralError, OrderSummary } from "@certcentral/core"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as path from "node:path"
import * as Checkpoint from "./Checkpoint.js"
import type { OutputError } from "./ExportError.js"
import * as Model from "./internal/refresh/model.js"
import * as Planning from "./internal/refresh/plan.js"
import * as Run from "./internal/refresh/run.js"
import type * as OrderListing from "./OrderListing.js"
import type * as Outcomes from "./Outcomes.js"
import * as OutputLock from "./OutputLock.js"
import type * as RowEncoder from "./RowEncoder.js"

/**
 * What a complete export made from a listing leaves beside its checkpoint (`<output>.refresh.json`), for the next
 * refresh: when its listing began (epoch ms), its source, the digests of the files it belongs to (the same as its
 * checkpoint's), and each listed order as `[id, fingerprint of its listing entry, has_duplicates or null]`.
 *
 * @since 0.2.0
 * @category models
 */
export const Record: typeof Model.Record = Model.Record

/**
 * The type of the refresh record.
 *
 * @since 0.2.0
 * @category models
 */
export type Record = Model.Record

/**
 * Why a refresh will not copy from the earlier export: it is not complete (`Incomplete`), was made with other options
 * or from ids given with `--orders` (`OptionsDiffer`), its files are not what its run recorded (`FileChanged`), or it
 * left no refresh record (`NoRecord`). `message` is one line for the user.
 *
 * @since 0.2.0
 * @category errors
 */
export const RefreshError: typeof Model.RefreshError = Model.RefreshError

/**
 * The type of {@link RefreshError}.
 *
 * @since 0.2.0
 * @category errors
 */
export type RefreshError = Model.RefreshError

/**
 * One listed order as a refresh compares it: its id, a fingerprint of its listing entry, and `has_duplicates` when the
 * listing says (`undefined` when it does not: the order is then treated as having some).
 *
 * @since 0.2.0
 * @category models
 */
export type ListingEntry = Planning.ListingEntry

/**
 * What a refresh does with every listed order (fetch it whole, fetch its duplicates list only, or copy its rows), and
 * the earlier orders gone from the listing.
 *
 * @since 0.2.0
 * @category models
 */
export type Plan = Planning.Plan

/**
 * One listed order in a {@link Plan}: its id, its 1-based line in the listing, its action and why.
 *
 * @since 0.2.0
 * @category models
 */
export type Planned = Planning.Planned

/**
 * What {@link plan} decides from.
 *
 * @since 0.2.0
 * @category models
 */
export type PlanInput = Planning.PlanInput

/**
 * Why an order is fetched: new to the listing, its listing entry changed, in the status change list, failed in the
 * earlier run, or (its duplicates list only) it has duplicates.
 *
 * @since 0.2.0
 * @category models
 */
export type Reason = Planning.Reason

/**
 * Where the refresh record of an output lives: `<output>.refresh.json`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const recordPathFor: (output: string) => string = Model.recordPathFor

/**
 * Where a refresh writes what changed: `<output>.changes.ndjson`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const changesPathFor: (output: string) => string = Model.changesPathFor

/**
 * The listing entry of a listed order. The fingerprint covers every decoded field except `days_remaining`, which
 * follows from `valid_till` and the day (it would otherwise mark every order changed each day).
 *
 * @since 0.2.0
 * @category constructors
 */
export const listingEntry: (summary: OrderSummary.OrderSummary) => Planning.ListingEntry = Planning.listingEntry

/**
 * Which orders to fetch and which to copy. Fetched whole: orders new to the listing, whose listing entry changed, in
 * the status change list, or that failed before. Of the others, those with duplicates (or no hint) get their
 * duplicates list fetched, since a new duplicate changes no listing field and no status. The rest are copied.
 *
 * @since 0.2.0
 * @category planning
 */
export const plan: (input: Planning.PlanInput) => Planning.Plan = Planning.plan

/**
 * The status change requests that cover everything since `since` up to `now` (epoch ms), the earlier listing's start
 * moved back by `margin`: one frame up to now when that reaches (at most 7 days less an hour, for the time the request
 * takes to arrive), else 7-day windows with the date filter from there, then a last frame up to now that overlaps the
 * last window by `margin`. The last frame is always up to now: with the date filter DigiCert leaves out orders that
 * changed again after the window's end, and such a later change is in a later window or in the last frame.
 *
 * @since 0.2.0
 * @category planning
 */
export const statusWindows = Planning.statusWindows

/**
 * How far before the earlier listing the status changes are asked for (default one hour): covers clock skew and a
 * server that reads the date filter as MST (UTC−7) rather than MDT.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMargin: Duration.DurationInput = Planning.defaultMargin

/**
 * Writes the refresh record of a complete export made from a listing, for the full export path (the CLI's
 * `--orders-from` without `--refresh`): call it after `Export.toFiles` returned, with the moment the listing began
 * (before its first page was asked for) and its orders' entries ({@link listingEntry} of each listed order, in listing
 * order). The digests come from the export's checkpoint, which must say complete; the record is replaced atomically.
 *
 * @since 0.2.0
 * @category files
 */
export const writeRecord = (
  output: string,
  listed: { readonly listedAt: number; readonly listing: ReadonlyArray<Planning.ListingEntry> }
): Effect.Effect<void, RefreshError | OutputError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const file = path.resolve(output)
    const checkpoint = yield* Checkpoint.read(Checkpoint.pathFor(file)).pipe(
      Effect.catchTag("ResumeError", (e) => Effect.fail(new RefreshError({ reason: "NoRecord", message: e.message })))
    )
    if (Option.isNone(checkpoint) || !checkpoint.value.complete || checkpoint.value.source === undefined) {
      return yield* new RefreshError({
        reason: "Incomplete",
        message: `no complete export from a listing at ${output} to record`
      })
    }
    const cp = checkpoint.value
    const record: Record = {
      version: 1,
      listedAt: listed.listedAt,
      source: cp.source!,
      outputDigest: cp.outputDigest ?? "",
      errorsDigest: cp.errorsDigest ?? "",
      orders: listed.listing.map((e) => [e.id, e.fingerprint, e.hasDuplicates ?? null] as const)
    }
    yield* Model.writeAtomically(recordPathFor(file), JSON.stringify(record) + "\n")
  })

/**
 * Writes the pending refresh record of a listing that an export is about to use (its digests and source empty): what
 * a `--resume` of that export reads back to give {@link writeRecord} once the export is complete. A refresh never
 * copies from an export whose record is pending.
 *
 * @since 0.2.0
 * @category files
 */
export const writePending = (
  output: string,
  listed: { readonly listedAt: number; readonly listing: ReadonlyArray<Planning.ListingEntry> }
): Effect.Effect<void, OutputError, FileSystem.FileSystem> => {
  const record: Record = {
    version: 1,
    listedAt: listed.listedAt,
    source: "",
    outputDigest: "",
    errorsDigest: "",
    orders: listed.listing.map((e) => [e.id, e.fingerprint, e.hasDuplicates ?? null] as const)
  }
  return Model.writeAtomically(recordPathFor(path.resolve(output)), JSON.stringify(record) + "\n")
}

/**
 * Options of {@link toFiles}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options extends Outcomes.Options {
  readonly output: string
  /** Default `<output>.errors.ndjson`. */
  readonly errors?: string | undefined
  /** Default from the output's extension. */
  readonly format?: RowEncoder.Format | undefined
  /** What to list. */
  readonly listing: OrderListing.Options
  /** The listing as the CLI spells it (`--orders-from account --filter status=issued`): recorded and compared. */
  readonly source: string
  /** See {@link defaultMargin}. */
  readonly margin?: Duration.DurationInput | undefined
  /** An earlier listing older than this is not trusted: every order is fetched (default: no limit). */
  readonly maxAge?: Duration.DurationInput | undefined
  /** Told when each phase starts (for progress). */
  readonly onPhase?: ((phase: Phase) => Effect.Effect<void>) | undefined
}

/**
 * A refresh's phases, as {@link Options.onPhase} is told them: the listing (with when the earlier one began, if there
 * is an earlier export), the status change requests, and the fetching (orders fetched whole, duplicates lists alone,
 * orders copied; before an order whose duplicates list fails is fetched whole after all).
 *
 * @since 0.2.0
 * @category models
 */
export type Phase =
  | { readonly _tag: "Listing"; readonly earlier: number | undefined }
  | { readonly _tag: "StatusChanges"; readonly listed: number; readonly requests: number }
  | { readonly _tag: "Fetching"; readonly whole: number; readonly duplicatesOnly: number; readonly copied: number }

/**
 * What a refresh did.
 *
 * @since 0.2.0
 * @category models
 */
export interface Summary {
  /** There was no earlier export (or it was older than `maxAge`): every order was fetched. */
  readonly full: boolean
  readonly listed: number
  /** Orders fetched whole. */
  readonly fetched: number
  /** Orders whose duplicates list alone was fetched. */
  readonly duplicatesOnly: number
  /** Orders whose rows were copied as they were. */
  readonly copied: number
  /** Earlier orders gone from the listing. */
  readonly gone: number
  /** Status change requests made. */
  readonly statusRequests: number
  readonly exported: number
  readonly failed: number
  readonly rows: number
  readonly changes: { readonly added: number; readonly removed: number; readonly changed: number }
  readonly output: string
  readonly errors: string
  readonly changesFile: string
}

/**
 * Refreshes the export at `options.output` (see the module's description), or makes a full one when there is no
 * earlier export there (`Summary.full`). Fails with a {@link RefreshError} when the earlier export cannot be copied
 * from; the earlier files are then untouched, as they are after any failure or interruption before the final renames.
 *
 * @since 0.2.0
 * @category files
 */
export const toFiles = (
  options: Options
): Effect.Effect<
  Summary,
  | RefreshError
  | OutputError
  | OutputLock.OutputLockedError
  | CertCentralError.CertCentralError
  | Outcomes.ApiUnavailableError,
  CertCentralClient.CertCentralClient | FileSystem.FileSystem
> => OutputLock.withLock(options.output)(Run.run(options))
