/**
 * The output lock through the CLI: a second run on a running export's `--output` (files or a listing) exits 2 with
 * one line naming the holder and changes nothing, the first's files those of a run alone; SIGKILL leaves a stale lock
 * that `--resume` takes over, to files identical to an uninterrupted run; SIGINT releases the lock; and so do exits
 * 1, 3 and 4 (those in this process, `Cli.run`, which runs the same code without a process's start-up).
 */
import { Faults, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"
import * as Secrets from "./support/secrets.js"

const ids = Array.from({ length: 120 }, (_, i) => 60_000 + i * 17)

let fast: TestServer.Handle
let slow: TestServer.Handle
let dir: string
let orders: string

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-lock-"))
  orders = path.join(dir, "ids.txt")
  fs.writeFileSync(orders, ids.join("\n") + "\n")
  fast = await TestServer.start({ rateLimit: "off", account: 300 })
  // answers take 50 ms (plus or minus 25): with two orders in flight a run lasts a few seconds
  slow = await TestServer.start({ rateLimit: "off", account: 300, latency: { meanMs: 50, jitterMs: 25 } })
})

afterAll(async () => {
  await fast?.close()
  await slow?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const args = (output: string, ...more: Array<string>) => [
  "--orders",
  orders,
  "--output",
  output,
  "--concurrency",
  "2",
  "--quiet",
  ...more
]
const lockOf = (output: string) => `${output}.lock`
const listing = (d: string) => fs.readdirSync(d).sort()
const lockLine =
  /^certcentral-export: \S+ is being written by another certcentral-export \(pid (\d+), since \d\d:\d\d:\d\d\); wait for it or pick another --output$/

describe("one export per output", () => {
  it("refuses a second run on a running export's output with exit 2 and one line, changing nothing", {
    timeout: 120_000
  }, async () => {
    const caseDir = fs.mkdtempSync(path.join(dir, "two-"))
    const reference = path.join(caseDir, "alone.csv")
    expect((await Cli.runInProcess(args(reference), Cli.envFor(fast))).code).toBe(0)

    const output = path.join(caseDir, "out.csv")
    const first = Cli.start(args(output), Cli.envFor(slow))
    await Cli.waitForSize(output, 2000, 60_000, first)
    const lock = fs.readFileSync(lockOf(output), "utf8")
    const other = path.join(caseDir, "other-ids.txt")
    fs.writeFileSync(other, "1\n2\n3\n")
    for (const second of [["--orders", other], ["--orders", other, "--resume"], ["--orders-from", "account"]]) {
      const result = await Cli.run(["--output", output, ...second], Cli.envFor(slow))
      expect(result.code, result.stderr).toBe(2)
      const lines = result.stderr.split("\n").filter((line) => line !== "")
      expect(lines).toHaveLength(1)
      expect(Number(lockLine.exec(lines[0]!)?.[1])).toBe(first.child.pid)
      // the listing's ids file was neither removed nor written
      expect(fs.existsSync(`${output}.orders.txt`)).toBe(false)
      expect(fs.readFileSync(lockOf(output), "utf8")).toBe(lock)
    }
    const done = await first.done
    expect(done.code, done.stderr).toBe(0)
    expectSameBytes(output, reference)
    expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
    expect(listing(caseDir).filter((name) => name.includes(".lock"))).toEqual([])
  })

  it("takes over the lock a SIGKILL left, and --resume finishes to an uninterrupted run's bytes", {
    timeout: 120_000
  }, async () => {
    const caseDir = fs.mkdtempSync(path.join(dir, "kill-"))
    const reference = path.join(caseDir, "alone.csv")
    expect((await Cli.runInProcess(args(reference), Cli.envFor(fast))).code).toBe(0)
    const output = path.join(caseDir, "out.csv")
    const killed = Cli.start(args(output), Cli.envFor(slow))
    await Cli.waitForCheckpoint(output, 10, 60_000)
    killed.child.kill("SIGKILL")
    expect((await killed.done).signal).toBe("SIGKILL")
    expect(JSON.parse(fs.readFileSync(lockOf(output), "utf8")).pid).toBe(killed.child.pid)

    const resumed = await Cli.run(args(output, "--resume"), Cli.envFor(fast))
    expect(resumed.code, resumed.stderr).toBe(0)
    expectSameBytes(output, reference)
    expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
    expect(listing(caseDir).filter((name) => name.includes(".lock"))).toEqual([])
  })

  it("releases the lock on SIGINT (exit 130)", { timeout: 120_000 }, async () => {
    const caseDir = fs.mkdtempSync(path.join(dir, "sigint-"))
    const output = path.join(caseDir, "out.csv")
    const running = Cli.start(args(output), Cli.envFor(slow))
    await Cli.waitForSize(output, 2000, 60_000, running)
    expect(fs.existsSync(lockOf(output))).toBe(true)
    running.child.kill("SIGINT")
    const result = await running.done
    expect(result.code, result.stderr).toBe(130)
    expect(listing(caseDir).filter((name) => name.includes(".lock"))).toEqual([])
  })

  it("releases the lock after exit 1, 3 and 4", { timeout: 120_000 }, async () => {
    const caseDir = fs.mkdtempSync(path.join(dir, "exits-"))
    const withBad = path.join(caseDir, "with-bad.txt")
    fs.writeFileSync(withBad, `${ids[0]}\nnot-an-id\n`)
    const one = path.join(caseDir, "one.csv")
    const exit1 = await Cli.runInProcess(["--orders", withBad, "--output", one, "--quiet"], Cli.envFor(fast))
    expect(exit1.code, exit1.stderr).toBe(1)

    const wrongKey = "H3K9Q2M7VX4RT8WZ5YB1PLJ6CD0FGNES"
    Secrets.register(wrongKey)
    const three = path.join(caseDir, "three.csv")
    const exit3 = await Cli.runInProcess(args(three), { ...Cli.envFor(fast), DIGICERT_API_KEY: wrongKey })
    expect(exit3.code, exit3.stderr).toBe(3)

    const down = await TestServer.start({
      rateLimit: "off",
      outages: [Faults.outage({ atRequest: 1 }, 60_000, { kind: "unavailable" })]
    })
    try {
      const four = path.join(caseDir, "four.csv")
      const exit4 = await Cli.runInProcess(args(four, "--max-outage", "0"), Cli.envFor(down))
      expect(exit4.code, exit4.stderr).toBe(4)
    } finally {
      await down.close()
    }
    expect(listing(caseDir).filter((name) => name.includes(".lock"))).toEqual([])
    expect(listing(caseDir)).toContain("four.csv.checkpoint.json")
  })
})
