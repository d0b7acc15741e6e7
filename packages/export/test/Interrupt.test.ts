/**
 * The interruption matrix: SIGINT, SIGTERM and SIGKILL, early and midway, in CSV and NDJSON, with `--resume` once and
 * twice in a row (the resumed run interrupted too). Each chain must end with output and errors files byte-identical to
 * an uninterrupted run's. Signals are sent once the output has grown past a point, never after a blind sleep; the
 * chains run concurrently, each in its own directory. The runs that get a signal are real processes; the references
 * and the last, finishing `--resume` of each chain run in this process (`Cli.run`), which saves seconds of start-up
 * CPU each.
 */
import { OrderScript, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"

const NOT_FOUND = 888001
const ids = Array.from({ length: 200 }, (_, i) => 40_000 + i * 11)
const input = [...ids.slice(0, 100), NOT_FOUND, "not-an-id", ...ids.slice(100)].join("\n") + "\n"
const serverOptions = { rateLimit: "off" as const, orders: { [NOT_FOUND]: OrderScript.notFound } }

let fast: TestServer.Handle
let slow: TestServer.Handle
let dir: string

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-interrupt-"))
  fast = await TestServer.start(serverOptions)
  // answers take 50 ms (plus or minus 25): with two orders in flight a run lasts several seconds
  slow = await TestServer.start({ ...serverOptions, latency: { meanMs: 50, jitterMs: 25 } })
})

afterAll(async () => {
  await fast?.close()
  await slow?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

type Signal = "SIGINT" | "SIGTERM" | "SIGKILL"
type Point = "early" | "mid"
type Format = "csv" | "ndjson"

interface Chain {
  readonly format: Format
  /** One interruption per run; every run after the first is a `--resume`. A last `--resume` then finishes. */
  readonly interruptions: ReadonlyArray<readonly [Signal, Point]>
}

const chains: ReadonlyArray<Chain> = [
  { format: "csv", interruptions: [["SIGINT", "early"], ["SIGKILL", "mid"]] },
  { format: "ndjson", interruptions: [["SIGTERM", "early"], ["SIGINT", "mid"]] },
  { format: "csv", interruptions: [["SIGKILL", "early"], ["SIGTERM", "mid"]] },
  { format: "ndjson", interruptions: [["SIGKILL", "mid"]] }
]

const size = (file: string) => fs.existsSync(file) ? fs.statSync(file).size : 0

describe("interruption matrix", () => {
  it("resumes after every signal, at every point, once or twice, to files identical to an uninterrupted run", {
    timeout: 240_000
  }, async () => {
    const orders = path.join(dir, "ids.txt")
    fs.writeFileSync(orders, input)
    const args = (output: string) => ["--orders", orders, "--output", output, "--concurrency", "2"]
    const reference = (format: Format) => path.join(dir, `reference.${format}`)
    const references = await Promise.all(
      (["csv", "ndjson"] as const).map((format) => Cli.runInProcess(args(reference(format)), Cli.envFor(fast)))
    )
    for (const result of references) expect(result.code, result.stderr).toBe(1)

    const log: Array<string> = []
    await Promise.all(chains.map(async (chain, c) => {
      const caseDir = fs.mkdtempSync(path.join(dir, `chain-${c}-`))
      const output = path.join(caseDir, `out.${chain.format}`)
      const total = size(reference(chain.format))
      for (const [step, [signal, point]] of chain.interruptions.entries()) {
        const label = `chain ${c} (${chain.format}) step ${step}: ${signal} ${point}`
        const before = size(output)
        const running = Cli.start([...args(output), ...(step > 0 ? ["--resume"] : [])], Cli.envFor(slow))
        // early: past the header and a few rows; mid: past half of the final output (and past where it was)
        const threshold = point === "early"
          ? Math.max(before, 0) + Math.floor(total * 0.05)
          : Math.max(before + Math.floor(total * 0.1), Math.floor(total * 0.5))
        await Cli.waitForSize(output, threshold, 120_000, running)
        running.child.kill(signal)
        const result = await running.done
        log.push(`${label}: ${before} -> ${size(output)} of ${total} bytes`)
        if (signal === "SIGKILL") {
          expect(result.signal, label).toBe("SIGKILL")
        } else {
          expect(result.code, `${label}: ${result.stderr}`).toBe(130)
          expect(result.stderr, label).toContain("--resume")
          // a clean stop leaves complete rows only
          expect(fs.readFileSync(output, "utf8").endsWith(chain.format === "csv" ? "\r\n" : "\n"), label).toBe(true)
        }
        expect(size(output), label).toBeLessThan(total)
        expect(fs.existsSync(`${output}.checkpoint.json`), label).toBe(true)
      }
      const finished = await Cli.runInProcess([...args(output), "--resume"], Cli.envFor(fast))
      expect(finished.code, finished.stderr).toBe(1)
      expectSameBytes(output, reference(chain.format))
      expectSameBytes(`${output}.errors.ndjson`, `${reference(chain.format)}.errors.ndjson`)
    }))
    console.log(`interruptions:\n${log.join("\n")}`)
  })
})
