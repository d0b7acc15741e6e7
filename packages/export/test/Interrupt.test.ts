/**
 * The interruption matrix: interrupted (as by SIGINT or SIGTERM) and killed (as by SIGKILL), early and midway, in CSV
 * and NDJSON, with `--resume` once and twice in a row (the resumed run interrupted too). Each chain must end with
 * output and errors files byte-identical to an uninterrupted run's. The runs are in this process against the
 * in-memory stand-in on the test clock (answers take 50 ms, plus or minus 25, of that clock); the interruption comes
 * once the output has grown past a point. A kill leaves the files as they were at that point (`support/interrupt.ts`).
 *
 * What only a process shows stays real: SIGTERM to the built bin is 130 with a checkpoint to resume from
 * (`Interrupt.process.test.ts`); SIGINT -> 130 and SIGKILL then `--resume` are in `CliProcess.process.test.ts`.
 */
import { OrderScript } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"
import * as Interrupt from "./support/interrupt.js"
import * as StandInRun from "./support/standIn.js"

const NOT_FOUND = 888001
// 100 orders at 2 in flight and 50 ms an answer: an uninterrupted run takes 4 s of the test clock, its checkpoint
// committed every second; the early stops come 0.3 s into a run, the midway ones 1.5 to 1.7 s
const ids = Array.from({ length: 100 }, (_, i) => 40_000 + i * 11)
const input = [...ids.slice(0, 50), NOT_FOUND, "not-an-id", ...ids.slice(50)].join("\n") + "\n"
const apiOptions = { rateLimit: "off" as const, orders: { [NOT_FOUND]: OrderScript.notFound } }

let dir: string
let orders: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-interrupt-"))
  orders = path.join(dir, "ids.txt")
  fs.writeFileSync(orders, input)
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

// without the client's own rate limiter (the API has none here): its waits would be TestClock wake-ups, each costing
// real time, and add nothing to what is tested; the answers' latency is what keeps the runs going on the clock
const args = (output: string) => ["--orders", orders, "--output", output, "--concurrency", "2", "--rate-limit", "off"]
const size = Interrupt.sizeOf

/** How a run is stopped: `interrupt` as SIGINT and SIGTERM do (exit 130, files synced), `kill` as SIGKILL does. */
type Stop = "interrupt" | "kill"
type Point = "early" | "mid"
type Format = "csv" | "ndjson"

interface Chain {
  readonly format: Format
  /** One stop per run; every run after the first is a `--resume`. A last `--resume` then finishes. */
  readonly stops: ReadonlyArray<readonly [Stop, Point]>
}

const chains: ReadonlyArray<Chain> = [
  { format: "csv", stops: [["interrupt", "early"], ["kill", "mid"]] },
  { format: "ndjson", stops: [["interrupt", "early"], ["interrupt", "mid"]] },
  { format: "csv", stops: [["kill", "early"], ["interrupt", "mid"]] },
  { format: "ndjson", stops: [["kill", "mid"]] }
]

/** An uninterrupted run's files, made once per format (by the first chain that needs them). */
const references = new Map<Format, string>()
const referenceOf = (format: Format) =>
  Effect.gen(function*() {
    const known = references.get(format)
    if (known !== undefined) return known
    const reference = path.join(dir, `reference.${format}`)
    const result = yield* StandInRun.run(yield* StandInRun.api(apiOptions), args(reference))
    expect(result.exitCode, result.stderrText).toBe(1)
    references.set(format, reference)
    return reference
  })

describe("interruption matrix, in this process on the test clock", () => {
  for (const [c, chain] of chains.entries()) {
    const steps = chain.stops.map(([stop, point]) => `${stop} ${point}`).join(", then ")
    it.effect(
      `${chain.format}: ${steps}, then --resume ends identical to an uninterrupted run`,
      () =>
        Effect.gen(function*() {
          const reference = yield* referenceOf(chain.format)
          const total = size(reference)
          const caseDir = fs.mkdtempSync(path.join(dir, `chain-${c}-`))
          const output = path.join(caseDir, `out.${chain.format}`)
          const slow = yield* StandInRun.api({ ...apiOptions, latency: { meanMs: 50, jitterMs: 25 } })
          for (const [step, [stop, point]] of chain.stops.entries()) {
            const label = `step ${step}: ${stop} ${point}`
            const before = size(output)
            const runArgs = [...args(output), ...(step > 0 ? ["--resume"] : [])]
            // early: past the header and a few rows; mid: past half of the final output (and past where it was)
            const threshold = point === "early"
              ? before + Math.floor(total * 0.05)
              : Math.max(before + Math.floor(total * 0.1), Math.floor(total * 0.5))
            if (stop === "kill") {
              // killed while rows past the checkpoint are on disk: the resume must drop them and write them again
              const kill = Interrupt.kill(
                Interrupt.until(() => size(output) > threshold && Interrupt.aheadOfCheckpoint(output)),
                Cli.filesOf(runArgs)
              )
              const result = yield* StandInRun.run(slow, runArgs, { interruptWhen: kill.interruptWhen })
              expect(result.exitCode, `${label}: ${result.stderrText}`).toBe(130)
              yield* kill.restore
              expect(Interrupt.aheadOfCheckpoint(output), label).toBe(true)
            } else {
              const reached = Interrupt.until(() => size(output) > threshold)
              const result = yield* StandInRun.run(slow, runArgs, { interruptWhen: reached })
              expect(result.exitCode, `${label}: ${result.stderrText}`).toBe(130)
              expect(result.stderrText, label).toContain("--resume")
              // a clean stop leaves complete rows only
              expect(fs.readFileSync(output, "utf8").endsWith(chain.format === "csv" ? "\r\n" : "\n"), label).toBe(true)
            }
            expect(size(output), label).toBeGreaterThan(threshold)
            expect(size(output), label).toBeLessThan(total)
            expect(fs.existsSync(`${output}.checkpoint.json`), label).toBe(true)
          }
          const finished = yield* StandInRun.run(yield* StandInRun.api(apiOptions), [...args(output), "--resume"])
          expect(finished.exitCode, finished.stderrText).toBe(1)
          expectSameBytes(output, reference)
          expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
        }),
      180_000
    )
  }
})
