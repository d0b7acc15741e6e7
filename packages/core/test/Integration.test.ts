import { CertCentralClient } from "@certcentral/core"
import { Faults, OrderScript, Samples, StandIn, TestServer } from "@certcentral/testkit"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer, Option, Redacted, TestClock, TestContext } from "effect"

// Over real HTTP on loopback, against the testkit server. Rate limits are the server's and the client's own; the
// backoff is shortened so that retries stay quick on a slow machine.
const clientFor = (options: Partial<CertCentralClient.Options> = {}) =>
  Layer.unwrapEffect(
    Effect.map(TestServer.TestServer, (server) =>
      CertCentralClient.layer({
        apiKey: Redacted.make(server.apiKey),
        baseUrl: server.baseUrl,
        retry: { baseDelay: "20 millis", maxDelay: "200 millis" },
        ...options
      }))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

const withClient = <A, E>(
  f: (cc: CertCentralClient.Service, server: TestServer.Service) => Effect.Effect<A, E>,
  options: Partial<CertCentralClient.Options> = {}
) =>
  Effect.gen(function*() {
    const server = yield* TestServer.TestServer
    // The layer stays open for the whole body: its undici dispatcher closes with it.
    return yield* Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => f(cc, server)).pipe(
      Effect.provide(clientFor(options))
    )
  })

describe("against the testkit server", () => {
  layer(TestServer.layer({ seed: 7, orders: { 404: OrderScript.notFound, 403: OrderScript.missingPermission } }), {
    excludeTestServices: true
  })(
    (it) => {
      it.effect("decodes the documented samples served verbatim", () =>
        withClient((cc) =>
          Effect.gen(function*() {
            const duplicates = yield* cc.listDuplicates(Samples.issuedOrderId)
            expect(duplicates.map((d) => d.id)).toEqual([12345, 23456, 34567])
            const reissues = yield* cc.listReissues(Samples.issuedOrderId)
            expect(reissues[0]!.purchased_wildcard_names).toBe(1)
            const order = yield* cc.getSubaccountOrder(Samples.issuedOrderId)
            expect(order.certificate?.serial_number).toBe("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXC5F")
            const sub = yield* cc.getSubaccountOrder(Samples.subSubaccountOrderId)
            expect(sub.certificate).toBeUndefined()
          })
        ))

      it.effect("decodes generated orders of every shape", () =>
        withClient((cc) =>
          Effect.gen(function*() {
            const ids = Array.from({ length: 40 }, (_, i) => 5000 + i * 7919)
            const orders = yield* Effect.forEach(
              ids,
              (id) => cc.getSubaccountOrder(id, { includeValidationStatus: true }),
              {
                concurrency: 8
              }
            )
            expect(orders.map((o) => o.id)).toEqual(ids)
            expect(orders.some((o) => o.certificate === undefined)).toBe(true)
            expect(orders.some((o) => o.certificate?.serial_number !== undefined)).toBe(true)
            const lists = yield* Effect.forEach(ids, (id) => cc.listReissues(id, { showArchived: true }), {
              concurrency: 8
            })
            expect(lists.flat().length).toBeGreaterThan(0)
          })
        ))

      it.effect("maps DigiCert's error bodies to typed errors", () =>
        withClient((cc, server) =>
          Effect.gen(function*() {
            const before = (yield* server.stats).requests
            const notFound = yield* Effect.flip(cc.getSubaccountOrder(404))
            expect(notFound._tag).toBe("NotFoundError")
            if (notFound._tag === "NotFoundError") {
              expect(notFound.status).toBe(404)
              expect(notFound.errors[0]).toMatchObject({
                raw: "not_found|order",
                code: "not_found",
                qualifier: "order"
              })
            }
            const denied = yield* Effect.flip(cc.getSubaccountOrder(403))
            expect(denied._tag).toBe("PermissionError")
            if (denied._tag === "PermissionError") expect(denied.errors[0]!.qualifier).toBe("missing_permission")
            // Neither is retried.
            expect((yield* server.stats).requests - before).toBe(2)
          })
        ))

      it.effect("reports a wrong key as AuthenticationError without retrying", () =>
        Effect.gen(function*() {
          const server = yield* TestServer.TestServer
          const before = (yield* server.stats).keys.invalid
          const error = yield* Effect.flip(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)).pipe(
              Effect.provide(
                CertCentralClient.layer({ apiKey: Redacted.make("wrong-key"), baseUrl: server.baseUrl }).pipe(
                  Layer.provide(NodeHttpClient.layerUndici)
                )
              )
            )
          )
          expect(error._tag).toBe("AuthenticationError")
          expect((yield* server.stats).keys.invalid - before).toBe(1)
        }))

      it.effect("survives resets, cut bodies, 5xx and slow answers, retrying to the right result", () =>
        withClient((cc, server) =>
          Effect.gen(function*() {
            const clean = yield* cc.listReissues(777)
            yield* server.script({
              orderId: 777,
              endpoint: "reissues",
              faults: [
                Faults.resetBeforeBody,
                Faults.resetDuringBody,
                Faults.serverError(503, { retryAfter: 0 }),
                Faults.serverError(502, { html: true })
              ]
            })
            const stats = yield* cc.stats
            expect(yield* cc.listReissues(777)).toEqual(clean)
            expect((yield* cc.stats).retries - stats.retries).toBe(4)
          }), { retry: { baseDelay: "20 millis", maxDelay: "200 millis", maxAttempts: 6 } }))

      it.effect("does not retry a complete body that is not JSON", () =>
        withClient((cc, server) =>
          Effect.gen(function*() {
            yield* server.script({ orderId: 778, endpoint: "duplicates", faults: [Faults.truncatedJson] })
            const before = (yield* server.stats).requests
            const error = yield* Effect.flip(cc.listDuplicates(778))
            expect(error._tag).toBe("DecodeError")
            expect((yield* server.stats).requests - before).toBe(1)
          })
        ))

      it.effect("decodes bodies with unknown fields and statuses", () =>
        withClient((cc, server) =>
          Effect.gen(function*() {
            yield* server.script({
              orderId: Samples.issuedOrderId,
              endpoint: "*",
              faults: [Faults.unknownFields, Faults.unknownStatus]
            })
            yield* cc.listDuplicates(Samples.issuedOrderId)
            const [first] = yield* cc.listReissues(Samples.issuedOrderId)
            expect(first!.status).toBe(Faults.unknownStatusValue)
          })
        ))
    }
  )
})

