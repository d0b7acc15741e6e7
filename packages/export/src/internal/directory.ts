import { OutputError } from "../ExportError.js"
import { describe, isNotFound } from "./errno.js"

/** The error of a directory an export cannot write to: missing, or not writable. */
export const unwritable = (dir: string, e: unknown): OutputError =>
  new OutputError({
    path: dir,
    message: isNotFound(e)
      ? `the directory ${dir} does not exist`
      : `cannot write to the directory ${dir}: ${describe(e)}`,
    reason: isNotFound(e) ? "DirectoryMissing" : "DirectoryUnwritable"
  })
