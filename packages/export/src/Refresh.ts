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
import type { DuplicateCertificate } from "@certcentral/core"
import { CertCentralClient, CertCentralError, OrderSummary, StatusChange } from "@certcentral/core"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as path from "node:path"
import * as CertificateRow from "./CertificateRow.js"
import * as Checkpoint from "./Checkpoint.js"
import * as ErrorRecord from "./ErrorRecord.js"
import { OutputError } from "./ExportError.js"
import { describe, isNotFound } from "./internal/errno.js"
import * as RowText from "./internal/rowText.js"
import type * as OrderIds from "./OrderIds.js"
import * as OrderListing from "./OrderListing.js"
import * as Outcomes from "./Outcomes.js"
import * as RowEncoder from "./RowEncoder.js"

/**
 * Why a refresh will not copy from the earlier export: it is not complete (`Incomplete`), was made with other options
 * or from ids given with `--orders` (`OptionsDiffer`), its files are not what its run recorded (`FileChanged`), or it
 * left no refresh record (`NoRecord`: made before refresh records existed). `message` is one line for the user.
 *
 * @since 0.2.0
 * @category errors
 */
export class RefreshError extends Schema.TaggedError<RefreshError>()("RefreshError", {
  reason: Schema.Literal("Incomplete", "OptionsDiffer", "FileChanged", "NoRecord"),
  message: Schema.String
}) {}

/**
 * What a complete export made from a listing leaves beside its checkpoint (`<output>.refresh.json`), for the next
 * refresh: when its listing began (epoch ms), its source, the digests of the files it belongs to (the same as its
 * checkpoint's), and each listed order as `[id, fingerprint of its listing entry, has_duplicates or null]`.
 *
 * @since 0.2.0
 * @category models
 */
export const Record = Schema.Struct({
  version: Schema.Literal(1),
  listedAt: Schema.Number,
  source: Schema.String,
  outputDigest: Schema.String,
  errorsDigest: Schema.String,
  orders: Schema.Array(Schema.Tuple(Schema.Number, Schema.String, Schema.NullOr(Schema.Boolean)))
}).annotations({ identifier: "RefreshRecord" })

/**
 * The type of the refresh record.
 *
 * @since 0.2.0
 * @category models
 */
export type Record = typeof Record.Type

/**
 * Where the refresh record of an output lives: `<output>.refresh.json`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const recordPathFor = (output: string): string => `${output}.refresh.json`

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
  listed: { readonly listedAt: number; readonly listing: ReadonlyArray<ListingEntry> }
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
    const target = recordPathFor(file)
    const fs = yield* FileSystem.FileSystem
    const temp = `${target}.tmp`
    yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(temp, { flag: "w" })
      yield* handle.writeAll(new TextEncoder().encode(JSON.stringify(record) + "\n"))
      yield* handle.sync
    })).pipe(
      Effect.zipRight(fs.rename(temp, target)),
      Effect.mapError((e) => new OutputError({ path: target, message: `cannot write ${target}: ${describe(e)}` }))
    )
    yield* syncDirectory(fs, path.dirname(target))
  })

/**
 * Where a refresh writes what changed: `<output>.changes.ndjson`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const changesPathFor = (output: string): string => `${output}.changes.ndjson`

/**
 * One listed order as a refresh compares it: its id, a fingerprint of its listing entry, and `has_duplicates` when the
 * listing says (`undefined` when it does not: the order is then treated as having some).
 *
 * @since 0.2.0
 * @category models
 */
export interface ListingEntry {
  readonly id: number
  readonly fingerprint: string
  readonly hasDuplicates: boolean | undefined
}

const encodeSummary = Schema.encodeSync(OrderSummary.OrderSummary)

/**
 * The listing entry of a listed order. The fingerprint covers every decoded field except `days_remaining`, which
 * follows from `valid_till` and the day (it would otherwise mark every order changed each day).
 *
 * @since 0.2.0
 * @category constructors
 */
