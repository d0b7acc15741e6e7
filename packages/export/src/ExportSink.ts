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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { createHash, type Hash } from "node:crypto"
import * as path from "node:path"
import type * as CertificateRow from "./CertificateRow.js"
import * as Checkpoint from "./Checkpoint.js"
import * as ErrorRecord from "./ErrorRecord.js"
import { OutputError, type ResumeError } from "./ExportError.js"
import { unwritable } from "./internal/directory.js"
import * as Resume from "./internal/resumeCheck.js"
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
  /** How often the files are synced and the checkpoint replaced (default 1 second); see also `checkpoint`. */
  readonly checkpointEvery?: Duration.DurationInput | undefined
  /**
   * When the files are synced and the checkpoint replaced, as a `Schedule` (it wins over `checkpointEvery`): it is
   * run after each commit, and a commit waits for something new written. Default `Schedule.spaced(checkpointEvery)`.
   */
  readonly checkpoint?: Schedule.Schedule<unknown> | undefined
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

/** One file being appended to: its path and handle. */
interface OpenFile {
  readonly path: string
  readonly file: FileSystem.File
}

/** How far a file is written: its length and the digest of everything in it. The digest is never updated in place. */
interface Track {
  readonly bytes: number
  readonly digest: Hash
}

/**
 * The single record of where an export stands, an immutable value: each transition ({@link appendTo}, {@link record})
 * returns a new one. A checkpoint is a snapshot of it.
 */
interface Ledger {
  readonly output: Track
  readonly errors: Track
  /** Digest of the input entries written (see {@link entryKey}), continued across resumes. */
  readonly input: Hash
  readonly entries: number
  /** Entries written by this run: until there is one, the checkpoint on disk is already right. */
  readonly written: number
  readonly counts: Counts
}

const freshTrack = (): Track => ({ bytes: 0, digest: createHash("sha256") })

/** A track after `bytes` more were written. */
const appendTo = (track: Track, bytes: Uint8Array): Track => ({
  bytes: track.bytes + bytes.length,
  digest: track.digest.copy().update(bytes)
})

/** What a chunk of outcomes turns into: the bytes of each file and the ledger once both hold them. */
interface Step {
  readonly outputBytes: Uint8Array
  readonly errorsBytes: Uint8Array
  readonly next: Ledger
}

/** The ledger after a chunk of outcomes, and the bytes to write for it. */
const record = (
  ledger: Ledger,
  rowEncoder: RowEncoder.RowEncoder,
  outcomes: Chunk.Chunk<Outcomes.Outcome>
): Step => {
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
  const outputBytes = encoder.encode(rowEncoder.encode(rows))
  const errorsBytes = encoder.encode(errorsText)
  return {
    outputBytes,
    errorsBytes,
    next: {
      output: appendTo(ledger.output, outputBytes),
      errors: appendTo(ledger.errors, errorsBytes),
      input,
      counts,
      entries: ledger.entries + outcomes.length,
      written: ledger.written + outcomes.length
    }
  }
}

/** The text an entry contributes to the input digest: what identifies it, independent of spacing or line ends. */
const entryKey = (entry: OrderIds.Entry): string =>
  entry._tag === "Id" ? `id ${entry.orderId}\n` : `bad ${entry.line} ${JSON.stringify(entry.input)}\n`

const encoder = new TextEncoder()

