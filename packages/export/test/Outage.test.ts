/**
 * A flaky and an unavailable API, through the CLI in this process against the testkit's in-memory stand-in, on
 * `TestClock`: every order must come out exact (files equal to a fault-free run's) when the API flakes or goes away
 * for less than `--max-outage`, the client must wait an outage out with a handful of requests per pause instead of
 * hammering it, and an outage longer than `--max-outage` must stop the export with exit 4, nothing in the errors
 * file, and a checkpoint that `--resume` finishes to files byte-identical to an uninterrupted run's.
 *
 * Times are the client's own (the circuit's pause starts near 1 s and doubles; the flags do not scale it), so the
 * outages last what the issue asks for: 20 s waited out, and 20 s against `--max-outage 5s`, both in virtual time
 * (the clock is moved between event-loop turns, see `support/standIn.ts`); the backoff and the pauses cost nothing.
 */
import { Faults } from "@certcentral/testkit"
import type * as StandIn from "@certcentral/testkit/StandIn"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, TestClock, TestContext } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expectSameBytes } from "./support/files.js"
import * as StandInRun from "./support/standIn.js"

// 480 requests: the outages below begin about a third of the way (150) and less than half way (200) through
const ORDERS = 160
const ids = Array.from({ length: ORDERS }, (_, i) => 610_000 + i * 17)
const endpoints = ["subaccountOrder", "duplicates", "reissues"] as const

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

const api = (options: StandIn.Options) => StandInRun.api({ rateLimit: "off", ...options })

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-outage-"))
  orders = path.join(dir, "ids.txt")
  fs.writeFileSync(orders, ids.join("\n") + "\n")
  reference = path.join(dir, "reference.csv")
  const run = await Effect.runPromise(
    Effect.flatMap(api({}), (clean) => StandInRun.run(clean, [...args(reference), "--quiet"])).pipe(
      Effect.provide(TestContext.TestContext)
    )
  )
  expect(run.exitCode, run.stderrText).toBe(0)
}, 120_000)

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const expectExact = (output: string) => {
  expectSameBytes(output, reference)
  expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
  expect(fs.readFileSync(`${output}.errors.ndjson`, "utf8")).toBe("")
}

/** Moves the clock a second at a time until the stand-in answers 200 again (its outage is over). */
const untilBack = (standIn: StandIn.InMemory) =>
  Effect.gen(function*() {
    for (let i = 0; i < 120; i++) {
      const status = yield* standIn.client.get(`${standIn.baseUrl}/order/certificate/${ids[0]}/duplicate`, {
        headers: { "x-dc-devkey": standIn.apiKey }
      }).pipe(
        Effect.flatMap((response) => Effect.as(response.text, response.status)),
        Effect.orElseSucceed(() => 0)
      )
      if (status === 200) return
      yield* TestClock.adjust("1 second")
    }
    throw new Error("the outage never ended")
  })

/** A seeded generator (mulberry32), so that the faults are the same on every run. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("a flaky or unavailable API", () => {
  it.effect("exports every order exactly when 40% of first attempts fail transiently", () =>
    Effect.gen(function*() {
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
      const flaky = yield* api({ script })
      const output = path.join(dir, "flaky.csv")
      const result = yield* StandInRun.run(flaky, args(output), { step: "1 second" })
      const stats = yield* flaky.standIn.stats
      expect(result.exitCode, result.stderr.slice(-20).join("\n")).toBe(0)
      expectExact(output)
      // every scripted fault was served (a request each, the 500s twice), then the second try went through
      const scriptedRequests = script.reduce((n, entry) => n + entry.faults.length, 0)
      expect(script.length).toBeGreaterThan(ORDERS)
      expect(Object.values(stats.faults).reduce((a, b) => a + b, 0)).toBe(scriptedRequests)
      expect(stats.requests).toBe(ORDERS * 3 + scriptedRequests)
    }), 120_000)

  it.effect(
    "waits a 20 s outage out (503, then resets) with a handful of requests per pause",
    () =>
      Effect.gen(function*() {
        const outage: Faults.Outage = {
          start: { atRequest: 150 },
          phases: [
            { durationMs: 10_000, answer: { kind: "unavailable" } },
            { durationMs: 10_000, answer: { kind: "reset" } }
          ]
        }
        const down = yield* api({ outages: [outage] })
        const output = path.join(dir, "outage.csv")
        const result = yield* StandInRun.run(down, args(output), { step: "1 second" })
        const stats = yield* down.standIn.stats
        expect(result.exitCode, result.stderr.slice(-20).join("\n")).toBe(0)
        expectExact(output)
        // the summary counts the outage and the warnings say when the circuit opened and closed
        expect(result.stderrText).toMatch(/1 outage \(API unavailable for \d+s in all\)/)
        expect(result.stderrText).toMatch(/warning: CertCentral API unavailable/)
        expect(result.stderrText).toMatch(/warning: CertCentral API available again/)
        // both phases were met, and the outage was waited out, not cut short
        expect(stats.byStatus["503"]).toBeGreaterThan(0)
        expect(stats.byStatus["reset"]).toBeGreaterThan(0)
        const times = stats.requestTimes
        expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(20_000)
        // the requests in flight when it began and their retries until the circuit opened (at most 8 orders x 3
        // endpoints, twice), then one probe per pause (1, 2, 4, 8 s ...: about 5 in 20 s): never 30 requests a second
        expect(stats.outage).toBeGreaterThan(0)
        expect(stats.outage).toBeLessThanOrEqual(60)
        expect(stats.requests).toBe(ORDERS * 3 + stats.outage)
      }),
    120_000
  )

  it.effect(
    "stops with exit 4 past --max-outage, nothing failed, and --resume finishes to identical files",
    () =>
      Effect.gen(function*() {
        const outage = Faults.outage({ atRequest: 200 }, 20_000, { kind: "unavailable" })
        const down = yield* api({ outages: [outage] })
        const output = path.join(dir, "stopped.csv")
        const stopped = yield* StandInRun.run(down, args(output, "--max-outage", "5s"), { step: "1 second" })
        expect(stopped.exitCode, stopped.stderr.slice(-20).join("\n")).toBe(4)
        const lines = stopped.stderr.filter((line) => line.trim() !== "")
        expect(lines.at(-1)).toMatch(
          new RegExp(
            `^certcentral-export: the DigiCert API has been unavailable for \\d+s \\(last: 503 service_unavailable\\); ` +
              `\\d+ of ${ORDERS} orders done; run the same command with --resume to continue$`
          )
        )
        expect(stopped.stderrText).not.toMatch(/\n\s+at /)
        // nothing was written as failed: the orders the outage met wait for the resume
        expect(fs.readFileSync(`${output}.errors.ndjson`, "utf8")).toBe("")
        const done = Number(/; (\d+) of/.exec(lines.at(-1)!)![1])
        expect(done).toBeGreaterThan(0)
        expect(done).toBeLessThan(ORDERS)
        const checkpoint = JSON.parse(fs.readFileSync(`${output}.checkpoint.json`, "utf8"))
        expect(checkpoint.entries).toBe(done)
        expect(checkpoint.complete).toBe(false)

        yield* untilBack(down.standIn)
        const resumed = yield* StandInRun.run(down, args(output, "--max-outage", "5s", "--resume", "--quiet"), {
          step: "1 second"
        })
        expect(resumed.exitCode, resumed.stderrText).toBe(0)
        expectExact(output)
      }),
    120_000
  )
})