export const listingEntry = (summary: OrderSummary.OrderSummary): ListingEntry => {
  const plain = JSON.parse(JSON.stringify(encodeSummary(summary))) as { certificate?: { days_remaining?: unknown } }
  if (plain.certificate !== undefined) delete plain.certificate.days_remaining
  const hint = (summary as { readonly has_duplicates?: unknown }).has_duplicates
  return {
    id: summary.id,
    fingerprint: createHash("sha256").update(JSON.stringify(plain)).digest("hex").slice(0, 32),
    hasDuplicates: typeof hint === "boolean" ? hint : undefined
  }
}

/**
 * Why an order is fetched: new to the listing, its listing entry changed, in the status change list, failed in the
 * earlier run, or (its duplicates list only) it has duplicates.
 *
 * @since 0.2.0
 * @category models
 */
export type Reason = "new" | "listing" | "status" | "failed" | "duplicates"

/**
 * What a refresh does with one listed order: fetch it whole, fetch its duplicates list only (the rest of its rows
 * copied), or copy its rows.
 *
 * @since 0.2.0
 * @category models
 */
export interface Planned {
  readonly id: number
  /** Its 1-based position in the listing. */
  readonly line: number
  readonly action: "fetch" | "duplicates" | "copy"
  readonly reason: Reason | undefined
}

/**
 * The plan of a refresh: every listed order in listing order, and the earlier orders gone from the listing.
 *
 * @since 0.2.0
 * @category models
 */
export interface Plan {
  readonly orders: ReadonlyArray<Planned>
  readonly gone: ReadonlyArray<number>
}

/**
 * What {@link plan} decides from.
 *
 * @since 0.2.0
 * @category models
 */
export interface PlanInput {
  /** The earlier run's listing; `undefined` when there is no earlier export (every order is fetched). */
  readonly earlier: ReadonlyArray<ListingEntry> | undefined
  readonly listing: ReadonlyArray<ListingEntry>
  /** Orders in the status change list since the earlier listing. */
  readonly changed: Iterable<number>
  /** Orders in the earlier errors file. */
  readonly failedBefore: Iterable<number>
  /** The endpoints called: without `duplicates`, duplicates never make an order fetched. */
  readonly include?: ReadonlyArray<Outcomes.Endpoint> | undefined
}

/**
 * Which orders to fetch and which to copy. Fetched whole: orders new to the listing, whose listing entry changed, in
 * the status change list, or that failed before. Of the others, those with duplicates (or no hint) get their
 * duplicates list fetched, since a new duplicate changes no listing field and no status. The rest are copied.
 *
 * @since 0.2.0
 * @category planning
 */
export const plan = (input: PlanInput): Plan => {
  const earlier = new Map((input.earlier ?? []).map((e) => [e.id, e]))
  const changed = new Set(input.changed)
  const failed = new Set(input.failedBefore)
  const duplicatesIncluded = Outcomes.normalizeInclude(input.include).includes("duplicates")
  const listed = new Set<number>()
  const orders = input.listing.map((entry, i): Planned => {
    listed.add(entry.id)
    const before = earlier.get(entry.id)
    const reason: Reason | undefined = input.earlier === undefined || before === undefined
      ? "new"
      : before.fingerprint !== entry.fingerprint || before.hasDuplicates !== entry.hasDuplicates
      ? "listing"
      : changed.has(entry.id)
      ? "status"
      : failed.has(entry.id)
      ? "failed"
      : undefined
    if (reason !== undefined) return { id: entry.id, line: i + 1, action: "fetch", reason }
    return duplicatesIncluded && entry.hasDuplicates !== false
      ? { id: entry.id, line: i + 1, action: "duplicates", reason: "duplicates" }
      : { id: entry.id, line: i + 1, action: "copy", reason: undefined }
  })
  return { orders, gone: [...earlier.keys()].filter((id) => !listed.has(id)) }
}

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
export const statusWindows = (
  since: number,
  now: number,
  margin: Duration.DurationInput = defaultMargin
): ReadonlyArray<StatusChange.TimeFrame> => {
  const marginMillis = Duration.toMillis(Duration.decode(margin))
  const reach = StatusChange.maxFrameMillis - 3_600_000
  let start = since - marginMillis
  const frames: Array<StatusChange.TimeFrame> = []
  while (now - start > reach) {
    const end = Math.min(start + StatusChange.maxFrameMillis, now)
    frames.push(StatusChange.between(start, end))
    start = end
  }
  const span = Math.min(reach, Math.max(60_000, now - start + (frames.length === 0 ? 0 : marginMillis)))
  frames.push(StatusChange.upToNow(Math.ceil(span / 60_000) * 60_000))
  return frames
}

