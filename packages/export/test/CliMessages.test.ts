import { describe, expect, it } from "@effect/vitest"
import { OutputError, ResumeError } from "../src/ExportError.js"
import { ExitCode, outputRefused, resumeRefused } from "../src/internal/cli/exit.js"

// The library's errors say what failed; the CLI's one line adds the flag to change (exit 2).
describe("the CLI's words for the library's refusals", () => {
  it("adds to a refused resume what to run, naming the flags", () => {
    const cases: ReadonlyArray<readonly [ResumeError, string]> = [
      [
        new ResumeError({ message: "cannot resume: out.csv exists but has no checkpoint", reason: "NoCheckpoint" }),
        "cannot resume: out.csv exists but has no checkpoint; run without --resume to start over"
      ],
      [
        new ResumeError({ message: "cannot resume: out.csv is missing", reason: "FilesDiffer" }),
        "cannot resume: out.csv is missing; start over without --resume"
      ],
      [
        new ResumeError({ message: "cannot resume: the input differs (its first 3 entries)", reason: "InputDiffers" }),
        "cannot resume: the input differs (its first 3 entries); use the same --orders or start over"
      ],
      [
        new ResumeError({
          message: "cannot resume: the checkpoint was written with the parts order",
          reason: "OptionsDiffer",
          option: "include",
          recorded: "order"
        }),
        "cannot resume: the checkpoint was written with --include order; use the same options or start over"
      ],
      [
        new ResumeError({ message: "x", reason: "OptionsDiffer", option: "showArchived", recorded: "false" }),
        "cannot resume: the checkpoint was written with no --show-archived; use the same options or start over"
      ],
      [
        new ResumeError({ message: "x", reason: "OptionsDiffer", option: "source" }),
        "cannot resume: the checkpoint was written with ids given with --orders; use the same options or start over"
      ],
      [
        new ResumeError({
          message: "cannot resume: the checkpoint was written with format csv",
          reason: "OptionsDiffer",
          option: "format",
          recorded: "csv"
        }),
        "cannot resume: the checkpoint was written with format csv; use the same options or start over"
      ],
      // an error without a reason (from elsewhere) keeps its own words
      [new ResumeError({ message: "cannot resume: something else" }), "cannot resume: something else"]
    ]
    for (const [error, line] of cases) {
      expect(resumeRefused(error)).toMatchObject({ code: ExitCode.usage, message: line })
    }
  })

  it("adds to an output the directory refuses which flags choose another", () => {
    const missing = new OutputError({
      path: "/no",
      message: "the directory /no does not exist",
      reason: "DirectoryMissing"
    })
    expect(outputRefused(missing)).toMatchObject({
      code: ExitCode.usage,
      message: "the directory /no does not exist; create it or choose another --output (and --errors)"
    })
    const readOnly = new OutputError({
      path: "/ro",
      message: "cannot write to the directory /ro: EACCES",
      reason: "DirectoryUnwritable"
    })
    expect(outputRefused(readOnly).message).toBe(
      "cannot write to the directory /ro: EACCES; choose a writable --output (and --errors)"
    )
    const other = new OutputError({ path: "/f", message: "cannot write /f: ENOSPC" })
    expect(outputRefused(other).message).toBe("cannot write /f: ENOSPC")
  })
})
