/**
 * The last stage of an export: outcomes in, files out. {@link open} prepares the output, the errors file and the
 * checkpoint (fresh, or resumed from a checkpoint after checking the files' committed prefixes) on scoped
 * `FileSystem` file handles, and gives a `Sink` that appends each outcome, in order, and replaces the checkpoint about
 * once a second after both files are synced. It knows nothing of HTTP: any stream of outcomes can be written.
 *
 * @since 0.2.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { createHash, type Hash } from "node:crypto"
import * as path from "node:path"
import type * as CertificateRow from "./CertificateRow.js"
import * as Checkpoint from "./Checkpoint.js"
import * as ErrorRecord from "./ErrorRecord.js"
import { OutputError, ResumeError } from "./ExportError.js"
import { unwritable } from "./internal/directory.js"
import { describe } from "./internal/errno.js"
import type * as OrderIds from "./OrderIds.js"
import * as Outcomes from "./Outcomes.js"
import * as RowEncoder from "./RowEncoder.js"

/**
 * Where and how an export is written.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The output file. */
  readonly output: string
  /** The errors file (default `<output>.errors.ndjson`). */
  readonly errors?: string | undefined
  /** Default from the output's extension: `.ndjson`/`.jsonl` give NDJSON, else CSV. */
  readonly format?: RowEncoder.Format | undefined
  /** The endpoints called (recorded in the checkpoint: a resume must use the same). */
  readonly include?: ReadonlyArray<Outcomes.Endpoint> | undefined
  /** Whether `show_archived=true` was passed (recorded in the checkpoint). */
  readonly showArchived?: boolean | undefined
  /**
   * Where the ids came from when they were listed rather than given (`--orders-from subaccounts --filter
   * status=issued`), recorded in the checkpoint: a resume must say the same.
   */
  readonly source?: string | undefined
  /** Continue from the checkpoint of an earlier run into the same files. */
  readonly resume?: boolean | undefined
  /** How often the files are synced and the checkpoint replaced (default 1 second). */
  readonly checkpointEvery?: Duration.DurationInput | undefined
}

/**
 * Entries written so far, those of earlier runs (a resume) included.
 *
 * @since 0.2.0
 * @category models
 */
export interface Counts {
  readonly exported: number
  readonly failed: number
  readonly badLines: number
  readonly rows: number
}

/**
 * What an export to files did, counting entries done before a resume too.
 *
 * @since 0.2.0
 * @category models
 */
export interface Summary extends Counts {
  /** `--resume` found the export already complete and did nothing. */
  readonly alreadyComplete: boolean
  /** This run continued an earlier one. */
  readonly resumed: boolean
  readonly output: string
  readonly errors: string
}

/**
 * Files open for an export.
 *
 * @since 0.2.0
 * @category models
 */
export interface ExportSink {
  /** Absolute paths of the output and the errors file. */
  readonly output: string
  readonly errors: string
  /** What earlier runs wrote (zero for a fresh export). */
  readonly before: Counts
  /** The checkpoint says the export is complete and the files are still the ones it describes: nothing to do. */
  readonly complete: boolean
  /**
   * The input without the entries the checkpoint covers. They are read again and must be the same as when the
   * checkpoint was written (a digest), else the stream fails with a {@link ResumeError}.
   */
  readonly remaining: <E, R>(
    input: Stream.Stream<OrderIds.Entry, E, R>
  ) => Stream.Stream<OrderIds.Entry, E | ResumeError, R>
  /** Appends outcomes in order; at the end syncs both files and marks the checkpoint complete. */
  readonly sink: Sink.Sink<Summary, Outcomes.Outcome, never, OutputError>
}

/** One file being appended to: its handle, its length and the digest of everything in it. */
interface Track {
  readonly path: string
  readonly file: FileSystem.File
  bytes: number
  readonly digest: Hash
}

/** The single record of where an export stands; a checkpoint is a snapshot of it. */
interface Ledger {
  readonly output: Track
  readonly errors: Track
  /** Digest of the input entries written (see {@link entryKey}), continued across resumes. */
  input: Hash
  entries: number
  /** Entries written by this run: until there is one, the checkpoint on disk is already right. */
  written: number
  counts: Counts
}

/** The text an entry contributes to the input digest: what identifies it, independent of spacing or line ends. */
const entryKey = (entry: OrderIds.Entry): string =>
  entry._tag === "Id" ? `id ${entry.orderId}\n` : `bad ${entry.line} ${JSON.stringify(entry.input)}\n`

const encoder = new TextEncoder()

const fail = (file: string, what: string) => (e: unknown) =>
  new OutputError({ path: file, message: `cannot ${what} ${file}: ${describe(e)}` })

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