/**
 * How far before the earlier listing the status changes are asked for (default one hour): covers clock skew and a
 * server that reads the date filter as MST (UTC−7) rather than MDT.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMargin: Duration.DurationInput = "1 hour"

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
}

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

/** The earlier export, verified: its checkpoint and record, its rows by order, and its failed orders. */
interface Earlier {
  readonly checkpoint: Checkpoint.Checkpoint
  readonly record: Record
  readonly rows: ReadonlyMap<number, ReadonlyArray<RowText.RowText>>
  readonly order: ReadonlyArray<number>
  readonly failed: ReadonlySet<number>
}

interface Files {
  readonly output: string
  readonly errors: string
  readonly format: RowEncoder.Format
  readonly include: ReadonlyArray<Outcomes.Endpoint>
  readonly showArchived: boolean
  readonly source: string
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex")
const decodeRecord = Schema.decodeUnknownEither(Schema.parseJson(Record))
const textDecoder = new TextDecoder("utf-8", { fatal: true })

const readOptional = (fs: FileSystem.FileSystem, file: string): Effect.Effect<Option.Option<Uint8Array>, OutputError> =>
  fs.readFile(file).pipe(
    Effect.map(Option.some),
    Effect.catchAll((e) =>
      isNotFound(e)
        ? Effect.succeed(Option.none())
        : Effect.fail(new OutputError({ path: file, message: `cannot read ${file}: ${describe(e)}` }))
    )
  )

const changedFile = (message: string) => new RefreshError({ reason: "FileChanged", message })

/** One of the earlier run's files must be exactly what its checkpoint recorded: its length and its digest. */
const verifyFile = (
  fs: FileSystem.FileSystem,
  file: string,
  bytes: number,
  digest: string | undefined
): Effect.Effect<string, RefreshError | OutputError> =>
  Effect.flatMap(readOptional(fs, file), (content) => {
    if (Option.isNone(content)) return Effect.fail(changedFile(`${file} is missing; run a full export`))
    const data = content.value
    if (data.length !== bytes) {
      return Effect.fail(changedFile(
        `${file} has ${data.length} bytes, not the ${bytes} its export wrote (edited or replaced); run a full export`
      ))
    }
    if (digest === undefined || sha256(data) !== digest) {
      return Effect.fail(
        changedFile(`${file} is not the file its export wrote (its content differs); run a full export`)
      )
    }
    return Effect.try({
      try: () => textDecoder.decode(data),
      catch: () => changedFile(`${file} is not UTF-8 text; run a full export`)
    })
  })

const mismatchOf = (cp: Checkpoint.Checkpoint, files: Files): string | undefined =>
  cp.source === undefined
    ? "ids given with --orders"
    : cp.source !== files.source
    ? cp.source
    : cp.format !== files.format
    ? `format ${cp.format}`
    : cp.include.join(",") !== files.include.join(",")
    ? `--include ${cp.include.join(",")}`
    : cp.showArchived !== files.showArchived
    ? cp.showArchived ? "--show-archived" : "no --show-archived"
    : cp.errors !== files.errors
    ? `errors file ${cp.errors}`
    : undefined

/**
 * Reads and verifies the earlier export at `files.output`: `None` when there is none (no output, no checkpoint).
 * Fails with a {@link RefreshError} when it cannot be copied from.
 */
const readEarlier = (
  files: Files
): Effect.Effect<Option.Option<Earlier>, RefreshError | OutputError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const checkpoint = yield* Checkpoint.read(Checkpoint.pathFor(files.output)).pipe(
      Effect.catchTag("ResumeError", () =>
        Effect.fail(changedFile(`${Checkpoint.pathFor(files.output)} is unreadable; run a full export`)))
    )
    if (Option.isNone(checkpoint)) {
      if (
        yield* fs.exists(files.output).pipe(Effect.orElseSucceed(() =>
          false
        ))
      ) {
        return yield* new RefreshError({
          reason: "NoRecord",
          message: `${files.output} exists but has no checkpoint, so nothing says what its run wrote; run a full export`
        })
      }
      return Option.none()
    }
    const cp = checkpoint.value
    if (!cp.complete) {
      return yield* new RefreshError({
        reason: "Incomplete",
        message: `the export at ${files.output} is not complete; finish it with --resume first`
      })
    }
    const mismatch = mismatchOf(cp, files)
    if (mismatch !== undefined) {
      return yield* new RefreshError({
        reason: "OptionsDiffer",
        message: `the export at ${files.output} was made with ${mismatch}; refresh with the same options`
      })
    }
    const recordPath = recordPathFor(files.output)
    const recordText = yield* readOptional(fs, recordPath)
    const record = Option.isNone(recordText)
      ? undefined
      : Either.getOrUndefined(decodeRecord(new TextDecoder().decode(recordText.value)))
    if (record === undefined) {
      return yield* new RefreshError({
        reason: "NoRecord",
        message: `the export at ${files.output} left no readable ${path.basename(recordPath)}; run a full export`
      })
    }
    if (
      record.outputDigest !== cp.outputDigest || record.errorsDigest !== cp.errorsDigest || record.source !== cp.source
    ) {
      return yield* changedFile(`${recordPath} belongs to another run than the checkpoint; run a full export`)
    }
    const outputText = yield* verifyFile(fs, files.output, cp.outputBytes, cp.outputDigest)
    const errorsText = yield* verifyFile(fs, files.errors, cp.errorsBytes, cp.errorsDigest)
    const parsed = yield* Effect.try({
      try: () => RowText.parse(files.format, RowEncoder.make(files.format).header, outputText),
      catch: (e) => changedFile(`${files.output} cannot be read back (${(e as Error).message}); run a full export`)
    })
    const rows = new Map<number, Array<RowText.RowText>>()
    const order: Array<number> = []
    for (const row of parsed) {
      let list = rows.get(row.orderId)
      if (list === undefined) {
        rows.set(row.orderId, list = [])
        order.push(row.orderId)
      }
      list.push(row)
    }
    const failed = new Set<number>()
    for (const line of errorsText.split("\n")) {
      if (line === "") continue
      const id = (JSON.parse(line) as { readonly order_id?: unknown }).order_id
      if (typeof id === "number") failed.add(id)
    }
    return Option.some({ checkpoint: cp, record, rows, order, failed })
  })

