/**
 * Interrupting an in-process CLI run (`InProcess.run`'s `interruptWhen`) at a point of its progress, on the test
 * clock: {@link until} waits for a condition on the files or the stand-in, and {@link kill} leaves the files as a
 * SIGKILL at that point would (what was written by then, without the checkpoint the interruption's finalizer writes).
 * A real SIGKILL of the built bin is tested in `CliProcess.test.ts`.
 */
import * as Effect from "effect/Effect"
import * as fs from "node:fs"

/** The size of `file`, 0 while it does not exist. */
export const sizeOf = (file: string): number => fs.existsSync(file) ? fs.statSync(file).size : 0

/** The output bytes the checkpoint of `output` records as committed (0 while there is none). */
export const committedBytes = (output: string): number => {
  try {
    return JSON.parse(fs.readFileSync(`${output}.checkpoint.json`, "utf8")).outputBytes ?? 0
  } catch {
    return 0 // not written yet, or being replaced
  }
}

/** Whether `output` holds rows its checkpoint does not cover yet (what a kill then leaves for `--resume` to drop). */
export const aheadOfCheckpoint = (output: string): boolean => sizeOf(output) > committedBytes(output)

/**
 * Ends once `condition` holds, checking every 100 ms of the (test) clock: `StandInRun`'s step, since every wake-up of a
 * sleeper costs `TestClock` real time.
 */
export const until = (condition: () => boolean): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (!condition()) yield* Effect.sleep("100 millis")
  })

/** An emulated SIGKILL: pass `interruptWhen` to the run, then run `restore` once it has ended. */
export interface Kill {
  /** Waits for the point, then takes what each file holds at that instant (as a killed process leaves it). */
  readonly interruptWhen: Effect.Effect<void>
  /** Puts the files back as they were at the kill (and removes those that did not exist then). */
  readonly restore: Effect.Effect<void>
}

/** A SIGKILL of the run that writes `files` (see `Cli.filesOf`), once `when` ends. */
export const kill = (when: Effect.Effect<void>, files: ReadonlyArray<string>): Kill => {
  let taken: ReadonlyArray<readonly [string, Buffer | undefined]> | undefined
  return {
    interruptWhen: Effect.zipRight(
      when,
      Effect.sync(() => {
        taken = files.map((file) => [file, fs.existsSync(file) ? fs.readFileSync(file) : undefined] as const)
      })
    ),
    restore: Effect.suspend(() =>
      taken === undefined
        ? Effect.dieMessage("the run ended before the point of its kill")
        : Effect.sync(() => {
          for (const [file, bytes] of taken!) {
            if (bytes === undefined) fs.rmSync(file, { force: true })
            else fs.writeFileSync(file, bytes)
          }
        })
    )
  }
}