/** Fails unless the directory of each file can be written (the checkpoint is replaced by a rename there). */
const checkWritable = (fs: FileSystem.FileSystem, files: ReadonlyArray<string>): Effect.Effect<void, OutputError> =>
  Effect.forEach(
    [...new Set(files.map((file) => path.dirname(file)))],
    (dir) => fs.access(dir, { writable: true }).pipe(Effect.mapError((e) => unwritable(dir, e))),
    { discard: true }
  )

/** SHA-256 of the first `bytes` bytes of an open file, read in chunks (constant memory); `None` if it is shorter. */
const digestPrefix = (file: FileSystem.File, bytes: number): Effect.Effect<Option.Option<Hash>, unknown> =>
  Effect.gen(function*() {
    const hash = createHash("sha256")
    const chunk = new Uint8Array(Math.min(1024 * 1024, Math.max(1, bytes)))
    yield* file.seek(0, "start")
    let position = 0
    while (position < bytes) {
      const want = Math.min(chunk.length, bytes - position)
      const read = Number(yield* file.read(want === chunk.length ? chunk : chunk.subarray(0, want)))
      if (read === 0) return Option.none()
      hash.update(chunk.subarray(0, read))
      position += read
    }
    return Option.some(hash)
  })

/** The committed prefix of a file must have the checkpoint's digest (version 1 checkpoints have none: size only). */
const verifyPrefix = (
  track: { readonly path: string; readonly file: FileSystem.File },
  bytes: number,
  expected: string | undefined
): Effect.Effect<Hash, OutputError | ResumeError> =>
  digestPrefix(track.file, bytes).pipe(
    Effect.mapError(fail(track.path, "read")),
    Effect.flatMap((hash) =>
      Option.isSome(hash) && (expected === undefined || hash.value.copy().digest("hex") === expected)
        ? Effect.succeed(hash.value)
        : Effect.fail(
          new ResumeError({
            message: `cannot resume: ${track.path} is not the file the checkpoint was written for (its first ${
              plural(bytes, "byte differs", "bytes differ")
            }); start over without --resume`
          })
        )
    )
  )

/**
 * Opens the files of an export in the current scope: fresh (the old checkpoint removed first, then the files
 * truncated, the header written and a first checkpoint), or, with `resume` and a checkpoint, checked against it
 * (options, sizes, digests of the committed prefixes) and cut back to it. When the scope closes after a failure or an
 * interruption, the files are synced and the checkpoint records what is safely on disk.
 *
 * @since 0.2.0
 * @category constructors
 */
