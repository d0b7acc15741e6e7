/** How a run ends: its exit code, and the error that carries it. */
import * as Schema from "effect/Schema"
import type { OutputError, ResumeError } from "../../ExportError.js"

/** The exit codes. */
export const ExitCode = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  authentication: 3,
  unavailable: 4,
  interrupted: 130
} as const

/**
 * How a run that is not a plain success ends: the process's exit code, after the one-line message (when there is
 * one) was written to stderr.
 */
export class ExitError extends Schema.TaggedError<ExitError>()("ExitError", {
  code: Schema.Int,
  message: Schema.optional(Schema.String)
}) {}

/** A usage or setup error: exit code 2, with its one line. */
export const usage = (message: string) => new ExitError({ code: ExitCode.usage, message })

// The library says what failed; the CLI adds what to do, in its flags' words.
const resumeAdvice = {
  NoCheckpoint: "run without --resume to start over",
  Unreadable: "run without --resume to start over",
  FilesDiffer: "start over without --resume",
  InputDiffers: "use the same --orders or start over",
  OptionsDiffer: "use the same options or start over"
} as const

// how the CLI spells the option a checkpoint was written with
const optionAsFlags = (error: ResumeError): string | undefined => {
  switch (error.option) {
    case "include":
      return `--include ${error.recorded}`
    case "showArchived":
      return error.recorded === "true" ? "--show-archived" : "no --show-archived"
    case "source":
      return error.recorded ?? "ids given with --orders"
    default:
      return undefined
  }
}

/** A resume refused: exit code 2, the library's words with the flag to change. */
export const resumeRefused = (error: ResumeError): ExitError => {
  const flags = optionAsFlags(error)
  const what = flags === undefined ? error.message : `cannot resume: the checkpoint was written with ${flags}`
  return usage(error.reason === undefined ? what : `${what}; ${resumeAdvice[error.reason]}`)
}

/** An output that cannot be written: exit code 2, naming the flags that choose another place. */
export const outputRefused = (error: OutputError): ExitError =>
  usage(
    error.reason === "DirectoryMissing"
      ? `${error.message}; create it or choose another --output (and --errors)`
      : error.reason === "DirectoryUnwritable"
      ? `${error.message}; choose a writable --output (and --errors)`
      : error.message
  )
