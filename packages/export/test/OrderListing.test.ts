import { CertCentralClient } from "@certcentral/core"
import { Export, OrderListing } from "@certcentral/export"
import { Account, Faults, TestServer } from "@certcentral/testkit"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Chunk, Effect, Either, Layer, Redacted, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const SEED = 11
const ORDERS = 2500

const clientLayer = Layer.unwrapEffect(
  Effect.map(TestServer.TestServer, (server) =>
    CertCentralClient.layer({
      apiKey: Redacted.make(server.apiKey),
      baseUrl: server.baseUrl,
      retry: { baseDelay: "20 millis", maxDelay: "200 millis" }
    }))
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const withClient = <A, E, R>(effect: Effect.Effect<A, E, R | CertCentralClient.CertCentralClient>) =>
  Effect.provide(effect, clientLayer)

/** The ids the server holds with a status, computed from the testkit's own data, not through the client. */
const withStatus = (ids: ReadonlyArray<number>, status: string) =>
  ids.filter((id) => Account.summary("listSubaccountOrders", SEED, id).status === status)

describe("OrderListing", () => {
  layer(TestServer.layer({ seed: SEED, rateLimit: "off", account: ORDERS }), { excludeTestServices: true })((it) => {
    it.effect("lists exactly the issued subaccount orders, ascending, one request per 1000, and exports their rows", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.TestServer
        yield* server.resetStats
        const expected = withStatus(yield* server.orderIds, "issued")
        const listed = yield* withClient(
          Stream.runCollect(OrderListing.orderIds({ from: "subaccounts", filters: { status: "issued" } }))
        )
        expect(Chunk.toArray(listed)).toEqual(expected)
        expect((yield* server.stats).byRoute.listSubaccountOrders).toBe(Math.ceil(expected.length / 1000))

        const few = { from: "subaccounts", filters: { status: "issued", id: `<${expected[20]}` } } as const
        const rows = yield* withClient(Stream.runCollect(Export.rows(OrderListing.orderIds(few))))
        expect([...new Set(Chunk.toArray(rows).map((r) => r.order_id))]).toEqual(expected.slice(0, 20))
      }))

    it.effect("numbers entries from 1 in listing order and reports pages with page.total", () =>
      Effect.gen(function*() {
        const pages = yield* withClient(Stream.runCollect(OrderListing.pages({ from: "account", pageSize: 1000 })))
        expect(Chunk.toArray(pages).map((p) => [p.listed, p.total])).toEqual([[1000, ORDERS], [2000, ORDERS], [
          ORDERS,
          ORDERS
        ]])
        const entries = yield* withClient(Stream.runCollect(Stream.take(OrderListing.entries({ from: "account" }), 3)))
        expect(Chunk.toArray(entries)).toEqual(
          Account.generatedIds(3).map((orderId, i) => ({
            _tag: "Id",
            orderId,
            line: i + 1,
            hasDuplicates: Account.hasDuplicates(SEED, orderId)
          }))
        )
      }))

    it.effect("an order placed between two pages does not repeat or drop an order that was there before", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.TestServer
        const before = yield* server.orderIds
        const listed = yield* withClient(
          OrderListing.pages({ from: "account" }).pipe(
            // a low id shifts every later page by one; a new high id lands on the last page
            Stream.tap((page) => page.index === 0 ? server.addOrders([7, 99_999_999]) : Effect.void),
            Stream.mapConcat((page) => page.orders.map((o) => o.id)),
            Stream.runCollect
          )
        )
        const ids = Chunk.toArray(listed)
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.filter((id) => before.includes(id))).toEqual(before)
        expect(ids).toContain(99_999_999)
      }))

    it.effect("a filter the server refuses ends the listing with one BadRequestError", () =>
      Effect.gen(function*() {
        const error = yield* withClient(
          Effect.flip(Stream.runDrain(OrderListing.orderIds({ from: "account", filters: { colour: "blue" } })))
        )
        expect(error._tag).toBe("BadRequestError")
        expect(error.endpoint).toBe("listOrders")
        expect("errors" in error && error.errors[0]?.code).toBe("invalid_filter")
      }))

    it.effect("toFile writes the ids and has_duplicates one per line, ascending; a refused listing leaves no file", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.TestServer
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-listing-"))
        const file = path.join(dir, "out.csv.orders.txt")
        const pages: Array<number> = []
        const listed = yield* withClient(OrderListing.toFile(file, {
          from: "account",
          onPage: (page) => Effect.sync(() => pages.push(page.listed))
        }))
        const ids = yield* server.orderIds
        expect(fs.readFileSync(file, "utf8")).toBe(
          `order_id,has_duplicates\n${ids.map((id) => `${id},${Account.hasDuplicates(SEED, id)}\n`).join("")}`
        )
        expect(listed).toEqual({ path: file, ids: ids.length, pages: Math.ceil(ids.length / 1000), total: ids.length })
        expect(pages).toEqual([1000, 2000, ids.length].filter((n) => n <= ids.length))

        const refused = path.join(dir, "refused.orders.txt")
        const error = yield* withClient(
          Effect.flip(OrderListing.toFile(refused, { from: "account", filters: { colour: "blue" } }))
        )
        expect(error._tag).toBe("BadRequestError")
        expect(fs.readdirSync(dir)).toEqual(["out.csv.orders.txt"])
        fs.rmSync(dir, { recursive: true, force: true })
      }).pipe(Effect.provide(NodeContext.layer)))

    it.effect("a page that fails with a 503 is retried, through the same client", () =>
      Effect.gen(function*() {
        const server = yield* TestServer.TestServer
        yield* server.script({ orderId: "*", endpoint: "listSubaccountOrders", faults: [Faults.serverError(503)] })
        const count = yield* withClient(Stream.runCount(OrderListing.orderIds({ from: "subaccounts" })))
        expect(count).toBe((yield* server.orderIds).length)
      }))
  })

  it("parses --filter arguments, values verbatim", () => {
    expect(OrderListing.parseFilters(["status=issued", "valid_till=>=2026-01-01", "date_created=a=b"])).toEqual(
      Either.right({ status: "issued", valid_till: ">=2026-01-01", date_created: "a=b" })
    )
    for (const bad of [["status"], ["=issued"], ["status="], ["sta]tus=x"], ["status=a", "status=b"]]) {
      expect(Either.isLeft(OrderListing.parseFilters(bad))).toBe(true)
    }
  })
})