export const open = (
  options: Options
): Effect.Effect<ExportSink, OutputError | ResumeError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const output = path.resolve(options.output)
    const errors = path.resolve(options.errors ?? `${options.output}.errors.ndjson`)
    if (output === errors) {
      return yield* new OutputError({ path: output, message: "the output and errors files are the same" })
    }
    const format = options.format ?? RowEncoder.formatFromPath(output)
    const rowEncoder = RowEncoder.make(format)
    const fingerprint = {
      format,
      include: Outcomes.normalizeInclude(options.include),
      showArchived: options.showArchived === true,
      errors,
      ...(options.source === undefined ? {} : { source: options.source })
    }
    const checkpointPath = Checkpoint.pathFor(output)
    const previous = options.resume === true ? yield* Checkpoint.read(checkpointPath) : Option.none()
    if (
      options.resume === true && Option.isNone(previous) &&
      (yield* fs.exists(output).pipe(Effect.orElseSucceed(() => false)))
    ) {
      return yield* new ResumeError({
        message: `cannot resume: ${options.output} exists but has no checkpoint; run without --resume to start over`
      })
    }
    if (Option.isSome(previous)) yield* checkOptions(previous.value, fingerprint)

    const openFile = (file: string, flag: FileSystem.OpenFlag) =>
      fs.open(file, { flag }).pipe(Effect.mapError(fail(file, "open")))

    const snapshot = (ledger: Ledger, complete: boolean): Checkpoint.Checkpoint => ({
      version: 2,
      ...fingerprint,
      entries: ledger.entries,
      inputDigest: ledger.input.copy().digest("hex"),
      outputBytes: ledger.output.bytes,
      errorsBytes: ledger.errors.bytes,
      outputDigest: ledger.output.digest.copy().digest("hex"),
      errorsDigest: ledger.errors.digest.copy().digest("hex"),
      ...ledger.counts,
      complete
    })
    // the data first, then the checkpoint that covers it; never cut short halfway (see the sink)
    const commit = (ledger: Ledger, checkpoint: Checkpoint.Checkpoint) =>
      Effect.all([ledger.output.file.sync, ledger.errors.file.sync], { concurrency: 2, discard: true }).pipe(
        Effect.zipRight(Checkpoint.write(checkpointPath, checkpoint)),
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.mapError(fail(output, "sync")),
        Effect.uninterruptible
      )

    let ledger: Ledger
    let skip = 0
    let complete = false
    if (Option.isNone(previous)) {
      // nothing is removed or truncated unless the checkpoint can be written next to the output
      yield* checkWritable(fs, [output, errors, checkpointPath])
      // the old checkpoint goes first: a crash now must not leave it pointing into files about to be truncated
      yield* Checkpoint.remove(checkpointPath).pipe(Effect.mapError(fail(checkpointPath, "remove")))
      const out = yield* openFile(output, "w")
      const err = yield* openFile(errors, "w")
      ledger = {
        output: { path: output, file: out, bytes: 0, digest: createHash("sha256") },
        errors: { path: errors, file: err, bytes: 0, digest: createHash("sha256") },
        input: createHash("sha256"),
        entries: 0,
        written: 0,
        counts: { exported: 0, failed: 0, badLines: 0, rows: 0 }
      }
      yield* append(ledger.output, rowEncoder.header)
      yield* commit(ledger, snapshot(ledger, false))
    } else {
      const cp = previous.value
      // a complete checkpoint is only checked (digests), an incomplete one must have its bytes to continue from
      for (const [file, expected] of cp.complete ? [] : [[output, cp.outputBytes], [errors, cp.errorsBytes]] as const) {
        const actual = yield* fs.stat(file).pipe(
          Effect.map((info) => Number(info.size)),
          Effect.orElseSucceed(() => -1)
        )
        if (actual < expected) {
          return yield* new ResumeError({
            message: `cannot resume: ${file} ${
              actual < 0 ? "is missing" : `has ${actual} bytes, fewer than the ${expected} the checkpoint records`
            }; start over without --resume`
          })
        }
      }
      if (!cp.complete) yield* checkWritable(fs, [output, errors, checkpointPath])
      const flag = cp.complete ? "r" : "r+"
      const out = { path: output, file: yield* openFile(output, flag) }
      const err = { path: errors, file: yield* openFile(errors, flag) }
      // the committed prefixes must be the bytes the checkpoint describes: nothing is appended to another file
      const outDigest = yield* verifyPrefix(out, cp.outputBytes, cp.outputDigest)
      const errDigest = yield* verifyPrefix(err, cp.errorsBytes, cp.errorsDigest)
      ledger = {
        output: { ...out, bytes: cp.outputBytes, digest: outDigest },
        errors: { ...err, bytes: cp.errorsBytes, digest: errDigest },
        input: createHash("sha256"),
        entries: cp.entries,
        written: 0,
        counts: { exported: cp.exported, failed: cp.failed, badLines: cp.badLines, rows: cp.rows }
      }
      skip = cp.entries
      complete = cp.complete
      if (!complete) {
        // drop whatever was written after the checkpoint: it is written again, the same, by the sink
        for (const track of [ledger.output, ledger.errors]) {
          yield* track.file.truncate(track.bytes).pipe(
            Effect.zipRight(track.file.seek(track.bytes, "start")),
            Effect.zipRight(track.file.sync),
            Effect.mapError(fail(track.path, "truncate"))
          )
        }
      }
    }
    const before: Counts = { ...ledger.counts }

    // a commit started by the sink runs beside the writes; at most one at a time
    let pending: Fiber.Fiber<void, OutputError> | undefined
    yield* Effect.addFinalizer((exit) =>
      Effect.gen(function*() {
        if (pending !== undefined) yield* Fiber.await(pending)
        // on success the checkpoint was already marked complete; otherwise record what is safely on disk
        if (!Exit.isSuccess(exit) && ledger.written > 0) {
          // a checkpoint that cannot be written now is better left as it was: the next resume starts from it
          yield* Effect.ignore(commit(ledger, snapshot(ledger, false)))
        }
      })
    )

    const every = Duration.toMillis(Duration.decode(options.checkpointEvery ?? "1 second"))
    let lastCommit = yield* Clock.currentTimeMillis

    // The ledger moves on only once both files hold a chunk's bytes, so that a commit (a failed write's included)
    // never records more than is written.
    const writeChunk = (outcomes: Chunk.Chunk<Outcomes.Outcome>): Effect.Effect<void, OutputError> =>
      Effect.gen(function*() {
        const rows: Array<CertificateRow.CertificateRow> = []
        const counts: { -readonly [K in keyof Counts]: number } = { ...ledger.counts }
        const input = ledger.input.copy()
        let errorsText = ""
        for (const outcome of outcomes) {
          if (outcome._tag === "Exported") {
            for (const row of outcome.rows) rows.push(row)
            counts.exported++
            counts.rows += outcome.rows.length
          } else {
            errorsText += ErrorRecord.encode(ErrorRecord.fromOutcome(outcome)!)
            if (outcome._tag === "Failed") counts.failed++
            else counts.badLines++
          }
          input.update(entryKey(Outcomes.toEntry(outcome)))
        }
        const outBytes = encoder.encode(rowEncoder.encode(rows))
        const errBytes = encoder.encode(errorsText)
        yield* write(ledger.output, outBytes)
        yield* write(ledger.errors, errBytes)
        advance(ledger.output, outBytes)
        advance(ledger.errors, errBytes)
        ledger.input = input
        ledger.counts = counts
        ledger.entries += outcomes.length
        ledger.written += outcomes.length
        const now = yield* Clock.currentTimeMillis
        if (now - lastCommit >= every && (pending === undefined || Option.isSome(yield* Fiber.poll(pending)))) {
          if (pending !== undefined) yield* Fiber.join(pending)
          lastCommit = now
          // synced off the write path: the snapshot is taken now, of bytes already written
          pending = yield* Effect.fork(commit(ledger, snapshot(ledger, false)))
        }
      })

    const finish = Effect.suspend(() => {
      const done = pending === undefined ? Effect.void : Fiber.join(pending)
      pending = undefined
      return done
    }).pipe(
      Effect.zipRight(Effect.suspend(() => commit(ledger, snapshot(ledger, true)))),
      Effect.map((): Summary => ({
        ...ledger.counts,
        alreadyComplete: false,
        resumed: Option.isSome(previous),
        output,
        errors
      }))
    )

    const sink: Sink.Sink<Summary, Outcomes.Outcome, never, OutputError> = Sink.forEachChunk(writeChunk).pipe(
      Sink.zipRight(Sink.fromEffect(finish))
    )

    const remaining = <E, R>(
      input: Stream.Stream<OrderIds.Entry, E, R>
    ): Stream.Stream<OrderIds.Entry, E | ResumeError, R> => {
      if (skip === 0) return input
      const mismatch = new ResumeError({
        message: `cannot resume: the input differs from the one the checkpoint was written for (its first ${
          plural(skip, "entry", "entries")
        }); use the same --orders or start over`
      })
      const expected = Option.getOrThrow(previous).inputDigest
      return Stream.unwrapScoped(
        Stream.peel(
          input,
          Sink.foldUntil(0, skip, (n: number, entry: OrderIds.Entry) => {
            ledger.input.update(entryKey(entry))
            return n + 1
          })
        ).pipe(
          Effect.flatMap(([seen, rest]) =>
            seen === skip && ledger.input.copy().digest("hex") === expected
              ? Effect.succeed(rest)
              : Effect.fail(mismatch)
          )
        )
      )
    }

    return { output, errors, before, complete, remaining, sink }
  })

