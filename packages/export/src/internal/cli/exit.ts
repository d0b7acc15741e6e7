/** How a run ends: its exit code, and the error that carries it. */
import * as Schema from "effect/Schema"

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