/** Fails unless the directory of each file can be written (the checkpoint is replaced by a rename there). */
const checkWritable = (fs: FileSystem.FileSystem, files: ReadonlyArray<string>): Effect.Effect<void, OutputError> =>
  Effect.forEach(
    [...new Set(files.map((file) => path.dirname(file)))],
    (dir) => fs.access(dir, { writable: true }).pipe(Effect.mapError((e) => unwritable(dir, e))),
    { discard: true }
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
      return yield* Resume.noCheckpoint(options.output)
    }
    if (Option.isSome(previous)) yield* Resume.checkOptions(previous.value, fingerprint)

    const openFile = (file: string, flag: FileSystem.OpenFlag) =>
      fs.open(file, { flag }).pipe(Effect.mapError(Resume.fileError(file, "open")))

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

    let files: { readonly output: OpenFile; readonly errors: OpenFile }
    let start: Ledger
    let skip = 0
    let complete = false
    if (Option.isNone(previous)) {
      // nothing is removed or truncated unless the checkpoint can be written next to the output
      yield* checkWritable(fs, [output, errors, checkpointPath])
      // the old checkpoint goes first: a crash now must not leave it pointing into files about to be truncated
      yield* Checkpoint.remove(checkpointPath).pipe(Effect.mapError(Resume.fileError(checkpointPath, "remove")))
      files = {
        output: { path: output, file: yield* openFile(output, "w") },
        errors: { path: errors, file: yield* openFile(errors, "w") }
      }
      const header = encoder.encode(rowEncoder.header)
      yield* write(files.output, header)
      start = {
        output: appendTo(freshTrack(), header),
        errors: freshTrack(),
        input: createHash("sha256"),
        entries: 0,
        written: 0,
        counts: { exported: 0, failed: 0, badLines: 0, rows: 0 }
      }
    } else {
      const cp = previous.value
      // a complete checkpoint is only checked (digests), an incomplete one must have its bytes to continue from
      yield* Resume.checkSizes(fs, cp.complete ? [] : [[output, cp.outputBytes], [errors, cp.errorsBytes]])
      if (!cp.complete) yield* checkWritable(fs, [output, errors, checkpointPath])
      const flag = cp.complete ? "r" : "r+"
      files = {
        output: { path: output, file: yield* openFile(output, flag) },
        errors: { path: errors, file: yield* openFile(errors, flag) }
      }
      // the committed prefixes must be the bytes the checkpoint describes: nothing is appended to another file
      start = {
        output: {
          bytes: cp.outputBytes,
          digest: yield* Resume.verifyPrefix(files.output, cp.outputBytes, cp.outputDigest)
        },
        errors: {
          bytes: cp.errorsBytes,
          digest: yield* Resume.verifyPrefix(files.errors, cp.errorsBytes, cp.errorsDigest)
        },
        input: createHash("sha256"),
        entries: cp.entries,
        written: 0,
        counts: { exported: cp.exported, failed: cp.failed, badLines: cp.badLines, rows: cp.rows }
      }
      skip = cp.entries
      complete = cp.complete
      if (!complete) {
        // drop whatever was written after the checkpoint: it is written again, the same, by the sink
        for (const [open, bytes] of [[files.output, cp.outputBytes], [files.errors, cp.errorsBytes]] as const) {
          yield* open.file.truncate(bytes).pipe(
            Effect.zipRight(open.file.seek(bytes, "start")),
            Effect.zipRight(open.file.sync),
            Effect.mapError(Resume.fileError(open.path, "truncate"))
          )
        }
      }
    }
    const before: Counts = { ...start.counts }

    // the data first, then the checkpoint that covers it; never cut short halfway
    const commit = (ledger: Ledger, complete: boolean) =>
      Effect.all([files.output.file.sync, files.errors.file.sync], { concurrency: 2, discard: true }).pipe(
        Effect.zipRight(Checkpoint.write(checkpointPath, snapshot(ledger, complete))),
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.mapError(Resume.fileError(output, "sync")),
        Effect.uninterruptible
      )
    if (Option.isNone(previous)) yield* commit(start, false)

    // the ledger as the writes leave it; it moves only once both files hold a chunk's bytes, so that a commit (a failed
    // write's included) never records more than is written
    const ledger = yield* Ref.make(start)
    // opened by each write, awaited by the committer: a checkpoint follows writes, never an idle export
    const written = yield* Effect.makeLatch(false)
    const cadence = options.checkpoint ?? Schedule.spaced(options.checkpointEvery ?? "1 second")
    // Commits, beside the writes (syncing never blocks them), the latest ledger once something was written, then waits
    // as the cadence says. A commit in flight is never interrupted.
    const committer = yield* written.await.pipe(
      Effect.zipRight(written.close),
      Effect.zipRight(Ref.get(ledger)),
      Effect.flatMap((now) => commit(now, false)),
      Effect.repeat(cadence),
      Effect.forkScoped
    )
    /** Fails with the committer's error once it has failed; a commit that failed is not retried. */
    const committerFailure = Effect.flatMap(Fiber.poll(committer), (exit) =>
      Option.isSome(exit) && Exit.isFailure(exit.value) ? Effect.failCause(exit.value.cause) : Effect.void)
    /** Stops the committer after its commit in flight, and fails if it had failed. */
    const stopCommitter = Effect.flatMap(
      Fiber.interrupt(committer),
      (exit) =>
        Exit.isFailure(exit) && !Exit.isInterrupted(exit) ? Effect.failCause(exit.cause) : Effect.void
    )

    yield* Effect.addFinalizer((exit) =>
      Effect.gen(function*() {
        yield* Effect.exit(stopCommitter)
        // on success the checkpoint was already marked complete; otherwise record what is safely on disk
        const last = yield* Ref.get(ledger)
        if (!Exit.isSuccess(exit) && last.written > 0) {
          // a checkpoint that cannot be written now is better left as it was: the next resume starts from it
          yield* Effect.ignore(commit(last, false))
        }
      })
    )

    const writeChunk = (outcomes: Chunk.Chunk<Outcomes.Outcome>): Effect.Effect<void, OutputError> =>
      Effect.gen(function*() {
        yield* committerFailure
        const step = record(yield* Ref.get(ledger), rowEncoder, outcomes)
        yield* write(files.output, step.outputBytes)
        yield* write(files.errors, step.errorsBytes)
        yield* Ref.set(ledger, step.next)
        yield* written.open
      })

    const finish = stopCommitter.pipe(
      Effect.zipRight(Ref.get(ledger)),
      Effect.tap((last) => commit(last, true)),
      Effect.map((last): Summary => ({
        ...last.counts,
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
      const mismatch = Resume.inputDiffers(skip)
      const expected = Option.getOrThrow(previous).inputDigest
      return Stream.unwrapScoped(
        Stream.peel(
          input,
          Sink.foldUntil(
            createHash("sha256"),
            skip,
            (hash: Hash, entry: OrderIds.Entry) => hash.update(entryKey(entry))
          )
        ).pipe(
          Effect.flatMap(([hash, rest]) =>
            hash.copy().digest("hex") === expected
              ? Effect.as(Ref.update(ledger, (now) => ({ ...now, input: hash })), rest)
              : Effect.fail(mismatch)
          )
        )
      )
    }

    return { output, errors, before, complete, remaining, sink }
  })

/** Writes bytes at the end of a file (its handle's position). */
const write = (open: OpenFile, bytes: Uint8Array): Effect.Effect<void, OutputError> =>
  bytes.length === 0
    ? Effect.void
    : open.file.writeAll(bytes).pipe(Effect.mapError(Resume.fileError(open.path, "write")))
