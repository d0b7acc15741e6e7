import { CertCentralClient, CertCentralError, SubaccountOrder } from "@certcentral/core"
import { Samples } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Fiber, Layer, Schema, Stream, TestClock } from "effect"
import { OrderIds, Outcomes } from "../src/index.js"

const order = Schema.decodeUnknownSync(SubaccountOrder.SubaccountOrder)(JSON.parse(Samples.subaccountOrderPending))

type Call = readonly [CertCentralError.Endpoint, number]

const notFound = (endpoint: CertCentralError.Endpoint, orderId: number) =>
  new CertCentralError.NotFoundError({ endpoint, orderId, status: 404, errors: [], message: "not found" })

/**
 * A client answering from a script: `delay(id)` seconds before each answer (on the TestClock), `fail` picks errors.
 * Every call is recorded.
 */
const scripted = (script: {
  readonly delay?: (orderId: number) => number
  readonly fail?: (
    endpoint: CertCentralError.Endpoint,
    orderId: number
  ) => CertCentralError.CertCentralError | undefined
  /** From this time on (TestClock millis) the client gives up on an outage that began at 0. */
  readonly gaveUpFrom?: number
}) => {
  const calls: Array<Call> = []
  const answer = <A>(endpoint: CertCentralError.Endpoint, orderId: number, value: A) =>
    Effect.suspend(() => {
      calls.push([endpoint, orderId])
      const error = script.fail?.(endpoint, orderId)
      // as the client does: a transient failure once it gave up is its UnavailableError, carrying that failure
      const failure = Effect.flatMap(Clock.currentTimeMillis, (now) =>
        error !== undefined && CertCentralError.isRetriable(error) && script.gaveUpFrom !== undefined &&
          now >= script.gaveUpFrom
          ? Effect.fail(
            new CertCentralError.UnavailableError({
              endpoint,
              orderId,
              unavailableMillis: now,
              lastError: error,
              message: "gave up"
            })
          )
          : Effect.fail(error!))
      return Effect.delay(
        error === undefined ? Effect.succeed(value) : failure,
        `${script.delay?.(orderId) ?? 0} seconds`
      )
    })
  const layer = Layer.succeed(CertCentralClient.CertCentralClient, {
    getSubaccountOrder: (id) => answer("getSubaccountOrder", id, order),
    listDuplicates: (id) => answer("listDuplicates", id, []),
    listReissues: (id) => answer("listReissues", id, []),
    // the listing is not part of these tests
    listOrders: () => Stream.die("not listed here"),
    listOrderPages: () => Stream.die("not listed here"),
    listSubaccountOrders: () => Stream.die("not listed here"),
    listSubaccountOrderPages: () => Stream.die("not listed here"),
    listStatusChanges: () => Effect.die("not listed here"),
    stats: Effect.map(Clock.currentTimeMillis, (now) => {
      const gaveUp = script.gaveUpFrom !== undefined && now >= script.gaveUpFrom
      return {
        requests: calls.length,
        retries: 0,
        rateLimited: 0,
        pauses: 0,
        circuit: gaveUp ? "open" as const : "closed" as const,
        unavailableSince: gaveUp ? 0 : undefined,
        nextProbeAt: undefined,
        outages: gaveUp ? 1 : 0,
        outageMillis: gaveUp ? now : 0,
        gaveUp
      }
    })
  })
  return { calls, layer }
}

const collect = (entries: Stream.Stream<OrderIds.Entry>, options: Outcomes.Options = {}) =>
  Effect.map(Stream.runCollect(Outcomes.stream(entries, options)), Chunk.toReadonlyArray)

