/**
 * What a resume checks before it continues an export: the checkpoint's options against this run's, the files'
 * sizes and the digests of their committed prefixes, and the input's first entries. Each refusal is a
 * {@link ResumeError} whose message says what does not match and whose `reason` lets a caller add its own advice.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { createHash, type Hash } from "node:crypto"
import type * as Checkpoint from "../Checkpoint.js"
import { OutputError, ResumeError } from "../ExportError.js"
import { describe } from "./errno.js"

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

/** The error of a file operation that failed (opening, reading, writing, syncing one of the export's files). */
export const fileError = (file: string, what: string) => (e: unknown) =>
  new OutputError({ path: file, message: `cannot ${what} ${file}: ${describe(e)}` })

/** An output exists but no checkpoint lies next to it: nothing says which of its bytes are safe. */
export const noCheckpoint = (output: string): ResumeError =>
  new ResumeError({ message: `cannot resume: ${output} exists but has no checkpoint`, reason: "NoCheckpoint" })

/** The input's first `skip` entries are not the ones the checkpoint was written for. */
export const inputDiffers = (skip: number): ResumeError =>
  new ResumeError({
    message: `cannot resume: the input differs from the one the checkpoint was written for (its first ${
      plural(skip, "entry", "entries")
    })`,
    reason: "InputDiffers"
  })

/** The options that shape the files, as the checkpoint records them. */
export type Fingerprint = Pick<Checkpoint.Checkpoint, "format" | "include" | "showArchived" | "errors" | "source">

const mismatchOf = (
  cp: Fingerprint,
  current: Fingerprint
):
  | { readonly option: NonNullable<ResumeError["option"]>; readonly recorded?: string; readonly text: string }
  | undefined =>
  cp.format !== current.format
    ? { option: "format", recorded: cp.format, text: `format ${cp.format}` }
    : cp.include.join(",") !== current.include.join(",")
    ? { option: "include", recorded: cp.include.join(","), text: `the parts ${cp.include.join(",")}` }
    : cp.showArchived !== current.showArchived
    ? {
      option: "showArchived",
      recorded: String(cp.showArchived),
      text: cp.showArchived ? "archived orders shown" : "archived orders left out"
    }
    : cp.errors !== current.errors
    ? { option: "errors", recorded: cp.errors, text: `errors file ${cp.errors}` }
    : cp.source !== current.source
    ? cp.source === undefined
      ? { option: "source", text: "ids the caller gave" }
      : { option: "source", recorded: cp.source, text: cp.source }
    : undefined

/** Fails unless the checkpoint was written with the options of this run. */
export const checkOptions = (cp: Fingerprint, current: Fingerprint): Effect.Effect<void, ResumeError> => {
  const mismatch = mismatchOf(cp, current)
  return mismatch === undefined ? Effect.void : Effect.fail(
    new ResumeError({
      message: `cannot resume: the checkpoint was written with ${mismatch.text}`,
      reason: "OptionsDiffer",
      option: mismatch.option,
      ...(mismatch.recorded === undefined ? {} : { recorded: mismatch.recorded })
    })
  )
}

/** Fails unless each file holds at least the bytes the checkpoint records for it. */
export const checkSizes = (
  fs: FileSystem.FileSystem,
  files: ReadonlyArray<readonly [file: string, expected: number]>
): Effect.Effect<void, ResumeError> =>
  Effect.forEach(files, ([file, expected]) =>
    fs.stat(file).pipe(
      Effect.map((info) => Number(info.size)),
      Effect.orElseSucceed(() => -1),
      Effect.flatMap((actual) =>
        actual >= expected ? Effect.void : Effect.fail(
          new ResumeError({
            message: `cannot resume: ${file} ${
              actual < 0 ? "is missing" : `has ${actual} bytes, fewer than the ${expected} the checkpoint records`
            }`,
            reason: "FilesDiffer"
          })
        )
      )
    ), { discard: true })

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

/**
 * The digest of a file's committed prefix, which must be the checkpoint's (version 1 checkpoints have none: size
 * only). It goes on as the file's digest.
 */
export const verifyPrefix = (
  track: { readonly path: string; readonly file: FileSystem.File },
  bytes: number,
  expected: string | undefined
): Effect.Effect<Hash, OutputError | ResumeError> =>
  digestPrefix(track.file, bytes).pipe(
    Effect.mapError(fileError(track.path, "read")),
    Effect.flatMap((hash) =>
      Option.isSome(hash) && (expected === undefined || hash.value.copy().digest("hex") === expected)
        ? Effect.succeed(hash.value)
        : Effect.fail(
          new ResumeError({
            message: `cannot resume: ${track.path} is not the file the checkpoint was written for (its first ${
              plural(bytes, "byte differs", "bytes differ")
            })`,
            reason: "FilesDiffer"
          })
        )
    )
  )
