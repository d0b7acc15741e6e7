import type { CertCentralError } from "@certcentral/core"
import { CertCentralClient } from "@certcentral/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash, type Hash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Checkpoint from "../Checkpoint.js"
import * as ErrorRecord from "../ErrorRecord.js"
import type * as Export from "../Export.js"
import { OutputError, ResumeError } from "../ExportError.js"
import type * as OrderIds from "../OrderIds.js"
import * as RowEncoder from "../RowEncoder.js"
import { describe } from "./errno.js"

type Outcomes = <E, R>(
  entries: Stream.Stream<OrderIds.Entry, E, R>,
  options: Export.Options
) => Stream.Stream<Export.Outcome, E | CertCentralError.AuthenticationError, R | CertCentralClient.CertCentralClient>

interface Counts {
  exported: number
  failed: number
  badLines: number
  rows: number
}

/** The text an entry contributes to the input digest: what identifies it, independent of spacing or line ends. */
const entryKey = (entry: OrderIds.Entry): string =>
  entry._tag === "Id" ? `id ${entry.orderId}\n` : `bad ${entry.line} ${JSON.stringify(entry.input)}\n`

const emptyDigest = createHash("sha256").digest("hex")

const sameInclude = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** Writes all of `text` at `position` and adds it to the file's digest; returns the bytes written. */
const writeAt = (fd: number, text: string, position: number, digest: Hash): number => {
  if (text === "") return 0
  const buffer = Buffer.from(text, "utf8")
  let done = 0
  while (done < buffer.length) {
    done += fs.writeSync(fd, buffer, done, buffer.length - done, position + done)
  }
  digest.update(buffer)
  return buffer.length
}

/** SHA-256 of the first `bytes` bytes of an open file, read in chunks (constant memory); `undefined` if shorter. */
const digestPrefix = (fd: number, bytes: number): Hash | undefined => {
  const hash = createHash("sha256")
  const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(1, bytes)))
  let position = 0
  while (position < bytes) {
    const read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, bytes - position), position)
    if (read === 0) return undefined
    hash.update(chunk.subarray(0, read))
    position += read
  }
  return hash
}

/** Fails unless the directory of each file can be written (the checkpoint is replaced by a rename there). */
const checkWritable = (files: ReadonlyArray<string>): Effect.Effect<void, OutputError> =>
  Effect.forEach(
    [...new Set(files.map((file) => path.dirname(file)))],
    (dir) =>
      Effect.try({
        try: () => fs.accessSync(dir, fs.constants.W_OK),
        catch: (e) =>
          new OutputError({
            path: dir,
            message: (e as NodeJS.ErrnoException).code === "ENOENT"
              ? `the directory ${dir} does not exist; create it or choose another --output (and --errors)`
              : `cannot write to the directory ${dir}: ${describe(e)}; choose a writable --output (and --errors)`
          })
      }),
    { discard: true }
  )

class Files {
  constructor(
    readonly output: string,
    readonly errors: string,
    readonly checkpointPath: string,
    readonly outFd: number,
    readonly errFd: number,
    public outBytes: number,
    public errBytes: number,
    public entries: number,
    readonly counts: Counts,
    public hash: Hash | undefined,
    readonly startDigest: string,
    readonly outDigest: Hash,
    readonly errDigest: Hash,
    readonly fingerprint: Pick<Checkpoint.Checkpoint, "format" | "include" | "showArchived" | "errors">
  ) {}

  sync(complete: boolean): void {
    fs.fsyncSync(this.outFd)
    fs.fsyncSync(this.errFd)
    Checkpoint.writeSync(this.checkpointPath, {
      version: 2,
      ...this.fingerprint,
      entries: this.entries,
      // until a resume has recognised the input again, the digest is the checkpoint's own
      inputDigest: this.hash === undefined ? this.startDigest : this.hash.copy().digest("hex"),
      outputBytes: this.outBytes,
      errorsBytes: this.errBytes,
      outputDigest: this.outDigest.copy().digest("hex"),
      errorsDigest: this.errDigest.copy().digest("hex"),
      ...this.counts,
      complete
    })
  }

  close(): void {
    fs.closeSync(this.outFd)
    fs.closeSync(this.errFd)
  }
}