describe("Outcomes", () => {
  it.effect("gives outcomes in input order although later orders finish first", () =>
    Effect.gen(function*() {
      // order 1 (the probe) is quick; then 2 takes longest and 4 is quickest
      const client = scripted({ delay: (id) => id === 1 ? 0 : 10 - 2 * id })
      const fiber = yield* collect(OrderIds.fromIterable([1, 2, 3, 4]), { concurrency: 4 }).pipe(
        Effect.provide(client.layer),
        Effect.fork
      )
      yield* TestClock.adjust("10 seconds")
      const outcomes = yield* Fiber.join(fiber)
      expect(outcomes.map((o) => o._tag === "BadLine" ? o.line : o.orderId)).toEqual([1, 2, 3, 4])
      expect(outcomes.every((o) => o._tag === "Exported" && o.rows.length === 1)).toBe(true)
    }))

  it.effect("makes a failed order a Failed outcome with the first failing endpoint, and goes on", () =>
    Effect.gen(function*() {
      const client = scripted({
        fail: (endpoint, id) => id === 2 && endpoint !== "getSubaccountOrder" ? notFound(endpoint, id) : undefined
      })
      const outcomes = yield* collect(OrderIds.fromIterable([1, 2, "x", 3])).pipe(Effect.provide(client.layer))
      expect(outcomes.map((o) => o._tag)).toEqual(["Exported", "Failed", "BadLine", "Exported"])
      const failed = outcomes[1]!
      expect(failed._tag === "Failed" && failed.error.endpoint).toBe("listDuplicates")
    }))

  it.effect("stops at the first order's 401 without asking for any other order", () =>
    Effect.gen(function*() {
      const client = scripted({
        fail: (endpoint, id) =>
          new CertCentralError.AuthenticationError({ endpoint, orderId: id, status: 401, errors: [], message: "no" })
      })
      const error = yield* collect(OrderIds.fromIterable([1, 2, 3, 4, 5]), { concurrency: 5 }).pipe(
        Effect.provide(client.layer),
        Effect.flip
      )
      expect(error._tag).toBe("AuthenticationError")
      expect(new Set(client.calls.map(([, id]) => id))).toEqual(new Set([1]))
    }))

  it.effect("stops at the first order in input order that fails transiently after the client gave up", () =>
    Effect.gen(function*() {
      const unavailable = (endpoint: CertCentralError.Endpoint, orderId: number) =>
        new CertCentralError.ServerError({
          endpoint,
          orderId,
          status: 503,
          errors: [
            new CertCentralError.DigiCertErrorEntry({
              raw: "service_unavailable",
              code: "service_unavailable",
              message: "down"
            })
          ],
          message: "503"
        })
      // seconds until each order's answers; the client gives up at 4 s
      const delays: Record<number, number> = { 1: 0, 2: 6, 3: 1, 4: 8, 5: 5 }
      const client = scripted({
        delay: (id) => delays[id] ?? 1,
        gaveUpFrom: 4000,
        fail: (endpoint, id) =>
          endpoint !== "getSubaccountOrder"
            ? undefined
            : id === 3 || id === 5
            ? unavailable(endpoint, id) // 3 before the client gave up: its own failure; 5 after: the stop
            : id === 2
            ? notFound(endpoint, id) // not transient: a failed order even after the client gave up
            : undefined
      })
      const seen: Array<Outcomes.Outcome> = []
      const fiber = yield* Outcomes.stream(OrderIds.fromIterable([1, 2, 3, 4, 5, 6, 7, 8, 9]), { concurrency: 4 }).pipe(
        Stream.runForEach((outcome) => Effect.sync(() => seen.push(outcome))),
        Effect.flip,
        Effect.provide(client.layer),
        Effect.fork
      )
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      // 6, 7 and 8 were done before 5 failed, and 4 after it: only what comes before 5 in input order is there
      expect(seen.map((o) => o._tag === "BadLine" ? o.line : [o.orderId, o._tag])).toEqual([
        [1, "Exported"],
        [2, "Failed"],
        [3, "Failed"],
        [4, "Exported"]
      ])
      expect(client.calls.some(([, id]) => id === 8)).toBe(true)
      expect(error._tag).toBe("ApiUnavailableError")
      if (error._tag !== "ApiUnavailableError") return
      expect(error.orderId).toBe(5)
      expect(error.line).toBe(5)
      expect(error.unavailableMillis).toBe(5000)
      expect(error.error._tag).toBe("ServerError")
      expect(Outcomes.describeFailure(error.error)).toBe("503 service_unavailable")
    }))

  it.effect("never calls an endpoint left out of include", () =>
    Effect.gen(function*() {
      const client = scripted({})
      const outcomes = yield* collect(OrderIds.fromIterable([7, 8]), { include: ["duplicates"] }).pipe(
        Effect.provide(client.layer)
      )
      expect(client.calls.map(([endpoint]) => endpoint)).toEqual(["listDuplicates", "listDuplicates"])
      expect(outcomes.map((o) => o._tag === "Exported" && o.rows.length)).toEqual([0, 0])
    }))

  it("names every per-order client endpoint in the --include vocabulary, and no list endpoint", () => {
    const listing = ["listOrders", "listSubaccountOrders", "listStatusChanges"]
    expect(Object.keys(Outcomes.endpointNames).sort()).toEqual(
      CertCentralError.Endpoint.literals.filter((endpoint) => !listing.includes(endpoint)).sort()
    )
    expect(new Set(Object.values(Outcomes.endpointNames))).toEqual(new Set(Outcomes.allEndpoints))
  })
})
