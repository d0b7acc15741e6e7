/**
 * SIGTERM to the built bin, in a real process: that the bin turns SIGTERM into an interruption (130, files synced) is
 * the runtime's signal handling, which no in-process run goes through (the in-process matrix is `Interrupt.test.ts`).
 */
import { OrderScript, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ensureBuilt } from "./support/built.js"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"
import * as Interrupt from "./support/interrupt.js"

// the built bin is what these tests start: bring dist/ up to date first, within the hook's timeout
beforeAll(() => ensureBuilt(), 120_000)

const NOT_FOUND = 888001
// the signal lands within the first half (the server holds its answers after the first 30), the error lines after it
const ids = Array.from({ length: 60 }, (_, i) => 40_000 + i * 11)
const input = [...ids.slice(0, 30), NOT_FOUND, "not-an-id", ...ids.slice(30)].join("\n") + "\n"
const apiOptions = { rateLimit: "off" as const, orders: { [NOT_FOUND]: OrderScript.notFound } }

let dir: string
let orders: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-sigterm-"))
  orders = path.join(dir, "ids.txt")
  fs.writeFileSync(orders, input)
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const args = (output: string) => ["--orders", orders, "--output", output, "--concurrency", "2", "--rate-limit", "off"]
const size = Interrupt.sizeOf

describe("SIGTERM to the built bin", () => {
  let server: TestServer.Handle

  beforeAll(async () => {
    server = await TestServer.start(apiOptions)
  })

  afterAll(async () => {
    await server?.close()
  })

  it("exits 130 with complete rows and a checkpoint that --resume finishes to identical files", async () => {
    const reference = path.join(dir, "sigterm-reference.csv")
    const referenceRun = await Cli.runInProcess(args(reference), Cli.envFor(server))
    expect(referenceRun.code, referenceRun.stderr).toBe(1)
    const output = path.join(dir, "sigterm.csv")
    // 30 answers (some 10 orders), then none until the signal has landed: it surely lands mid-export, before the errors
    server.hold({ afterRequests: 30 })
    let result: Cli.Run
    try {
      const running = Cli.start(args(output), Cli.envFor(server))
      await Cli.waitForCheckpoint(output, 3, 60_000)
      running.child.kill("SIGTERM")
      result = await running.done
    } finally {
      server.release()
    }
    expect(result.code, result.stderr).toBe(130)
    expect(result.stderr).toContain("--resume")
    expect(fs.readFileSync(output, "utf8").endsWith("\r\n")).toBe(true)
    expect(size(output)).toBeLessThan(size(reference))
    expect(fs.existsSync(`${output}.checkpoint.json`)).toBe(true)
    const finished = await Cli.runInProcess([...args(output), "--resume"], Cli.envFor(server))
    expect(finished.code, finished.stderr).toBe(1)
    expectSameBytes(output, reference)
    expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
  }, 120_000)
})
