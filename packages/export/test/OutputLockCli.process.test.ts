/**
 * The output lock through the CLI: a second run on a running export's `--output` (files or a listing) exits 2 with
 * one line naming the holder and changes nothing, the first's files those of a run alone; SIGKILL leaves a stale lock
 * that `--resume` takes over, to files identical to an uninterrupted run; SIGINT releases the lock; and so do exits
 * 1, 3 and 4 (those, the references and the resume in this process, `Cli.runInProcess`, which runs the same code
 * without a process's start-up). A run that must be under way is kept so by holding the testkit server's answers
 * (`TestServer.Handle.hold`) until the test releases them: no slow server, no race with the run's end.
 */
import { Faults, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ensureBuilt } from "./support/built.js"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"
import * as Secrets from "./support/secrets.js"

// the built bin is what these tests start: bring dist/ up to date first, within the hook's timeout
beforeAll(() => ensureBuilt(), 120_000)

// 180 requests a run; the held runs get 60 or 90 answers (20 or 30 orders) before the hold
const ids = Array.from({ length: 60 }, (_, i) => 60_000 + i * 17)

let server: TestServer.Handle
let dir: string
let orders: string
/** An export of `orders` run alone, uninterrupted: what every export of these tests must end with. */
let reference: string

// the server has no limits, so neither has the client: an export runs at full speed, and where a test needs one under
// way, the server's answers are held (`hold`) for exactly as long as the test needs
const args = (output: string, ...more: Array<string>) => [
  "--orders",
  orders,
  "--output",
  output,
  "--concurrency",
  "2",
  "--rate-limit",
  "off",
  "--quiet",
  ...more
]

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-lock-"))
  orders = path.join(dir, "ids.txt")
  fs.writeFileSync(orders, ids.join("\n") + "\n")
  server = await TestServer.start({ rateLimit: "off", account: 300 })
  reference = path.join(dir, "alone.csv")
  const alone = await Cli.runInProcess(args(reference), Cli.envFor(server))
  expect(alone.code, alone.stderr).toBe(0)
})

afterAll(async () => {
  await server?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs `f` with the server's answers held after `afterRequests` more; released when `f` ends, however it ends. */
const holding = async <A>(afterRequests: number, f: () => Promise<A>): Promise<A> => {
  server.hold({ afterRequests })
  try {
    return await f()
  } finally {
    server.release()
  }
}
const lockOf = (output: string) => `${output}.lock`
const listing = (d: string) => fs.readdirSync(d).sort()
const lockLine =
  /^certcentral-export: \S+ is being written by another certcentral-export \(pid (\d+), since \d\d:\d\d:\d\d\); wait for it or pick another --output$/

describe("one export per output", () => {
  it("refuses a second run on a running export's output with exit 2 and one line, changing nothing", {
    timeout: 120_000
  }, async () => {
    const caseDir = fs.mkdtempSync(path.join(dir, "two-"))
    const output = path.join(caseDir, "out.csv")
    const other = path.join(caseDir, "other-ids.txt")
    fs.writeFileSync(other, "1\n2\n3\n")
    // the first export gets 90 answers (some 30 orders), then waits for the rest until the release: it is surely
    // under way, holding the lock, while the second runs start
    const first = await holding(90, async () => {
      const first = Cli.start(args(output), Cli.envFor(server))
      await Cli.waitForSize(output, 2000, 60_000, first)
      const lock = fs.readFileSync(lockOf(output), "utf8")
      // three second runs side by side, each refused on its own
      const seconds = [["--orders", other], ["--orders", other, "--resume"], ["--orders-from", "account"]]
      const results = await Promise.all(
        seconds.map((second) => Cli.run(["--output", output, ...second], Cli.envFor(server)))
      )
      for (const result of results) {
        expect(result.code, result.stderr).toBe(2)
        const lines = result.stderr.split("\n").filter((line) => line !== "")
        expect(lines).toHaveLength(1)
        expect(Number(lockLine.exec(lines[0]!)?.[1])).toBe(first.child.pid)
      }
      // the listing's ids file was neither removed nor written
      expect(fs.existsSync(`${output}.orders.txt`)).toBe(false)
      expect(fs.readFileSync(lockOf(output), "utf8")).toBe(lock)
      expect(first.child.exitCode).toBe(null)
      return first
    })
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
    const output = path.join(caseDir, "out.csv")
    // 60 answers (some 20 orders), then none: the kill lands mid-export
    const killed = await holding(60, async () => {
      const killed = Cli.start(args(output), Cli.envFor(server))
      await Cli.waitForCheckpoint(output, 10, 60_000)
      killed.child.kill("SIGKILL")
      expect((await killed.done).signal).toBe("SIGKILL")
      return killed
    })
    expect(JSON.parse(fs.readFileSync(lockOf(output), "utf8")).pid).toBe(killed.child.pid)

    // another process takes the stale lock over: this one (`Cli.run` in-process runs the same code)
    const resumed = await Cli.runInProcess(args(output, "--resume"), Cli.envFor(server))
    expect(resumed.code, resumed.stderr).toBe(0)
    expectSameBytes(output, reference)
    expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
    expect(listing(caseDir).filter((name) => name.includes(".lock"))).toEqual([])
  })

  it("releases the lock on SIGINT (exit 130)", { timeout: 120_000 }, async () => {
    const caseDir = fs.mkdtempSync(path.join(dir, "sigint-"))
    const output = path.join(caseDir, "out.csv")
    const result = await holding(90, async () => {
      const running = Cli.start(args(output), Cli.envFor(server))
      await Cli.waitForSize(output, 2000, 60_000, running)
      expect(fs.existsSync(lockOf(output))).toBe(true)
      running.child.kill("SIGINT")
      return running.done
    })
    expect(result.code, result.stderr).toBe(130)
    expect(listing(caseDir).filter((name) => name.includes(".lock"))).toEqual([])
  })

  it("releases the lock after exit 1, 3 and 4", { timeout: 120_000 }, async () => {
    const caseDir = fs.mkdtempSync(path.join(dir, "exits-"))
    const withBad = path.join(caseDir, "with-bad.txt")
    fs.writeFileSync(withBad, `${ids[0]}\nnot-an-id\n`)
    const one = path.join(caseDir, "one.csv")
    const exit1 = await Cli.runInProcess(["--orders", withBad, "--output", one, "--quiet"], Cli.envFor(server))
    expect(exit1.code, exit1.stderr).toBe(1)

    const wrongKey = "H3K9Q2M7VX4RT8WZ5YB1PLJ6CD0FGNES"
    Secrets.register(wrongKey)
    const three = path.join(caseDir, "three.csv")
    const exit3 = await Cli.runInProcess(args(three), { ...Cli.envFor(server), DIGICERT_API_KEY: wrongKey })
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
