/**
 * A flaky and an unavailable API, through the CLI against the testkit: every order must come out exact (files equal
 * to a fault-free run's) when the API flakes or goes away for less than `--max-outage`, the client must wait an
 * outage out with a handful of requests per pause instead of hammering it, and an outage longer than `--max-outage`
 * must stop the export with exit 4, nothing in the errors file, and a checkpoint that `--resume` finishes to files
 * byte-identical to an uninterrupted run's.
 *
 * Times are the client's own (the circuit's pause starts near 1 s and doubles; the flags do not scale it), so the
 * outages last what the issue asks for: 20 s waited out, and 20 s against `--max-outage 5s`.
 */
import { Faults, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"

const ORDERS = 320
const ids = Array.from({ length: ORDERS }, (_, i) => 610_000 + i * 17)
const endpoints = ["subaccountOrder", "duplicates", "reissues"] as const

let clean: TestServer.Handle
let dir: string
let orders: string
let reference: string

const args = (output: string, ...more: ReadonlyArray<string>) => [
  "--orders",
  orders,
  "--output",
  output,
  "--rate-limit",
  "off",
  "--concurrency",
  "8",
  ...more
]

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-outage-"))
  orders = path.join(dir, "ids.txt")
  fs.writeFileSync(orders, ids.join("\n") + "\n")
  clean = await TestServer.start({ rateLimit: "off" })
  reference = path.join(dir, "reference.csv")
  const run = await Cli.runInProcess([...args(reference), "--quiet"], Cli.envFor(clean))
  expect(run.code, run.stderr).toBe(0)
}, 120_000)

afterAll(async () => {
  await clean?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const withServer = async <A>(options: TestServer.Options, f: (server: TestServer.Handle) => Promise<A>) => {
  const server = await TestServer.start({ rateLimit: "off", ...options })
  try {
    return await f(server)
  } finally {
    await server.close()
  }
}

const expectExact = (output: string) => {
  expectSameBytes(output, reference)
  expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
  expect(fs.readFileSync(`${output}.errors.ndjson`, "utf8")).toBe("")
}

/** Polls the server until it answers 200 again (its outage is over). */
const untilBack = async (server: TestServer.Handle) => {
  for (let i = 0; i < 2400; i++) {
    try {
      const response = await fetch(`${server.baseUrl}/order/certificate/${ids[0]}/duplicate`, {
        headers: { "X-DC-DEVKEY": server.apiKey, connection: "close" }
      })
      await response.arrayBuffer()
      if (response.status === 200) return
    } catch {
      // reset or refused: still down
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error("the outage never ended")
}

/** A seeded generator (mulberry32), so that the faults are the same on every run. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("a flaky or unavailable API", () => {
  it("exports every order exactly when 40% of first attempts fail transiently", { timeout: 240_000 }, async () => {
    const draw = random(13)
    // the first attempt of about 40% of (order, endpoint) pairs fails; every next attempt succeeds
    const kinds: ReadonlyArray<ReadonlyArray<Faults.Fault>> = [
      [Faults.serverError(503, { retryAfter: 1 })],
      Faults.times(2, Faults.serverError(500)),
      [Faults.serverError(502, { html: true })],
      [{ kind: "rateLimited" }],
      [Faults.resetBeforeBody],
      [Faults.resetDuringBody]
    ]
    const script: Array<Faults.ScriptEntry> = []
    for (const orderId of ids) {
      for (const endpoint of endpoints) {
        if (draw() < 0.4) script.push({ orderId, endpoint, faults: kinds[Math.floor(draw() * kinds.length)]! })
      }
    }
    await withServer({ script }, async (server) => {
      const output = path.join(dir, "flaky.csv")
      const started = Date.now()
      const result = await Cli.run(args(output), Cli.envFor(server))
      const stats = server.stats()
      console.log(
        `flaky figures: ${
          JSON.stringify({
            scripted: script.length,
            byStatus: stats.byStatus,
            requests: stats.requests,
            ms: Date.now() - started
          })
        }`
      )
      expect(result.code, result.stderr.slice(-2000)).toBe(0)
      expectExact(output)
      // every scripted fault was served (a request each, the 500s twice), then the second try went through
      const scriptedRequests = script.reduce((n, entry) => n + entry.faults.length, 0)
      expect(stats.requests).toBe(ORDERS * 3 + scriptedRequests)
    })
  })

  it("waits a 20 s outage out (503, then resets) with a handful of requests per pause", {
    timeout: 240_000
  }, async () => {
    const outage: Faults.Outage = {
      start: { atRequest: 300 },
      phases: [{ durationMs: 10_000, answer: { kind: "unavailable" } }, {
        durationMs: 10_000,
        answer: { kind: "reset" }
      }]
    }
    await withServer({ outages: [outage] }, async (server) => {
      const output = path.join(dir, "outage.csv")
      const result = await Cli.run(args(output), Cli.envFor(server))
      const stats = server.stats()
      console.log(
        `outage figures: ${
          JSON.stringify({ outage: stats.outage, byStatus: stats.byStatus, requests: stats.requests })
        }`
      )
      expect(result.code, result.stderr.slice(-2000)).toBe(0)
      expectExact(output)
      // the summary counts the outage and the warnings say when the circuit opened and closed
      expect(result.stderr).toMatch(/1 outage \(API unavailable for \d+s in all\)/)
      expect(result.stderr).toMatch(/warning: CertCentral API unavailable/)
      expect(result.stderr).toMatch(/warning: CertCentral API available again/)
      // the requests in flight when it began and their retries until the circuit opened (at most 8 orders x 3
      // endpoints, twice), then one probe per pause (1, 2, 4, 8 s ...: about 5 in 20 s): never 30 requests a second
      expect(stats.outage).toBeGreaterThan(0)
      expect(stats.outage).toBeLessThanOrEqual(60)
    })
  })

  it("stops with exit 4 past --max-outage, nothing failed, and --resume finishes to identical files", {
    timeout: 240_000
  }, async () => {
    const outage = Faults.outage({ atRequest: 400 }, 20_000, { kind: "unavailable" })
    await withServer({ outages: [outage] }, async (server) => {
      const output = path.join(dir, "stopped.csv")
      const stopped = await Cli.run(args(output, "--max-outage", "5s"), Cli.envFor(server))
      expect(stopped.code, stopped.stderr.slice(-2000)).toBe(4)
      const lines = stopped.stderr.split("\n").filter((line) => line.trim() !== "")
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^certcentral-export: the DigiCert API has been unavailable for \\d+s \\(last: 503 service_unavailable\\); ` +
            `\\d+ of ${ORDERS} orders done; run the same command with --resume to continue$`
        )
      )
      expect(stopped.stderr).not.toMatch(/\n\s+at /)
      // nothing was written as failed: the orders the outage met wait for the resume
      expect(fs.readFileSync(`${output}.errors.ndjson`, "utf8")).toBe("")
      const done = Number(/; (\d+) of/.exec(lines.at(-1)!)![1])
      expect(done).toBeGreaterThan(0)
      expect(done).toBeLessThan(ORDERS)
      const checkpoint = JSON.parse(fs.readFileSync(`${output}.checkpoint.json`, "utf8"))
      expect(checkpoint.entries).toBe(done)
      expect(checkpoint.complete).toBe(false)

      await untilBack(server)
      const resumed = await Cli.run(args(output, "--max-outage", "5s", "--resume", "--quiet"), Cli.envFor(server))
      expect(resumed.code, resumed.stderr).toBe(0)
      expectExact(output)
    })
  })
})
