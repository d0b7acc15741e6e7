import { CertCentralClient } from "@certcentral/core"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Layer, Redacted, Stream, TestClock } from "effect"

const API_KEY = "k3y-of-the-listing-tests-0123456789"

type Reply = { readonly status: number; readonly body: string }

/**
 * A scripted account behind both list endpoints: answers `offset`/`limit` pages of `ids` (sorted as asked), records
 * every URL, and lets a test override any reply by call number (1-based) or change the account between pages.
 */
const account = (
  initial: ReadonlyArray<number>,
  override: (n: number, url: URL, ids: Array<number>) => Reply | undefined = () => undefined
) => {
  const ids = [...initial]
  const urls: Array<URL> = []
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      urls.push(url)
      const reply = override(urls.length, url, ids) ?? page(ids, url)
      return HttpClientResponse.fromWeb(
        request,
        new Response(reply.body, { status: reply.status, headers: { "content-type": "application/json" } })
      )
    })
  )
  return { ids, urls, client }
}

const page = (ids: ReadonlyArray<number>, url: URL): Reply => {
  const offset = Number(url.searchParams.get("offset") ?? 0)
  const limit = Math.min(1000, Number(url.searchParams.get("limit") ?? 1000))
  const sorted = [...ids].sort((a, b) => (url.searchParams.get("sort") === "-id" ? b - a : a - b))
  const orders = sorted.slice(offset, offset + limit).map((id) => ({ id, status: id % 3 === 0 ? "pending" : "issued" }))
  return { status: 200, body: JSON.stringify({ orders, page: { total: ids.length, limit, offset } }) }
}

