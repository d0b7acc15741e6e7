/**
 * The checkpoint written next to the output (`<output>.checkpoint.json`): what shapes the output, how many input
 * entries are fully written, and the byte lengths and SHA-256 digests of the output and errors files at that point.
 * It is replaced atomically (temporary file, fsync, rename, fsync of the directory) and only after the data it covers
 * is synced.
 *
 * Version 2 added the digests: `--resume` reads the committed prefix of each file again and refuses to continue a file
 * that was replaced or edited (same size or larger included), instead of appending to it. Version 1 checkpoints
 * (sizes only) are still accepted and checked by size alone.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as path from "node:path"
import * as ErrorRecord from "./ErrorRecord.js"
import { OutputError, ResumeError } from "./ExportError.js"
import { describe } from "./internal/errno.js"
import * as RowEncoder from "./RowEncoder.js"

/**
 * The checkpoint's content.
 *
 * @since 0.1.0
 * @category models
 */
export const Checkpoint = Schema.Struct({
  /** 2 since the digests; 1 (sizes only) is still read. */
  version: Schema.Literal(1, 2),
  format: RowEncoder.Format,
  include: Schema.Array(ErrorRecord.Endpoint),
  showArchived: Schema.Boolean,
  /** Absolute path of the errors file. */
  errors: Schema.String,
  /** Input entries (order ids after de-duplication, and bad lines) fully written. */
  entries: Schema.Number,
  /** SHA-256 over those entries, to recognise the same input on resume. */
  inputDigest: Schema.String,
  outputBytes: Schema.Number,
  errorsBytes: Schema.Number,
  /** SHA-256 (hex) of the output's first `outputBytes` bytes (version 2). */
  outputDigest: Schema.optional(Schema.String),
  /** SHA-256 (hex) of the errors file's first `errorsBytes` bytes (version 2). */
  errorsDigest: Schema.optional(Schema.String),
  exported: Schema.Number,
  failed: Schema.Number,
  badLines: Schema.Number,
  rows: Schema.Number,
  /** The export ran to the end. */
  complete: Schema.Boolean
}).annotations({ identifier: "Checkpoint" })

/**
 * The type of the checkpoint's content.
 *
 * @since 0.1.0
 * @category models
 */
export type Checkpoint = typeof Checkpoint.Type

/**
 * Where the checkpoint of an output lives.
 *
 * @since 0.1.0
 * @category constructors
 */
export const pathFor = (output: string): string => `${output}.checkpoint.json`

const decode = Schema.decodeUnknownEither(Schema.parseJson(Checkpoint))

/**
 * Reads a checkpoint; `None` when there is none. A file that is not a checkpoint is a {@link ResumeError}.
 *
 * @since 0.1.0
 * @category io
 */
export const read = (file: string): Effect.Effect<Option.Option<Checkpoint>, ResumeError | OutputError> =>
  Effect.suspend((): Effect.Effect<Option.Option<Checkpoint>, ResumeError | OutputError> => {
    let text: string
    try {
      text = fs.readFileSync(file, "utf8")
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return Effect.succeed(Option.none())
      return Effect.fail(new OutputError({ path: file, message: `cannot read checkpoint ${file}: ${describe(e)}` }))
    }
    const decoded = decode(text)
    return decoded._tag === "Right"
      ? Effect.succeed(Option.some(decoded.right))
      : Effect.fail(new ResumeError({ message: `checkpoint ${file} is unreadable or from another version` }))
  })

/**
 * Replaces the checkpoint atomically: a temporary file is written and synced, renamed over the old one, and the
 * directory synced.
 *
 * @since 0.1.0
 * @category io
 */
export const writeSync = (file: string, checkpoint: Checkpoint): void => {
  const temp = `${file}.tmp`
  const fd = fs.openSync(temp, "w")
  try {
    fs.writeFileSync(fd, JSON.stringify(checkpoint) + "\n")
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(temp, file)
  syncDirectory(path.dirname(file))
}

/**
 * Deletes a checkpoint if there is one.
 *
 * @since 0.1.0
 * @category io
 */
export const removeSync = (file: string): void => {
  fs.rmSync(file, { force: true })
  fs.rmSync(`${file}.tmp`, { force: true })
}

const syncDirectory = (dir: string) => {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, "r")
    fs.fsyncSync(fd)
  } catch {
    // some platforms cannot fsync a directory; the rename itself is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}
