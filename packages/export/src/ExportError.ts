/**
 * Errors of writing an export to files, apart from the client's own: a file that cannot be opened or written, and a
 * `--resume` that cannot continue safely.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * An output, errors or checkpoint file could not be opened, written or synced.
 *
 * @since 0.1.0
 * @category errors
 */
export class OutputError extends Schema.TaggedError<OutputError>()("OutputError", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * `--resume` found nothing it can safely continue: no checkpoint next to an existing output, a checkpoint written
 * with other options or another input, or files shorter than the checkpoint says.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResumeError extends Schema.TaggedError<ResumeError>()("ResumeError", {
  message: Schema.String
}) {}

/**
 * Either of the above.
 *
 * @since 0.1.0
 * @category errors
 */
export type ExportError = OutputError | ResumeError