/** Where a refresh notes the renames it is about to make, so that one cut short is completed by the next run. */
const journalPathFor = (output: string): string => `${output}.refresh-commit.json`

/**
 * The journal: the renames in order, the output's last, and the SHA-256 of the output the refresh replaces (`null`
 * when there was none), so that a journal outlived by another run's files is dropped instead of rolled forward.
 */
const Journal = Schema.parseJson(Schema.Struct({
  from: Schema.NullOr(Schema.String),
  renames: Schema.Array(Schema.Tuple(Schema.String, Schema.String))
}))

const syncDirectory = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<void> =>
  Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (handle) => handle.sync)).pipe(Effect.ignore)

const exists = (fs: FileSystem.FileSystem, file: string) => fs.exists(file).pipe(Effect.orElseSucceed(() => false))

/**
 * Finishes the renames of a refresh cut short during them (no-op without a journal): rolled forward while the output
 * is still the one it replaces; once the output was renamed (it goes last) there is nothing left to do; and when
 * another run has replaced the output since, the journal and its temporary files are dropped.
 */
const recover = (output: string): Effect.Effect<void, OutputError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const journalPath = journalPathFor(output)
    const text = yield* readOptional(fs, journalPath)
    if (Option.isNone(text)) return
    const journal = Either.getOrUndefined(Schema.decodeUnknownEither(Journal)(new TextDecoder().decode(text.value)))
    const renames = journal?.renames ?? []
    const outputTemp = renames.find(([, file]) => file === output)?.[0]
    if (journal !== undefined && outputTemp !== undefined && (yield* exists(fs, outputTemp))) {
      const current = yield* readOptional(fs, output)
      const untouched = Option.match(current, {
        onNone: () => journal.from === null,
        onSome: (bytes) => sha256(bytes) === journal.from
      })
      for (const [temp, file] of renames) {
        if (!(yield* exists(fs, temp))) continue
        yield* (untouched ? fs.rename(temp, file) : fs.remove(temp, { force: true })).pipe(
          Effect.mapError((e) =>
            new OutputError({ path: file, message: `cannot rename into place ${file}: ${describe(e)}` })
          )
        )
      }
      yield* syncDirectory(fs, path.dirname(output))
    }
    yield* fs.remove(journalPath, { force: true }).pipe(Effect.ignore)
  })

