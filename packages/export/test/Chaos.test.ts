/**
 * The chaos run: a couple of thousand orders through the CLI against a testkit server that mixes every retriable
 * fault in by probability (seeded), adds 429 storms and latency jitter, and limits requests over rolling windows (the
 * CLI keeps to the same scaled windows). The files must be byte-identical to a fault-free run's, and the retries and
 * 429s the CLI reports must match what the server served.
 *
 * Sizing: the CLI offers no way to shorten the client's retry backoff (500 ms doubling, jittered; `Retry-After: 1` on
 * half the 5xx) or the client-wide pause after each 429 (at least 500 ms), so the fault rates are a few percent and the
 * 429s a few dozen; at those rates the run is bounded by request throughput, not by waiting.
 */
import { Faults, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"

const ORDERS = 2000
const ids = Array.from({ length: ORDERS }, (_, i) => 300_000 + i * 7)
// scaled rolling windows, on both sides: the client keeps to them, the server enforces them
const windows = [{ limit: 100, windowMs: 250 }, { limit: 2400, windowMs: 6_000 }]
// requests a loaded machine may lose in transit on the loopback (retried like any transport failure)
const TRANSIT_SLACK = 5
const STORM = 3
const rateLimitFlag = "100/250ms,2400/6s"

const faults: Faults.Probabilities = {
  seed: 20261123,
  serverError: 0.012, // 500/502/503/504, half with Retry-After: 1, a third with an HTML proxy page
  resetBeforeBody: 0.006,
  resetDuringBody: 0.006,
  rateLimited: 0.001,
  truncatedJson: 0, // a complete body that is not JSON is a decode error by contract, not retried: see below
  slowHeaders: 0.004,
  slowBody: 0.004,
  unknownFields: 0.01,
  slowMs: 300
}

let clean: TestServer.Handle
let chaos: TestServer.Handle
let dir: string

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-chaos-"))
  clean = await TestServer.start({ rateLimit: windows })
  chaos = await TestServer.start({
    rateLimit: windows,
    faults,
    latency: { meanMs: 3, jitterMs: 3 }
  })
})

