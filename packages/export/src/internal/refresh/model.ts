/** The refresh's models and small file helpers, shared by its stages; the public ones are re-exported by `Refresh`. */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import * as path from "node:path"
import type * as Checkpoint from "../../Checkpoint.js"
import { OutputError } from "../../ExportError.js"
import type * as Outcomes from "../../Outcomes.js"
import type * as RowEncoder from "../../RowEncoder.js"
import { describe, isNotFound } from "../errno.js"
import type * as RowText from "../rowText.js"

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

export const recordPathFor = (output: string): string => `${output}.refresh.json`

export const changesPathFor = (output: string): string => `${output}.changes.ndjson`

/** The earlier export, verified: its checkpoint and record, its rows by order, and its failed orders. */
export interface Earlier {
  readonly checkpoint: Checkpoint.Checkpoint
  readonly record: Record
  readonly rows: ReadonlyMap<number, ReadonlyArray<RowText.RowText>>
  readonly order: ReadonlyArray<number>
  readonly failed: ReadonlySet<number>
}

export interface Files {
  readonly output: string
  readonly errors: string
  readonly format: RowEncoder.Format
  readonly include: ReadonlyArray<Outcomes.Endpoint>
  readonly showArchived: boolean
  readonly source: string
}

export const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex")

export const readOptional = (
  fs: FileSystem.FileSystem,
  file: string
): Effect.Effect<Option.Option<Uint8Array>, OutputError> =>
  fs.readFile(file).pipe(
    Effect.map(Option.some),
    Effect.catchAll((e) =>
      isNotFound(e)
        ? Effect.succeed(Option.none())
        : Effect.fail(new OutputError({ path: file, message: `cannot read ${file}: ${describe(e)}` }))
    )
  )

export const changedFile = (message: string) => new RefreshError({ reason: "FileChanged", message })

export const syncDirectory = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<void> =>
  Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (handle) => handle.sync)).pipe(Effect.ignore)

export const exists = (fs: FileSystem.FileSystem, file: string) =>
  fs.exists(file).pipe(Effect.orElseSucceed(() => false))

/** Writes `text` to `<file>.tmp`, syncs it and renames it over `file`, then syncs the directory. */
export const writeAtomically = (file: string, text: string): Effect.Effect<void, OutputError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const temp = `${file}.tmp`
    yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(temp, { flag: "w" })
      yield* handle.writeAll(new TextEncoder().encode(text))
      yield* handle.sync
    })).pipe(
      Effect.zipRight(fs.rename(temp, file)),
      Effect.mapError((e) => new OutputError({ path: file, message: `cannot write ${file}: ${describe(e)}` }))
    )
    yield* syncDirectory(fs, path.dirname(file))
  })
