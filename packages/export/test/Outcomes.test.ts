import { CertCentralClient, CertCentralError, SubaccountOrder } from "@certcentral/core"
import { Samples } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Schema, Stream, TestClock } from "effect"
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
}) => {
  const calls: Array<Call> = []
  const answer = <A>(endpoint: CertCentralError.Endpoint, orderId: number, value: A) =>
    Effect.suspend(() => {
      calls.push([endpoint, orderId])
      const error = script.fail?.(endpoint, orderId)
      return Effect.delay(
        error === undefined ? Effect.succeed(value) : Effect.fail(error),
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
    stats: Effect.sync(() => ({
      requests: calls.length,
      retries: 0,
      rateLimited: 0,
      pauses: 0,
      circuit: "closed" as const,
      unavailableSince: undefined,
      nextProbeAt: undefined,
      outages: 0,
      outageMillis: 0,
      gaveUp: false
    }))
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

  it.effect("never calls an endpoint left out of include", () =>
    Effect.gen(function*() {
      const client = scripted({})
      const outcomes = yield* collect(OrderIds.fromIterable([7, 8]), { include: ["duplicates"] }).pipe(
        Effect.provide(client.layer)
      )
      expect(client.calls.map(([endpoint]) => endpoint)).toEqual(["listDuplicates", "listDuplicates"])
      expect(outcomes.map((o) => o._tag === "Exported" && o.rows.length)).toEqual([0, 0])
    }))

  it("names every per-order client endpoint in the --include vocabulary", () => {
    // the list endpoints only discover order ids: they have no --include name
    const perOrder = CertCentralError.Endpoint.literals.filter((e) =>
      e !== "listOrders" && e !== "listSubaccountOrders"
    )
    expect(Object.keys(Outcomes.endpointNames).sort()).toEqual([...perOrder].sort())
    expect(new Set(Object.values(Outcomes.endpointNames))).toEqual(new Set(Outcomes.allEndpoints))
  })
})
