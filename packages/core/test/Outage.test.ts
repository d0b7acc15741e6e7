import { CertCentralClient } from "@certcentral/core"
import { Faults, StandIn } from "@certcentral/testkit"
import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer, Option, Redacted, TestClock } from "effect"

// Against the testkit's in-memory stand-in, with its faults and outage windows, on TestClock: the backoff, the
// circuit's pauses and the outage's phases are moved through in virtual time (see `drive`). The times keep the
// scale they had over a socket (pauses of a tenth of a second, an outage of two seconds); the assertions count
// requests and outcomes, never durations.

const endpoints = ["duplicates", "reissues", "subaccountOrder"] as const

/** A small seeded generator, so that the flaky script is the same on every run. */
const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

/** About 40 % of (order, endpoint) pairs fail their first attempt(s) with a transient fault; the next try succeeds. */
const flakyScript = (orders: ReadonlyArray<number>): Array<Faults.ScriptEntry> => {
  const random = seeded(13)
  const kinds: ReadonlyArray<ReadonlyArray<Faults.Fault>> = [
    [Faults.serverError(503, { retryAfter: 1 })],
    Faults.times(2, Faults.serverError(500)),
    [Faults.serverError(502, { html: true })],
    [{ kind: "rateLimited" }],
    [Faults.resetBeforeBody],
    [Faults.resetDuringBody]
  ]
  return orders.flatMap((orderId) =>
    endpoints.flatMap((endpoint) =>
      random() < 0.4 ? [{ orderId, endpoint, faults: kinds[Math.floor(random() * kinds.length)]! }] : []
    )
  )
}

const exportAll = (cc: CertCentralClient.Service, orders: ReadonlyArray<number>, concurrency: number) =>
  Effect.forEach(
    orders,
    (id) => Effect.all([cc.getSubaccountOrder(id), cc.listDuplicates(id), cc.listReissues(id)]),
    { concurrency }
  )

/** Runs `effect`, moving the test clock by `step` after each event-loop turn until it ends. */
const drive = <A, E>(effect: Effect.Effect<A, E>, step: Duration.DurationInput = "1 second") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

const withStandIn = <A, E>(
  options: StandIn.Options,
  retry: CertCentralClient.RetryOptions,
  timeout: Duration.DurationInput,
  f: (cc: CertCentralClient.Service, standIn: StandIn.Control) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const standIn = yield* StandIn.make({ rateLimit: "off", ...options })
    const client = Layer.effect(
      CertCentralClient.CertCentralClient,
      CertCentralClient.make({
        apiKey: Redacted.make(standIn.apiKey),
        baseUrl: standIn.baseUrl,
        rateLimit: [{ limit: 200, window: "1 second" }],
        timeout,
        retry: { baseDelay: "20 millis", maxDelay: "200 millis", ...retry }
      })
    ).pipe(Layer.orDie, Layer.provide(Layer.succeed(HttpClient.HttpClient, standIn.client)))
    return yield* drive(
      Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => f(cc, standIn)).pipe(Effect.provide(client))
    )
  })

describe("outages against the in-memory stand-in, on the test clock", () => {
  it.effect("300 calls through a 40%-flaky server all succeed", () =>
    Effect.gen(function*() {
      const orders = Array.from({ length: 100 }, (_, i) => 1000 + i)
      const script = flakyScript(orders)
      expect(script.length).toBeGreaterThan(90)
      yield* withStandIn({ script }, { circuit: { firstPause: "100 millis" } }, "20 seconds", (cc, standIn) =>
        Effect.gen(function*() {
          const results = yield* exportAll(cc, orders, 10)
          expect(results.map(([order]) =>
            order.id
          )).toEqual(orders)
          const stats = yield* cc.stats
          // every scripted fault was served and retried past; none failed a call
          const served = yield* standIn.stats
          const faults = Object.values(served.faults).reduce((a, b) =>
            a + b, 0)
          expect(faults).toBe(script.reduce((n, entry) => n + entry.faults.length, 0))
          expect(stats.requests).toBe(300 + faults)
          expect(stats.gaveUp).toBe(false)
          expect(stats.circuit).toBe("closed")
        }))
    }))

  it.effect("waits out an outage (503, resets, hangs) with a handful of requests per pause", () =>
    Effect.gen(function*() {
      const orders = Array.from({ length: 120 }, (_, i) => 2000 + i)
      const outage: Faults.Outage = {
        start: { atRequest: 90 },
        phases: [
          { durationMs: 800, answer: { kind: "unavailable" } },
          { durationMs: 800, answer: { kind: "reset" } },
          { durationMs: 400, answer: { kind: "hang" } }
        ]
      }
      yield* withStandIn(
        { outages: [outage] },
        { circuit: { firstPause: "100 millis", maxPause: "400 millis" } },
        // shorter than the hang, longer than any answer on a loaded machine
        "1 second",
        (cc, standIn) =>
          Effect.gen(function*() {
            const results = yield* exportAll(cc, orders, 8)
            expect(results).toHaveLength(orders.length)
            const stats = yield* cc.stats
            expect(stats.outages).toBeGreaterThanOrEqual(1)
            expect(stats.circuit).toBe("closed")
            expect(stats.gaveUp).toBe(false)
            const served = yield* standIn.stats
            // 2 s of outage: the requests already in flight (8 calls), the few failures before the circuit
            // opens, then one probe per pause (0.1, 0.2, 0.4 s, then 0.4 s each): a few dozen at most, where
            // an unthrottled client would send thousands.
            expect(served.outage).toBeGreaterThan(0)
            expect(served.outage).toBeLessThanOrEqual(40)
            expect(served.requests).toBe(orders.length * 3 + served.outage)
          })
      )
    }))
})
