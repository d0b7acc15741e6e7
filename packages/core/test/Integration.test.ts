import { CertCentralClient } from "@certcentral/core"
import { Faults, OrderScript, Samples, TestServer } from "@certcentral/testkit"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"

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

      it.effect("waits out a 429 storm as one client-wide pause", () =>
        withClient((cc, server) =>
          Effect.gen(function*() {
            yield* server.rateLimitStorm({ requests: 4 })
            const results = yield* Effect.forEach([11, 12, 13, 14], (id) => cc.listDuplicates(id), {
              concurrency: "unbounded"
            })
            expect(results).toHaveLength(4)
            const stats = yield* cc.stats
            expect(stats.rateLimited).toBe(4)
            expect(stats.pauses).toBeLessThanOrEqual(2)
          }), { retry: { baseDelay: "50 millis", maxDelay: "200 millis", maxAttempts: 6 } }))
    }
  )

  layer(TestServer.layer({ rateLimit: [{ limit: 20, windowMs: 2000 }, { limit: 30, windowMs: 600_000 }] }), {
    excludeTestServices: true
  })((it) => {
    it.effect("keeps within the server's rolling windows: no 429 at full concurrency", () =>
      withClient((cc, server) =>
        Effect.gen(function*() {
          const ids = Array.from({ length: 30 }, (_, i) => i + 1)
          yield* Effect.forEach(ids, (id) => cc.listDuplicates(id), { concurrency: 50, discard: true })
          const stats = yield* server.stats
          expect(stats.rateLimited).toBe(0)
          expect(stats.requests).toBe(30)
          const times = stats.requestTimes
          // The 21st request may not arrive before the first has left the 2 s window.
          expect(times[20]! - times[0]!).toBeGreaterThanOrEqual(2000)
        }), { rateLimit: [{ limit: 20, window: "2 seconds" }, { limit: 30, window: "10 minutes" }] }))
  })
})
