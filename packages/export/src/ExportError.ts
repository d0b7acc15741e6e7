/**
 * Errors of writing an export to files, apart from the client's own: a file that cannot be opened or written, and a
 * resume that cannot continue safely. Messages say what failed; a caller words its own advice from `reason` (the CLI
 * names its flags).
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
  message: Schema.String,
  /** Set when the directory of a file is the trouble: it does not exist, or cannot be written. */
  reason: Schema.optional(Schema.Literal("DirectoryMissing", "DirectoryUnwritable"))
}) {}

/**
 * A resume found nothing it can safely continue: no checkpoint next to an existing output (`NoCheckpoint`), a
 * checkpoint that cannot be read (`Unreadable`), files missing, shorter than or different from what the checkpoint
 * records (`FilesDiffer`), another input (`InputDiffers`), or other options (`OptionsDiffer`, with the `option` and
 * the value it was `recorded` with; no `recorded` source: ids the caller gave).
 *
 * @since 0.1.0
 * @category errors
 */
export class ResumeError extends Schema.TaggedError<ResumeError>()("ResumeError", {
  message: Schema.String,
  reason: Schema.optional(
    Schema.Literal("NoCheckpoint", "Unreadable", "FilesDiffer", "InputDiffers", "OptionsDiffer")
  ),
  option: Schema.optional(Schema.Literal("format", "include", "showArchived", "errors", "source")),
  recorded: Schema.optional(Schema.String)
}) {}

/**
 * Either of the above.
 *
 * @since 0.1.0
 * @category errors
 */
export type ExportError = OutputError | ResumeError
