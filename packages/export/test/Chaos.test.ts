/**
 * The chaos run: hundreds of orders through the CLI, in this process, against the testkit's in-memory stand-in that
 * mixes every retriable fault in by probability (seeded), adds 429 storms and latency jitter, and limits requests over
 * rolling windows (the CLI keeps to the same scaled windows), all on `TestClock` (see `support/standIn.ts`). The files
 * must be byte-identical to a fault-free run's, and the retries and 429s the CLI reports must match what the stand-in
 * served, exactly: in memory no request is lost in transit.
 *
 * Sizing: the client's retry backoff (500 ms doubling, jittered; `Retry-After: 1` on half the 5xx), the client-wide
 * pause after each 429 and the slow answers all wait on the test clock, so they cost no real time; the fault rates
 * are a few percent (about twice what a run on the wall clock could afford; the rarer kinds, 429s and slow answers,
 * at 1 to 1.6%), so that every kind is served several times in 600 requests while a call's five tries never all fail
 * and the retry budget never opens the circuit.
 */
import { Faults } from "@certcentral/testkit"
import type * as StandIn from "@certcentral/testkit/StandIn"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expectSameBytes } from "./support/files.js"
import * as InProcess from "./support/inProcess.js"
import * as StandInRun from "./support/standIn.js"

const ORDERS = 200
const ids = Array.from({ length: ORDERS }, (_, i) => 300_000 + i * 7)
// scaled rolling windows, on both sides: the client keeps to them, the stand-in enforces them; the long one binds
// (600 requests need two of its windows), the short one shapes each burst
const windows = [{ limit: 100, windowMs: 250 }, { limit: 480, windowMs: 6_000 }]
const rateLimitFlag = "100/250ms,480/6s"
const STORM = 3

const faults: Faults.Probabilities = {
  seed: 20261123,
  serverError: 0.025, // 500/502/503/504, half with Retry-After: 1, a third with an HTML proxy page
  resetBeforeBody: 0.012,
  resetDuringBody: 0.012,
  rateLimited: 0.01,
  truncatedJson: 0, // a complete body that is not JSON is a decode error by contract, not retried: see below
  slowHeaders: 0.016,
  slowBody: 0.016,
  unknownFields: 0.02,
  slowMs: 300
}

let dir: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-chaos-"))
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const summaryOf = (stderr: string) => {
  const match = /(\d+) requests?(?: \(.*\))?, (\d+) retr(?:y|ies), (\d+) 429 responses?/.exec(stderr)
  if (match === null) throw new Error(`no summary in the CLI's stderr:\n${stderr}`)
  return { requests: Number(match[1]), retries: Number(match[2]), rateLimited: Number(match[3]) }
}

/** The most arrivals within any `windowMs` (a window closed at its start, open at its end, as the limiter counts). */
const busiest = (times: ReadonlyArray<number>, windowMs: number) => {
  let most = 0
  for (let first = 0, last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= windowMs) first++
    most = Math.max(most, last - first + 1)
  }
  return most
}

/**
 * Three short 429 storms, a quarter, half and three quarters of the way (by requests the stand-in saw); each 429
 * pauses the whole client, with a growing backoff while the storm lasts. Polls on the test clock, seldom: each
 * sleep the clock fires costs the driver a few event-loop turns.
 */
const stormer = (standIn: StandIn.InMemory, expectedRequests: number, onStorm: () => void) =>
  Effect.gen(function*() {
    for (const share of [0.25, 0.5, 0.75]) {
      while ((yield* standIn.stats).requests < expectedRequests * share) yield* Effect.sleep("200 millis")
      yield* standIn.rateLimitStorm({ requests: STORM })
      onStorm()
    }
  })

