/**
 * The refresh's commit: every file written beside its target and synced, the renames noted in a journal, then made
 * (the output last), so that the earlier files stay intact until the new ones are complete and a commit cut short is
 * completed by the next run.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { OutputError } from "../../ExportError.js"
import { describe } from "../errno.js"
import { exists, readOptional, sha256, syncDirectory } from "./model.js"

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

/**
 * Finishes the renames of a refresh cut short during them (no-op without a journal): rolled forward while the output
 * is still the one it replaces; once the output was renamed (it goes last) there is nothing left to do; and when
 * another run has replaced the output since, the journal and its temporary files are dropped.
 */
export const recover = (output: string): Effect.Effect<void, OutputError, FileSystem.FileSystem> =>
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
export const commit = (
  output: string,
  from: string | null,
  files: ReadonlyArray<readonly [string, string]>
): Effect.Effect<void, OutputError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const encoder = new TextEncoder()
    const renames: Array<readonly [string, string]> = []
    const journalPath = journalPathFor(output)
    // stopped before the renames (failed, interrupted): no temporary file is left, the earlier files are untouched
    const cleanUp = Effect.forEach([...files.map(([file]) => `${file}.refresh.tmp`), journalPath], (file) =>
      Effect.ignore(fs.remove(file, { force: true })), { discard: true })
    yield* Effect.gen(function*() {
      for (const [file, text] of files) {
        const temp = `${file}.refresh.tmp`
        yield* Effect.scoped(Effect.gen(function*() {
          const handle = yield* fs.open(temp, { flag: "w" })
          if (text !== "") {
            yield* handle.writeAll(encoder.encode(text))
          }
          yield* handle.sync
        })).pipe(
          Effect.mapError((e) =>
            new OutputError({ path: temp, message: `cannot write ${temp}: ${describe(e)}` })
          )
        )
        renames.push([temp, file])
      }
      // the output last: while its temporary file exists the commit is unfinished
      renames.sort(([, a], [, b]) => (a === output ? 1 : 0) - (b === output ? 1 : 0))
      yield* Effect.scoped(Effect.gen(function*() {
        const handle = yield* fs.open(journalPath, { flag: "w" })
        yield* handle.writeAll(encoder.encode(JSON.stringify({ from, renames }) + "\n"))
        yield* handle.sync
      })).pipe(
        Effect.mapError((e) =>
          new OutputError({ path: journalPath, message: `cannot write ${journalPath}: ${describe(e)}` })
        )
      )
    }).pipe(Effect.onError(() => cleanUp))
    yield* syncDirectory(fs, path.dirname(output))
    yield* Effect.uninterruptible(recover(output))
  })