const layerOf = (client: HttpClient.HttpClient, options: Partial<CertCentralClient.Options> = {}) =>
  CertCentralClient.layer({
    apiKey: Redacted.make(API_KEY),
    baseUrl: "http://certcentral.test/services/v2",
    rateLimit: "off",
    ...options
  }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

const listIds = (options?: CertCentralClient.ListOrdersOptions) =>
  Effect.flatMap(
    CertCentralClient.CertCentralClient,
    (cc) =>
      Stream.runCollect(cc.listOrders(options)).pipe(Effect.map((orders) => Chunk.toArray(orders).map((o) => o.id)))
  )

const failureOf = <A, E>(exit: Exit.Exit<A, E>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  if (exit.cause._tag !== "Fail") throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return exit.cause.error
}

describe("listOrders", () => {
  for (const count of [0, 1, 1000, 1001, 2500]) {
    it.effect(`lists all ${count} orders by ascending id, 1000 per page, in ${Math.max(1, Math.ceil(count / 1000))} requests`, () =>
      Effect.gen(function*() {
        // ids out of order on the account: the server sorts
        const ids = range(10_001, count).reverse()
        const { client, urls } = account(ids)
        const listed = yield* Effect.provide(listIds(), layerOf(client))
        expect(listed).toEqual(range(10_001, count))
        expect(urls).toHaveLength(Math.max(1, Math.ceil(count / 1000)))
        urls.forEach((url, i) => {
          expect(url.pathname).toBe("/services/v2/order/certificate")
          expect(url.searchParams.get("sort")).toBe("id")
          expect(url.searchParams.get("limit")).toBe("1000")
          expect(url.searchParams.get("offset")).toBe(String(i * 1000))
        })
      }))
  }

  it.effect("an order placed between two pages neither repeats nor drops an order that existed before", () =>
    Effect.gen(function*() {
      const before = range(1, 2500).map((i) => i * 10)
      const { client, urls } = account(before, (n, _url, ids) => {
        // after the first page: one order with a low id (shifts every later page by one) and one with a new high id
        if (n === 2) ids.push(15, 99_999)
        return undefined
      })
      const listed = yield* Effect.provide(listIds({ pageSize: 1000 }), layerOf(client))
      expect(new Set(listed).size).toBe(listed.length)
      expect(listed).toEqual([...listed].sort((a, b) => a - b))
      for (const id of before) expect(listed).toContain(id)
      expect(listed).toContain(99_999)
      expect(urls.map((u) => u.searchParams.get("offset"))).toEqual(["0", "1000", "2000"])
    }))

  it.effect("sends the filters verbatim as filters[KEY]=VALUE, operators included, and the page size", () =>
    Effect.gen(function*() {
      const { client, urls } = account(range(1, 5))
      yield* Effect.provide(
        listIds({
          filters: {
            status: "issued",
            valid_till: ">2026-01-01",
            date_created: "2025-01-01...2025-12-31",
            x: undefined
          },
          pageSize: 2
        }),
        layerOf(client)
      )
      expect(urls).toHaveLength(3)
      const params = [...urls[0]!.searchParams.entries()].sort()
      expect(params).toEqual([
        ["filters[date_created]", "2025-01-01...2025-12-31"],
        ["filters[status]", "issued"],
        ["filters[valid_till]", ">2026-01-01"],
        ["limit", "2"],
        ["offset", "0"],
        ["sort", "id"]
      ])
    }))

  it.effect("lists subaccount orders from their own path with the subaccount filter", () =>
    Effect.gen(function*() {
      const { client, urls } = account(range(7, 3))
      const orders = yield* Effect.provide(
        Effect.flatMap(
          CertCentralClient.CertCentralClient,
          (cc) => Stream.runCollect(cc.listSubaccountOrders({ filters: { subaccount: "4321", status: "issued" } }))
        ),
        layerOf(client)
      )
      expect(Chunk.toArray(orders).map((o) => [o.id, o.status])).toEqual([[7, "issued"], [8, "issued"], [9, "pending"]])
      expect(urls[0]!.pathname).toBe("/services/v2/account/subaccount/order")
      expect(urls[0]!.searchParams.get("filters[subaccount]")).toBe("4321")
    }))

  it.effect("gives each page with page.total and the running count, for progress", () =>
    Effect.gen(function*() {
      const { client } = account(range(1, 2500))
      const pages = yield* Effect.provide(
        Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => Stream.runCollect(cc.listOrderPages())),
        layerOf(client)
      )
      expect(Chunk.toArray(pages).map((p) => [p.index, p.offset, p.orders.length, p.listed, p.total, p.last]))
        .toEqual([[0, 0, 1000, 1000, 2500, false], [1, 1000, 1000, 2000, 2500, false], [
          2,
          2000,
          500,
          2500,
          2500,
          true
        ]])
    }))

  it.effect("a filter the server rejects is one BadRequestError naming the endpoint, with no order id, not retried", () =>
    Effect.gen(function*() {
      const { client, urls } = account(range(1, 10), () => ({
        status: 400,
        body: JSON.stringify({ errors: [{ code: "invalid_filter", message: "Invalid filter: colour" }] })
      }))
      const exit = yield* Effect.exit(Effect.provide(listIds({ filters: { colour: "blue" } }), layerOf(client)))
      const error = failureOf(exit)
      expect(urls).toHaveLength(1)
      if (error._tag !== "BadRequestError") throw new Error(`expected BadRequestError, got ${error._tag}`)
      expect(error.endpoint).toBe("listOrders")
      expect(error.orderId).toBeUndefined()
      expect(error.status).toBe(400)
      expect(error.errors.map((e) => e.raw)).toEqual(["invalid_filter"])
    }))

  for (
    const [name, options] of [
      ["a page size over 1000", { pageSize: 1001 }],
      ["a page size of 0", { pageSize: 0 }],
      ["a filter name that would break the query", { filters: { "status][x": "issued" } }]
    ] as const
  ) {
    it.effect(`refuses ${name} before any request`, () =>
      Effect.gen(function*() {
        const { client, urls } = account(range(1, 10))
        const exit = yield* Effect.exit(Effect.provide(listIds(options), layerOf(client)))
        expect(failureOf(exit)._tag).toBe("InvalidListOptionsError")
        expect(urls).toHaveLength(0)
      }))
  }

  it.effect("retries a page that failed with a 503 and goes on from the same offset", () =>
    Effect.gen(function*() {
      const { client, urls } = account(range(1, 1500), (n) =>
        n === 2
          ? { status: 503, body: JSON.stringify({ errors: [{ code: "service_unavailable", message: "" }] }) }
          : undefined)
      const layer = layerOf(client)
      const fiber = yield* Effect.fork(
        Effect.provide(
          Effect.flatMap(CertCentralClient.CertCentralClient, (cc) =>
            Effect.zip(Stream.runCollect(cc.listOrders()), cc.stats)),
          layer
        )
      )
      for (let i = 0; i < 60 && fiber.unsafePoll() === null; i++) {
        yield* TestClock.adjust("1 second")
      }
      const [orders, stats] = yield* Fiber.join(fiber)
      expect(
        Chunk.toArray(orders).map((o) =>
          o.id
        )
      ).toEqual(range(1, 1500))
      expect(urls.map((u) => u.searchParams.get("offset"))).toEqual(["0", "1000", "1000"])
      expect(stats.retries).toBe(1)
    }))

  it.effect("pages wait for the client's rate limiter like any call", () =>
    Effect.gen(function*() {
      const { client, urls } = account(range(1, 2500))
      const fiber = yield* Effect.fork(
        Effect.provide(listIds(), layerOf(client, { rateLimit: [{ limit: 2, window: "1 minute" }] }))
      )
      yield* TestClock.adjust("30 seconds")
      expect(urls).toHaveLength(2)
      yield* TestClock.adjust("31 seconds")
      expect(yield* Fiber.join(fiber)).toEqual(range(1, 2500))
      expect(urls).toHaveLength(3)
    }))

  it.effect("accepts unknown fields and statuses; a body without the page block is a decode error", () =>
    Effect.gen(function*() {
      const good = account([], () => ({
        status: 200,
        body: JSON.stringify({
          orders: [{ id: 5, status: "quantum_pending", x_new: { a: 1 }, certificate: { id: 9, common_name: "a.b" } }],
          page: { total: 1, limit: 1000, offset: 0 },
          extra: true
        })
      }))
      const orders = yield* Effect.provide(
        Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => Stream.runCollect(cc.listOrders())),
        layerOf(good.client)
      )
      const [order] = Chunk.toArray(orders)
      expect(order!.status).toBe("quantum_pending")
      expect(order!.certificate?.common_name).toBe("a.b")

      const bad = account([], () => ({ status: 200, body: JSON.stringify({ orders: [] }) }))
      const error = failureOf(yield* Effect.exit(Effect.provide(listIds(), layerOf(bad.client))))
      if (error._tag !== "DecodeError") throw new Error(`expected DecodeError, got ${error._tag}`)
      expect(error.endpoint).toBe("listOrders")
      expect(error.path).toBe("page")
      expect(bad.urls).toHaveLength(1)
    }))

  it.effect("reads has_duplicates as a boolean, 0/1 or \"0\"/\"1\", absent as unknown; any other value fails the page", () =>
    Effect.gen(function*() {
      const flags = [true, false, 1, 0, "1", "0", undefined]
      const body = (values: ReadonlyArray<unknown>) =>
        JSON.stringify({
          orders: values.map((v, i) => ({
            id: i + 1,
            status: "issued",
            ...(v === undefined ? {} : { has_duplicates: v })
          })),
          page: { total: values.length, limit: 1000, offset: 0 }
        })
      const good = account([], () => ({ status: 200, body: body(flags) }))
      const orders = yield* Effect.provide(
        Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => Stream.runCollect(cc.listOrders())),
        layerOf(good.client)
      )
      expect(Chunk.toArray(orders).map((o) => o.has_duplicates)).toEqual([
        true,
        false,
        true,
        false,
        true,
        false,
        undefined
      ])

      const bad = account([], () => ({ status: 200, body: body(["yes"]) }))
      const error = failureOf(yield* Effect.exit(Effect.provide(listIds(), layerOf(bad.client))))
      expect(error._tag).toBe("DecodeError")
    }))

  it.effect("advances by the orders received when the server clamps pages below the size asked for", () =>
    Effect.gen(function*() {
      const { client, urls } = account(range(1, 1001), (_n, url, ids) => {
        const clamped = new URL(url)
        clamped.searchParams.set("limit", "300")
        return page(ids, clamped)
      })
      expect(yield* Effect.provide(listIds(), layerOf(client))).toEqual(range(1, 1001))
      expect(urls.map((u) => u.searchParams.get("offset"))).toEqual(["0", "300", "600", "900"])
      expect(urls.every((u) => u.searchParams.get("limit") === "1000")).toBe(true)
    }))

  it.effect("stops at an empty page even when page.total still claims more", () =>
    Effect.gen(function*() {
      const { client, urls } = account([], (n) => ({
        status: 200,
        body: JSON.stringify({
          orders: n === 1 ? [{ id: 1, status: "issued" }] : [],
          page: { total: 5, limit: 1000, offset: 0 }
        })
      }))
      expect(yield* Effect.provide(listIds(), layerOf(client))).toEqual([1])
      expect(urls).toHaveLength(2)
    }))
})