const attempt = <A>(file: string, what: string, f: () => A): Effect.Effect<A, OutputError> =>
  Effect.try({
    try: f,
    catch: (e) => new OutputError({ path: file, message: `cannot ${what} ${file}: ${describe(e)}` })
  })

export const toFiles = <E, R>(
  input: Stream.Stream<OrderIds.Entry, E, R>,
  options: Export.FileOptions,
  outcomes: Outcomes
): Effect.Effect<
  Export.Summary,
  E | CertCentralError.AuthenticationError | OutputError | ResumeError,
  R | CertCentralClient.CertCentralClient
> =>
  Effect.gen(function*() {
    const client = yield* CertCentralClient.CertCentralClient
    const output = path.resolve(options.output)
    const errors = path.resolve(options.errors ?? `${options.output}.errors.ndjson`)
    if (output === errors) {
      return yield* Effect.fail(new OutputError({ path: output, message: "the output and errors files are the same" }))
    }
    const format = options.format ?? RowEncoder.formatFromPath(output)
    const encoder = RowEncoder.make(format)
    const include = normalize(options.include)
    const fingerprint = { format, include, showArchived: options.showArchived === true, errors }
    const checkpointPath = Checkpoint.pathFor(output)
    const summary = (counts: Counts, alreadyComplete: boolean, resumed: boolean): Export.Summary => ({
      ...counts,
      alreadyComplete,
      resumed,
      output,
      errors
    })

    const previous = options.resume === true ? yield* Checkpoint.read(checkpointPath) : Option.none()
    if (options.resume === true && Option.isNone(previous) && fs.existsSync(output)) {
      return yield* Effect.fail(
        new ResumeError({
          message: `cannot resume: ${options.output} exists but has no checkpoint; run without --resume to start over`
        })
      )
    }
    if (Option.isSome(previous)) {
      const cp = previous.value
      const mismatch = cp.format !== format
        ? `format ${cp.format}`
        : !sameInclude(cp.include, include)
        ? `--include ${cp.include.join(",")}`
        : cp.showArchived !== fingerprint.showArchived
        ? cp.showArchived ? "--show-archived" : "no --show-archived"
        : cp.errors !== errors
        ? `errors file ${cp.errors}`
        : undefined
      if (mismatch !== undefined) {
        return yield* Effect.fail(
          new ResumeError({
            message: `cannot resume: the checkpoint was written with ${mismatch}; use the same options or start over`
          })
        )
      }
      if (cp.complete) {
        yield* verifyComplete(output, errors, cp)
        const counts = { exported: cp.exported, failed: cp.failed, badLines: cp.badLines, rows: cp.rows }
        if (options.progress !== undefined) {
          yield* options.progress.start(counts, client.stats)
          yield* options.progress.finish
        }
        return summary(counts, true, true)
      }
    }

    const files = yield* Effect.acquireRelease(
      Option.match(previous, {
        onNone: () => openFresh(output, errors, checkpointPath, encoder, fingerprint),
        onSome: (cp) => openResumed(output, errors, checkpointPath, cp, fingerprint)
      }),
      (files, exit) =>
        Effect.sync(() => {
          // on success the checkpoint was already marked complete; otherwise record what is safely on disk
          try {
            if (!Exit.isSuccess(exit)) files.sync(false)
          } catch {
            // a checkpoint that cannot be written after a failed sync is better left as it was
          } finally {
            files.close()
          }
        })
    )
    const skip = Option.match(previous, { onNone: () => 0, onSome: (cp) => cp.entries })
    const expectedDigest = files.startDigest

    if (options.progress !== undefined) yield* options.progress.start({ ...files.counts }, client.stats)

    // Entries the checkpoint covers are read again (to recognise the input) and skipped.
    let seen = 0
    const prefix = createHash("sha256")
    const inputMismatch = () =>
      new ResumeError({
        message: `cannot resume: the input differs from the one the checkpoint was written for (its first ${skip} ${
          skip === 1 ? "entry" : "entries"
        }); use the same --orders or start over`
      })
    const remaining = input.pipe(
      Stream.tap((entry) => {
        if (seen >= skip) return Effect.void
        prefix.update(entryKey(entry))
        seen++
        if (seen < skip) return Effect.void
        if (prefix.copy().digest("hex") !== expectedDigest) return Effect.fail(inputMismatch())
        files.hash = prefix
        return Effect.void
      }),
      Stream.concat(Stream.execute(Effect.suspend(() => seen < skip ? Effect.fail(inputMismatch()) : Effect.void))),
      Stream.drop(skip)
    )

    const every = Duration.toMillis(Duration.decode(options.checkpointEvery ?? "1 second"))
    let lastSync = yield* Clock.currentTimeMillis

    const write = (outcome: Export.Outcome) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        attempt(output, "write", () => {
          switch (outcome._tag) {
            case "Exported": {
              files.outBytes += writeAt(files.outFd, encoder.encode(outcome.rows), files.outBytes, files.outDigest)
              files.counts.exported++
              files.counts.rows += outcome.rows.length
              files.hash!.update(entryKey({ _tag: "Id", orderId: outcome.orderId as never, line: outcome.line }))
              break
            }
            case "Failed": {
              files.errBytes += writeAt(
                files.errFd,
                ErrorRecord.encode(outcome.record),
                files.errBytes,
                files.errDigest
              )
              files.counts.failed++
              files.hash!.update(entryKey({ _tag: "Id", orderId: outcome.orderId as never, line: outcome.line }))
              break
            }
            case "BadLine": {
              files.errBytes += writeAt(
                files.errFd,
                ErrorRecord.encode(ErrorRecord.fromBadLine(outcome)),
                files.errBytes,
                files.errDigest
              )
              files.counts.badLines++
              files.hash!.update(entryKey(outcome))
            }
          }
          files.entries++
          if (now - lastSync >= every) {
            files.sync(false)
            lastSync = now
          }
        })).pipe(
          Effect.zipRight(
            options.progress === undefined
              ? Effect.void
              : options.progress.record(
                outcome._tag === "Exported" ? { _tag: "Exported", rows: outcome.rows.length } : { _tag: outcome._tag }
              )
          )
        )

    yield* outcomes(remaining, options).pipe(Stream.runForEach(write))
    yield* attempt(output, "sync", () => files.sync(true))
    if (options.progress !== undefined) yield* options.progress.finish
    return summary({ ...files.counts }, false, skip > 0 || Option.isSome(previous))
  }).pipe(
    Effect.scoped,
    Effect.ensuring(options.progress === undefined ? Effect.void : options.progress.finish)
  )

