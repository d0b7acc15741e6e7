/** The earlier export, read back and verified against what its run recorded before a refresh copies from it. */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import * as Checkpoint from "../../Checkpoint.js"
import type { OutputError } from "../../ExportError.js"
import * as RowEncoder from "../../RowEncoder.js"
import * as RowText from "../rowText.js"
import {
  changedFile,
  type Earlier,
  type Files,
  readOptional,
  Record,
  recordPathFor,
  RefreshError,
  sha256
} from "./model.js"

const decodeRecord = Schema.decodeUnknownEither(Schema.parseJson(Record))
const textDecoder = new TextDecoder("utf-8", { fatal: true })

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
export const readEarlier = (
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