// In memory against the stand-in on TestClock: pauses and rolling windows are moved through in virtual time, and the
// stand-in counts arrivals on the same clock, so the window's bound is checked exactly.
const inMemory = <A, E>(
  standIn: StandIn.InMemory,
  options: Partial<CertCentralClient.Options>,
  f: (cc: CertCentralClient.Service) => Effect.Effect<A, E>
) =>
  Effect.flatMap(CertCentralClient.CertCentralClient, f).pipe(
    Effect.provide(
      CertCentralClient.layer({ apiKey: Redacted.make(standIn.apiKey), baseUrl: standIn.baseUrl, ...options }).pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, standIn.client))
      )
    )
  )

/** Runs `effect`, moving the test clock by `step` after each event-loop turn until it ends. */
const drive = <A, E>(effect: Effect.Effect<A, E>, step: Duration.DurationInput = "100 millis") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

// A `layer(..., { excludeTestServices: true })` in the same file leaves the file's own `it.effect` on the live clock
// (seen with @effect/vitest 0.30), so these tests provide the test services themselves.
const onTestClock = <A, E>(effect: Effect.Effect<A, E>) => Effect.provide(effect, TestContext.TestContext)

describe("against the in-memory stand-in, on the test clock", () => {
  it.effect("waits out a 429 storm as one client-wide pause", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.make({ seed: 7 })
      yield* standIn.rateLimitStorm({ requests: 4 })
      const [results, stats] = yield* drive(inMemory(
        standIn,
        { retry: { baseDelay: "50 millis", maxDelay: "200 millis", maxAttempts: 6 } },
        (cc) =>
          Effect.zip(
            Effect.forEach([11, 12, 13, 14], (id) => cc.listDuplicates(id), { concurrency: "unbounded" }),
            Effect.suspend(() => cc.stats)
          )
      ))
      expect(results).toHaveLength(4)
      expect(stats.rateLimited).toBe(4)
      expect(stats.pauses).toBeLessThanOrEqual(2)
      expect((yield* standIn.stats).rateLimited).toBe(4)
    }).pipe(onTestClock))

  it.effect("keeps within the server's rolling windows: no 429 at full concurrency", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.make({
        rateLimit: [{ limit: 20, windowMs: 2000 }, { limit: 30, windowMs: 600_000 }]
      })
      const ids = Array.from({ length: 30 }, (_, i) => i + 1)
      yield* drive(inMemory(
        standIn,
        {
          retry: { baseDelay: "20 millis", maxDelay: "200 millis" },
          rateLimit: [{ limit: 20, window: "2 seconds" }, { limit: 30, window: "10 minutes" }]
        },
        (cc) => Effect.forEach(ids, (id) => cc.listDuplicates(id), { concurrency: 50, discard: true })
      ))
      const stats = yield* standIn.stats
      expect(stats.rateLimited).toBe(0)
      expect(stats.requests).toBe(30)
      const times = stats.requestTimes
      // The 21st request may not arrive before the first has left the 2 s window (times on the test clock).
      expect(times[20]! - times[0]!).toBeGreaterThanOrEqual(2000)
      // and the client used the window as soon as it opened again, not a pause later
      expect(times[20]! - times[0]!).toBeLessThan(2200)
    }).pipe(onTestClock))
})