const normalize = (include: ReadonlyArray<Export.Endpoint> | undefined): ReadonlyArray<Export.Endpoint> => {
  const all: ReadonlyArray<Export.Endpoint> = ["order", "duplicates", "reissues"]
  return include === undefined ? all : all.filter((e) => include.includes(e))
}

const openFresh = (
  output: string,
  errors: string,
  checkpointPath: string,
  encoder: RowEncoder.RowEncoder,
  fingerprint: Files["fingerprint"]
): Effect.Effect<Files, OutputError> =>
  Effect.gen(function*() {
    // nothing is removed or truncated unless the checkpoint can be written next to the output
    yield* checkWritable([output, errors, checkpointPath])
    // the old checkpoint goes first: a crash now must not leave it pointing into files about to be truncated
    yield* attempt(checkpointPath, "remove", () => Checkpoint.removeSync(checkpointPath))
    const outFd = yield* attempt(output, "open", () => fs.openSync(output, "w"))
    const errFd = yield* attempt(errors, "open", () => fs.openSync(errors, "w")).pipe(
      Effect.tapError(() => Effect.sync(() => fs.closeSync(outFd)))
    )
    const files = new Files(
      output,
      errors,
      checkpointPath,
      outFd,
      errFd,
      0,
      0,
      0,
      { exported: 0, failed: 0, badLines: 0, rows: 0 },
      createHash("sha256"),
      emptyDigest,
      createHash("sha256"),
      createHash("sha256"),
      fingerprint
    )
    yield* attempt(output, "write", () => {
      files.outBytes = writeAt(outFd, encoder.header, 0, files.outDigest)
      files.sync(false)
    }).pipe(Effect.tapError(() => Effect.sync(() => files.close())))
    return files
  })