/**
 * Writes every file to `<file>.refresh.tmp` and syncs it, notes the renames in a journal, renames them all into place
 * (the output last), syncs the directory and removes the journal: until the journal is written the earlier files are
 * untouched; after, an interrupted commit is completed by the next run.
 */
const commit = (
  output: string,
  from: string | null,
  files: ReadonlyArray<readonly [string, string]>
): Effect.Effect<void, OutputError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const encoder = new TextEncoder()
    const renames: Array<readonly [string, string]> = []
    for (const [file, text] of files) {
      const temp = `${file}.refresh.tmp`
      yield* Effect.scoped(Effect.gen(function*() {
        const handle = yield* fs.open(temp, { flag: "w" })
        if (text !== "") yield* handle.writeAll(encoder.encode(text))
        yield* handle.sync
      })).pipe(Effect.mapError((e) => new OutputError({ path: temp, message: `cannot write ${temp}: ${describe(e)}` })))
      renames.push([temp, file])
    }
    // the output last: while its temporary file exists the commit is unfinished
    renames.sort(([, a], [, b]) => (a === output ? 1 : 0) - (b === output ? 1 : 0))
    const journalPath = journalPathFor(output)
    yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(journalPath, { flag: "w" })
      yield* handle.writeAll(encoder.encode(JSON.stringify({ from, renames }) + "\n"))
      yield* handle.sync
    })).pipe(
      Effect.mapError((e) =>
        new OutputError({ path: journalPath, message: `cannot write ${journalPath}: ${describe(e)}` })
      )
    )
    yield* syncDirectory(fs, path.dirname(output))
    yield* Effect.uninterruptible(recover(output))
  })

/** The contract's one row per certificate: no row for an echo of the order's own certificate or a repeated entry. */
const foldDuplicates = (
  duplicates: ReadonlyArray<DuplicateCertificate.DuplicateCertificate>,
  primaryId: number | null
) => {
  const seen = new Set<number>()
  return duplicates.filter((d) => {
    if (d.id === primaryId || seen.has(d.id)) return false
    seen.add(d.id)
    return true
  })
}

interface ChangeCounts {
  added: number
  removed: number
  changed: number
}

const changeLine = (change: "added" | "removed" | "changed", row: RowText.RowText): string =>
  JSON.stringify({ change, order_id: row.orderId, source: row.source, certificate_id: row.certificateId }) + "\n"

const keyOf = (row: RowText.RowText) => `${row.source} ${row.certificateId}`