describe("chaos", () => {
  it.effect(
    "survives every retriable fault, 429 storms and rolling-window limits to files identical to a clean run",
    () =>
      Effect.gen(function*() {
        const orders = path.join(dir, "ids.txt")
        fs.writeFileSync(orders, ids.join("\n") + "\n")
        const args = (output: string) => [
          "--orders",
          orders,
          "--output",
          output,
          "--rate-limit",
          rateLimitFlag,
          "--concurrency",
          "16"
        ]

        // the fault-free run: one request per call, no 429, and the windows used to the full without a refusal
        const clean = yield* StandInRun.api({ rateLimit: windows })
        const cleanOutput = path.join(dir, "clean.csv")
        const reference = yield* StandInRun.run(clean, args(cleanOutput))
        expect(reference.exitCode, reference.stderrText).toBe(0)
        const referenceSummary = summaryOf(reference.stderrText)
        const cleanStats = yield* clean.standIn.stats
        expect(referenceSummary, reference.stderr.slice(-20).join("\n")).toEqual({
          requests: ids.length * 3,
          retries: 0,
          rateLimited: 0
        })
        expect(cleanStats.requests).toBe(ids.length * 3)
        expect(cleanStats.rateLimited).toBe(0)
        // utilization, on the test clock: the busiest windows the stand-in saw were never over their limits, and the
        // client used most of them (not exactly all: the driver moves the clock on while the CLI may still be busy
        // writing files, and a loaded machine loses a little virtual time that way)
        for (const { limit, windowMs } of windows) {
          const most = busiest(cleanStats.requestTimes, windowMs)
          expect(most, `busiest ${windowMs} ms`).toBeLessThanOrEqual(limit)
          expect(most, `busiest ${windowMs} ms`).toBeGreaterThanOrEqual(limit * 0.75)
        }

        const chaos = yield* StandInRun.api({ rateLimit: windows, faults, latency: { meanMs: 3, jitterMs: 3 } })
        const output = path.join(dir, "chaos.csv")
        let storms = 0
        const result = yield* StandInRun.drive(
          Effect.gen(function*() {
            const storming = yield* Effect.fork(stormer(chaos.standIn, ids.length * 3, () => storms++))
            const result = yield* InProcess.run(args(output), { env: chaos.env, http: chaos.http })
            yield* Fiber.interrupt(storming)
            return result
          }),
          { step: "1 second" }
        )
        const stats = yield* chaos.standIn.stats

        expect(result.exitCode, result.stderr.slice(-20).join("\n")).toBe(0)
        expectSameBytes(output, cleanOutput)
        expectSameBytes(`${output}.errors.ndjson`, `${cleanOutput}.errors.ndjson`)
        expect(fs.readFileSync(`${output}.errors.ndjson`, "utf8")).toBe("")

        const injected = stats.faults
        const failuresServed = Object.entries(stats.byStatus)
          .filter(([status]) => status === "reset" || status === "429" || Number(status) >= 500)
          .reduce((sum, [, n]) => sum + n, 0)
        const reported = summaryOf(result.stderrText)
        console.log(
          `chaos figures: ${
            JSON.stringify({
              injected,
              byStatus: stats.byStatus,
              storms,
              failuresServed,
              reported,
              peak: stats.peakConcurrency
            })
          }`
        )

        // every kind was injected, several times
        for (
          const kind of ["serverError", "resetBeforeBody", "resetDuringBody", "rateLimited", "slowHeaders", "slowBody"]
        ) {
          expect(injected[kind as Faults.Kind] ?? 0, kind).toBeGreaterThan(1)
        }
        expect(storms).toBe(3)
        // the CLI saw and counted what the stand-in served: every 429, and one retry per failure served (all succeeded)
        expect(reported.retries).toBe(failuresServed)
        expect(reported.requests).toBe(stats.requests)
        expect(reported.requests).toBe(ids.length * 3 + reported.retries)
        expect(reported.rateLimited).toBe(stats.rateLimited)
        expect(reported.rateLimited).toBeGreaterThan(0)
        expect(reported.retries).toBeGreaterThan(0)
        // the limiter on the stand-in never had to refuse: all 429s were injected ones or storms
        expect(stats.rateLimited).toBe((injected.rateLimited ?? 0) + STORM * storms)
      }),
    240_000
  )

  it.effect(
    "turns a complete body cut short (truncated JSON) into a failed order in the errors file, never a partial row",
    () =>
      Effect.gen(function*() {
        const few = ids.slice(0, 30)
        const hit = [few[3]!, few[17]!, few[29]!]
        const orders = path.join(dir, "few.txt")
        fs.writeFileSync(orders, few.join("\n") + "\n")
        const args = (output: string) => ["--orders", orders, "--output", output, "--rate-limit", "off", "--quiet"]
        const clean = yield* StandInRun.api({ rateLimit: "off" })
        const cleanOutput = path.join(dir, "few-clean.ndjson")
        expect((yield* StandInRun.run(clean, args(cleanOutput))).exitCode).toBe(0)
        const chaos = yield* StandInRun.api({ rateLimit: "off", faults, latency: { meanMs: 3, jitterMs: 3 } })
        const endpoints = ["subaccountOrder", "duplicates", "reissues"] as const
        yield* Effect.forEach(
          hit,
          (orderId, i) => chaos.standIn.script({ orderId, endpoint: endpoints[i]!, faults: [Faults.truncatedJson] })
        )
        const output = path.join(dir, "few-truncated.ndjson")
        const result = yield* StandInRun.run(chaos, args(output))
        expect(result.exitCode, result.stderrText).toBe(1)
        const lines = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((line) => line !== "")
        // the same rows, less those of the three orders, in the same order
        expect(lines(output)).toEqual(lines(cleanOutput).filter((line) => !hit.includes(JSON.parse(line).order_id)))
        const errors = lines(`${output}.errors.ndjson`).map((line) => JSON.parse(line))
        expect(errors.map((e) => [e.order_id, e.error])).toEqual(hit.map((id) => [id, "DecodeError"]))
        // each truncated body was served once: a complete body that does not decode is not retried
        expect((yield* chaos.standIn.stats).faults.truncatedJson).toBe(3)
      }),
    120_000
  )
})