const openResumed = (
  output: string,
  errors: string,
  checkpointPath: string,
  cp: Checkpoint.Checkpoint,
  fingerprint: Files["fingerprint"]
): Effect.Effect<Files, OutputError | ResumeError> =>
  Effect.gen(function*() {
    const size = (file: string) => {
      try {
        return fs.statSync(file).size
      } catch {
        return -1
      }
    }
    for (const [file, expected] of [[output, cp.outputBytes], [errors, cp.errorsBytes]] as const) {
      const actual = size(file)
      if (actual < expected) {
        return yield* Effect.fail(
          new ResumeError({
            message: `cannot resume: ${file} ${
              actual < 0 ? "is missing" : `has ${actual} bytes, fewer than the ${expected} the checkpoint records`
            }; start over without --resume`
          })
        )
      }
    }
    yield* checkWritable([output, errors, checkpointPath])
    const fds = yield* openBoth(output, errors, "r+")
    const [outFd, errFd] = fds
    const [outDigest, errDigest] = yield* verifyPrefixes(output, errors, fds, cp).pipe(
      Effect.tapError(() => closeBoth(fds))
    )
    const files = new Files(
      output,
      errors,
      checkpointPath,
      outFd,
      errFd,
      cp.outputBytes,
      cp.errorsBytes,
      cp.entries,
      { exported: cp.exported, failed: cp.failed, badLines: cp.badLines, rows: cp.rows },
      cp.entries === 0 ? createHash("sha256") : undefined,
      cp.inputDigest,
      outDigest,
      errDigest,
      fingerprint
    )
    // drop whatever was written after the checkpoint: it is written again, the same, below
    yield* attempt(output, "truncate", () => {
      fs.ftruncateSync(outFd, cp.outputBytes)
      fs.ftruncateSync(errFd, cp.errorsBytes)
      fs.fsyncSync(outFd)
      fs.fsyncSync(errFd)
    }).pipe(Effect.tapError(() => Effect.sync(() => files.close())))
    return files
  })

/** Opens the output and the errors file; the first is closed again when the second cannot be opened. */
const openBoth = (
  output: string,
  errors: string,
  flags: string
): Effect.Effect<readonly [number, number], OutputError> =>
  Effect.flatMap(
    attempt(output, "open", () => fs.openSync(output, flags)),
    (outFd) =>
      attempt(errors, "open", () => fs.openSync(errors, flags)).pipe(
        Effect.map((errFd) => [outFd, errFd] as const),
        Effect.tapError(() => Effect.sync(() => fs.closeSync(outFd)))
      )
  )

const closeBoth = ([outFd, errFd]: readonly [number, number]) =>
  Effect.sync(() => {
    fs.closeSync(outFd)
    fs.closeSync(errFd)
  })

/**
 * Reads the committed prefix of the output and the errors file again and compares each digest with the checkpoint's
 * (version 2; a version 1 checkpoint has none and was checked by size alone). Returns the digests to continue from.
 */
const verifyPrefixes = (
  output: string,
  errors: string,
  [outFd, errFd]: readonly [number, number],
  cp: Checkpoint.Checkpoint
): Effect.Effect<Array<Hash>, OutputError | ResumeError> =>
  Effect.forEach(
    [[output, outFd, cp.outputBytes, cp.outputDigest], [errors, errFd, cp.errorsBytes, cp.errorsDigest]] as const,
    ([file, fd, bytes, expected]) =>
      Effect.flatMap(attempt(file, "read", () => digestPrefix(fd, bytes)), (hash) =>
        hash !== undefined && (expected === undefined || hash.copy().digest("hex") === expected)
          ? Effect.succeed(hash)
          : Effect.fail(
            new ResumeError({
              message: `cannot resume: ${file} is not the file the checkpoint was written for (its first ${bytes} ${
                bytes === 1 ? "byte differs" : "bytes differ"
              }); start over without --resume`
            })
          ))
  )

/** For a complete checkpoint: the files must still be the ones it describes. */
const verifyComplete = (
  output: string,
  errors: string,
  cp: Checkpoint.Checkpoint
): Effect.Effect<void, OutputError | ResumeError> =>
  Effect.acquireUseRelease(
    openBoth(output, errors, "r"),
    (fds) => verifyPrefixes(output, errors, fds, cp),
    closeBoth
  )