/** Writes bytes at the end of a track (its handle's position). */
const write = (track: Track, bytes: Uint8Array): Effect.Effect<void, OutputError> =>
  bytes.length === 0 ? Effect.void : track.file.writeAll(bytes).pipe(Effect.mapError(fail(track.path, "write")))

/** Records bytes written to a track: its length and digest. */
const advance = (track: Track, bytes: Uint8Array): void => {
  track.bytes += bytes.length
  track.digest.update(bytes)
}

/** Appends text at the end of a track and records it. */
const append = (track: Track, text: string): Effect.Effect<void, OutputError> => {
  const bytes = encoder.encode(text)
  return Effect.map(write(track, bytes), () => advance(track, bytes))
}

const checkOptions = (
  cp: Checkpoint.Checkpoint,
  current: Pick<Checkpoint.Checkpoint, "format" | "include" | "showArchived" | "errors" | "source">
): Effect.Effect<void, ResumeError> => {
  const mismatch = cp.format !== current.format
    ? `format ${cp.format}`
    : cp.include.join(",") !== current.include.join(",")
    ? `--include ${cp.include.join(",")}`
    : cp.showArchived !== current.showArchived
    ? cp.showArchived ? "--show-archived" : "no --show-archived"
    : cp.errors !== current.errors
    ? `errors file ${cp.errors}`
    : cp.source !== current.source
    ? cp.source ?? "ids given with --orders"
    : undefined
  return mismatch === undefined ? Effect.void : Effect.fail(
    new ResumeError({
      message: `cannot resume: the checkpoint was written with ${mismatch}; use the same options or start over`
    })
  )
}