/** The changes of one order: its new rows against its earlier ones, added and changed in new order, then removed. */
const orderChanges = (
  before: ReadonlyArray<RowText.RowText>,
  after: ReadonlyArray<RowText.RowText>,
  counts: ChangeCounts
): string => {
  const earlier = new Map<string, RowText.RowText>()
  for (const row of before) if (!earlier.has(keyOf(row))) earlier.set(keyOf(row), row)
  const now = new Set<string>()
  let text = ""
  for (const row of after) {
    const key = keyOf(row)
    if (now.has(key)) continue
    now.add(key)
    const old = earlier.get(key)
    if (old === undefined) {
      counts.added++
      text += changeLine("added", row)
    } else if (old.text !== row.text) {
      counts.changed++
      text += changeLine("changed", row)
    }
  }
  for (const [key, row] of earlier) {
    if (!now.has(key)) {
      counts.removed++
      text += changeLine("removed", row)
    }
  }
  return text
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
  RefreshError | OutputError | CertCentralError.CertCentralError | Outcomes.ApiUnavailableError,
  CertCentralClient.CertCentralClient | FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const client = yield* CertCentralClient.CertCentralClient
    const output = path.resolve(options.output)
    const files: Files = {
      output,
      errors: path.resolve(options.errors ?? `${options.output}.errors.ndjson`),
      format: options.format ?? RowEncoder.formatFromPath(output),
      include: Outcomes.normalizeInclude(options.include),
      showArchived: options.showArchived === true,
      source: options.source
    }
    yield* recover(output)
    const earlierFound = yield* readEarlier(files)
    const listedAt = yield* Clock.currentTimeMillis
    const tooOld = Option.isSome(earlierFound) && options.maxAge !== undefined &&
      listedAt - earlierFound.value.record.listedAt > Duration.toMillis(Duration.decode(options.maxAge))
    const earlier = tooOld ? undefined : Option.getOrUndefined(earlierFound)

    // the listing (one request per 1000 orders), then the status changes since the earlier one began
    const summaries: Array<OrderSummary.OrderSummary> = []
    yield* Stream.runForEach(OrderListing.pages(options.listing), (page) =>
      Effect.sync(() => summaries.push(...page.orders)))
    const listing = summaries.map(listingEntry)
    const windows = earlier === undefined ? [] : statusWindows(earlier.record.listedAt, listedAt, options.margin)
    const changed = new Set<number>()
    for (const frame of windows) {
      for (const change of yield* client.listStatusChanges(frame)) {
        changed.add(change.order_id)
      }
    }
    const thePlan = plan({
      earlier: earlier?.record.orders.map(([id, fingerprint, hint]) => ({
        id,
        fingerprint,
        hasDuplicates: hint ?? undefined
      })),
      listing,
      changed,
      failedBefore: earlier?.failed ?? [],
      include: files.include
    })

    const encoder = RowEncoder.make(files.format)
    const rowTexts = (id: number, rows: ReadonlyArray<CertificateRow.CertificateRow>): Array<RowText.RowText> =>
      rows.map((row) => ({
        text: encoder.encode([row]),
        orderId: id,
        source: row.source,
        certificateId: row.certificate_id
      }))

    // duplicates only: the order's own and reissue rows copied, the duplicate rows new; any doubt fetches it whole
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? Outcomes.defaultConcurrency))
    const spliced = new Map<number, Array<RowText.RowText>>()
    const wholeToo: Array<number> = []
    yield* Effect.forEach(
      thePlan.orders.filter((p) =>
        p.action === "duplicates"
      ),
      (p) =>
        Effect.matchEffect(client.listDuplicates(p.id, { showArchived: files.showArchived }), {
          onFailure: (error) =>
            error._tag === "AuthenticationError" ? Effect.fail(error) : Effect.sync(() => wholeToo.push(p.id)),
          onSuccess: (duplicates) =>
            Effect.sync(() => {
              const before = earlier?.rows.get(p.id) ?? []
              const orderRow = before.find((r) => r.source === "order")
              const reissueRows = before.filter((r) => r.source === "reissue")
              const folded = foldDuplicates(duplicates, orderRow?.certificateId ?? null)
              if (folded.some((d) => reissueRows.some((r) => r.certificateId === d.id))) return wholeToo.push(p.id)
              const fresh = rowTexts(p.id, CertificateRow.fromOrder(p.id, { duplicates: folded })).map((row) =>
                orderRow === undefined
                  ? row
                  : { ...row, text: RowText.withOrderColumnsOf(files.format, row.text, orderRow.text) }
              )
              spliced.set(p.id, [...before.filter((r) => r.source === "order"), ...fresh, ...reissueRows])
            })
        }),
      { concurrency, discard: true }
    )

    // whole orders through the export's own stage, in listing order
    const whole = new Set([...thePlan.orders.filter((p) => p.action === "fetch").map((p) => p.id), ...wholeToo])
    const entries: Array<OrderIds.Entry> = thePlan.orders.filter((p) => whole.has(p.id)).map((p) => ({
      _tag: "Id",
      orderId: p.id as OrderIds.Id["orderId"],
      line: p.line
    }))
    const outcomes = new Map<number, Outcomes.Outcome>()
    yield* Stream.runForEach(
      Outcomes.stream(Stream.fromIterable(entries), options),
      (outcome) => Effect.sync(() => outcome._tag === "BadLine" ? undefined : outcomes.set(outcome.orderId, outcome))
    )

    // assemble in listing order, with the changes against the earlier rows
    const counts: ChangeCounts = { added: 0, removed: 0, changed: 0 }
    let outputText = encoder.header
    let errorsText = ""
    let changesText = ""
    let exported = 0
    let failed = 0
    let rows = 0
    const input = createHash("sha256")
    for (const p of thePlan.orders) {
      input.update(`id ${p.id}\n`)
      const before = earlier?.rows.get(p.id) ?? []
      const outcome = outcomes.get(p.id)
      let after: ReadonlyArray<RowText.RowText>
      if (outcome !== undefined && outcome._tag === "Failed") {
        failed++
        errorsText += ErrorRecord.encode(ErrorRecord.fromOutcome(outcome)!)
        after = []
      } else {
        after = outcome !== undefined && outcome._tag === "Exported"
          ? rowTexts(p.id, outcome.rows)
          : spliced.get(p.id) ?? before
        exported++
        rows += after.length
        for (const row of after) outputText += row.text
      }
      changesText += orderChanges(before, after, counts)
    }
    const gone = new Set(thePlan.gone)
    for (const id of earlier?.order.filter((id) => gone.has(id)) ?? []) {
      changesText += orderChanges(earlier?.rows.get(id) ?? [], [], counts)
    }

    const outputBytes = new TextEncoder().encode(outputText)
    const errorsBytes = new TextEncoder().encode(errorsText)
    const checkpoint: Checkpoint.Checkpoint = {
      version: 2,
      format: files.format,
      include: files.include,
      showArchived: files.showArchived,
      errors: files.errors,
      source: files.source,
      entries: thePlan.orders.length,
      inputDigest: input.digest("hex"),
      outputBytes: outputBytes.length,
      errorsBytes: errorsBytes.length,
      outputDigest: sha256(outputBytes),
      errorsDigest: sha256(errorsBytes),
      exported,
      failed,
      badLines: 0,
      rows,
      complete: true
    }
    const record: Record = {
      version: 1,
      listedAt,
      source: files.source,
      outputDigest: checkpoint.outputDigest!,
      errorsDigest: checkpoint.errorsDigest!,
      orders: listing.map((e) => [e.id, e.fingerprint, e.hasDuplicates ?? null] as const)
    }
    const changesFile = changesPathFor(output)
    const replaced = Option.getOrUndefined(earlierFound)?.checkpoint.outputDigest ?? null
    yield* commit(output, replaced, [
      [output, outputText],
      [files.errors, errorsText],
      [OrderListing.pathFor(output), listing.map((e) => `${e.id}\n`).join("")],
      [changesFile, changesText],
      [recordPathFor(output), JSON.stringify(record) + "\n"],
      [Checkpoint.pathFor(output), JSON.stringify(checkpoint) + "\n"]
    ])
    const duplicatesOnly = spliced.size
    return {
      full: earlier === undefined,
      listed: thePlan.orders.length,
      fetched: whole.size,
      duplicatesOnly,
      copied: thePlan.orders.length - whole.size - duplicatesOnly,
      gone: thePlan.gone.length,
      statusRequests: windows.length,
      exported,
      failed,
      rows,
      changes: { ...counts },
      output,
      errors: files.errors,
      changesFile
    }
  })