afterAll(async () => {
  await clean?.close()
  await chaos?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const summaryOf = (stderr: string) => {
  const match = /(\d+) requests?, (\d+) retr(?:y|ies), (\d+) 429 responses?/.exec(stderr)
  if (match === null) throw new Error(`no summary in the CLI's stderr:\n${stderr}`)
  return { requests: Number(match[1]), retries: Number(match[2]), rateLimited: Number(match[3]) }
}

describe("chaos", () => {
  it("survives every retriable fault, 429 storms and rolling-window limits to files identical to a clean run", {
    timeout: 480_000
  }, async () => {
    const orders = path.join(dir, "ids.txt")
    fs.writeFileSync(orders, ids.join("\n") + "\n")
    const args = (output: string) => ["--orders", orders, "--output", output, "--rate-limit", rateLimitFlag]

    const t0 = Date.now()
    // the fault-free run and the chaos run side by side (each against its own server)
    const cleanOutput = path.join(dir, "clean.csv")
    const referenceRun = Cli.run([...args(cleanOutput), "--concurrency", "16"], Cli.envFor(clean))
    chaos.resetStats()
    const output = path.join(dir, "chaos.csv")
    const running = Cli.start([...args(output), "--concurrency", "16"], Cli.envFor(chaos))
    // three short 429 storms, a quarter, half and three quarters of the way (by requests the server saw); each 429
    // pauses the whole client, with a growing backoff while the storm lasts
    const expectedRequests = ids.length * 3
    let storms = 0
    const stormer = (async () => {
      for (const share of [0.25, 0.5, 0.75]) {
        while (chaos.stats().requests < expectedRequests * share) {
          if (running.child.exitCode !== null || running.child.signalCode !== null) return
          await new Promise((r) => setTimeout(r, 25))
        }
        chaos.rateLimitStorm({ requests: STORM })
        storms++
      }
    })()
    const [result, reference] = await Promise.all([running.done, referenceRun])
    await stormer
    const stats = chaos.stats()
    const t1 = Date.now()
    expect(reference.code, reference.stderr).toBe(0)
    // the fault-free run: one request per call and no 429; a request lost in transit on the loopback (seen once on
    // Node 24 in CI: one retry in 6,000 calls) is retried, counted, and never seen by the server
    const referenceSummary = summaryOf(reference.stderr)
    expect(referenceSummary.rateLimited).toBe(0)
    expect(referenceSummary.retries).toBeLessThanOrEqual(TRANSIT_SLACK)
    expect(referenceSummary.requests).toBe(ids.length * 3 + referenceSummary.retries)
    expect(clean.stats().requests).toBe(ids.length * 3)

    expect(result.code, result.stderr.slice(-2000)).toBe(0)
    expectSameBytes(output, cleanOutput)
    expectSameBytes(`${output}.errors.ndjson`, `${cleanOutput}.errors.ndjson`)
    expect(fs.readFileSync(`${output}.errors.ndjson`, "utf8")).toBe("")

    const injected = stats.faults
    const failuresServed = Object.entries(stats.byStatus)
      .filter(([status]) => status === "reset" || status === "429" || Number(status) >= 500)
      .reduce((sum, [, n]) => sum + n, 0)
    const reported = summaryOf(result.stderr)
    const figures = {
      injected,
      byStatus: stats.byStatus,
      storms,
      failuresServed,
      reported,
      peak: stats.peakConcurrency,
      ms: t1 - t0
    }
    console.log(`chaos figures: ${JSON.stringify(figures)}`)

    // every kind was injected
    for (
      const kind of ["serverError", "resetBeforeBody", "resetDuringBody", "rateLimited", "slowHeaders", "slowBody"]
    ) {
      expect(injected[kind as Faults.Kind] ?? 0, kind).toBeGreaterThan(0)
    }
    expect(storms).toBe(3)
    // the CLI saw and counted what the server served: every 429, and one retry per failure served (all succeeded);
    // any retry beyond those is a request lost in transit, which the server never saw (at most a handful)
    const lostInTransit = reported.retries - failuresServed
    expect(lostInTransit).toBeGreaterThanOrEqual(0)
    expect(lostInTransit).toBeLessThanOrEqual(TRANSIT_SLACK)
    expect(reported.requests).toBe(stats.requests + lostInTransit)
    expect(reported.requests).toBe(ids.length * 3 + reported.retries)
    expect(reported.rateLimited).toBe(stats.rateLimited)
    expect(reported.rateLimited).toBeGreaterThan(0)
    expect(reported.retries).toBeGreaterThan(0)
    // the limiter on the server never had to refuse: all 429s were injected ones or storms
    expect(stats.rateLimited).toBe((injected.rateLimited ?? 0) + STORM * storms)
  })
  it("turns a complete body cut short (truncated JSON) into a failed order in the errors file, never a partial row", {
    timeout: 120_000
  }, async () => {
    const few = ids.slice(0, 30)
    const hit = [few[3]!, few[17]!, few[29]!]
    const orders = path.join(dir, "few.txt")
    fs.writeFileSync(orders, few.join("\n") + "\n")
    const args = (output: string) => ["--orders", orders, "--output", output, "--rate-limit", "off", "--quiet"]
    const cleanOutput = path.join(dir, "few-clean.ndjson")
    expect((await Cli.runInProcess(args(cleanOutput), Cli.envFor(clean))).code).toBe(0)
    const endpoints = ["subaccountOrder", "duplicates", "reissues"] as const
    hit.forEach((orderId, i) => chaos.script({ orderId, endpoint: endpoints[i]!, faults: [Faults.truncatedJson] }))
    const output = path.join(dir, "few-truncated.ndjson")
    const result = await Cli.runInProcess(args(output), Cli.envFor(chaos))
    chaos.clearScript()
    expect(result.code, result.stderr).toBe(1)
    const lines = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((line) => line !== "")
    // the same rows, less those of the three orders, in the same order
    expect(lines(output)).toEqual(lines(cleanOutput).filter((line) => !hit.includes(JSON.parse(line).order_id)))
    const errors = lines(`${output}.errors.ndjson`).map((line) => JSON.parse(line))
    expect(errors.map((e) => [e.order_id, e.error])).toEqual(hit.map((id) => [id, "DecodeError"]))
  })
})
