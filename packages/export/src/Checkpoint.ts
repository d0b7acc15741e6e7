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
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { OutputError, ResumeError } from "./ExportError.js"
import { describe, isNotFound } from "./internal/errno.js"
import * as Outcomes from "./Outcomes.js"
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
  include: Schema.Array(Outcomes.Endpoint),
  showArchived: Schema.Boolean,
  /** Absolute path of the errors file. */
  errors: Schema.String,
  /**
   * Where the ids came from when the export listed them itself, as the CLI's flags say it (`--orders-from
   * subaccounts --filter status=issued`); absent for ids the caller gave (`--orders`). A resume must say the same.
   */
  source: Schema.optional(Schema.String),
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
export const read = (
  file: string
): Effect.Effect<Option.Option<Checkpoint>, ResumeError | OutputError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.map(Option.some),
    Effect.catchAll((e) =>
      isNotFound(e)
        ? Effect.succeed(Option.none<string>())
        : Effect.fail(new OutputError({ path: file, message: `cannot read checkpoint ${file}: ${describe(e)}` }))
    ),
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed(Option.none<Checkpoint>()),
      onSome: (text) =>
        Either.match(decode(text), {
          onLeft: () =>
            Effect.fail(
              new ResumeError({
                message: `checkpoint ${file} is unreadable or from another version`,
                reason: "Unreadable"
              })
            ),
          onRight: (checkpoint) => Effect.succeed(Option.some(checkpoint))
        })
    }))
  )

/**
 * Replaces the checkpoint atomically: a temporary file is written and synced, renamed over the old one, and the
 * directory synced. Every step runs off the event loop (the platform's asynchronous file system). When a step fails
 * the temporary file is removed and the old checkpoint is left as it was.
 *
 * @since 0.2.0
 * @category io
 */
export const write = (
  file: string,
  checkpoint: Checkpoint
): Effect.Effect<void, PlatformError.PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const temp = `${file}.tmp`
    yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(temp, { flag: "w" })
      yield* handle.writeAll(new TextEncoder().encode(JSON.stringify(checkpoint) + "\n"))
      yield* handle.sync
    })).pipe(
      Effect.zipRight(fs.rename(temp, file)),
      // a full disk (ENOSPC) or a failed rename must not leave the temporary file behind; the old checkpoint stays
      Effect.onError(() => Effect.ignore(fs.remove(temp, { force: true })))
    )
    yield* syncDirectory(fs, path.dirname(file))
  })

/**
 * Deletes a checkpoint (and its temporary file) if there is one.
 *
 * @since 0.2.0
 * @category io
 */
export const remove = (file: string): Effect.Effect<void, PlatformError.PlatformError, FileSystem.FileSystem> =>
  Effect.flatMap(
    FileSystem.FileSystem,
    (fs) => Effect.zipRight(fs.remove(file, { force: true }), fs.remove(`${file}.tmp`, { force: true }))
  )

// some platforms cannot fsync a directory; the rename itself is still atomic
const syncDirectory = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<void> =>
  Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (handle) => handle.sync)).pipe(Effect.ignore)
