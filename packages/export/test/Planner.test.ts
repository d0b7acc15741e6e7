/**
 * The planner and one row per certificate, in-process against the testkit: an order a listing says has no duplicates
 * gets no duplicates request (from a listing, a listing file and its resume, a CSV's `has_duplicates` column, or an
 * embedder's own `{ id, hasDuplicates }`), and echoed or repeated entries of the duplicates and reissues lists are
 * folded into one row per certificate.
 */
import { CertCentralClient } from "@certcentral/core"
import { Account, OrderData, TestServer } from "@certcentral/testkit"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { expect, it as plain, layer } from "@effect/vitest"
import { Chunk, Data, Effect, Exit, Layer, Redacted, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Export, OrderIds, OrderListing } from "../src/index.js"
import * as Cli from "./support/cli.js"

const SEED = 23
// one in ten with duplicates (10); the listing gives the others' has_duplicates in all three encodings of false
const ORDERS = 100
const account = Account.withDuplicates(SEED, ORDERS, 0.1)
const withDuplicates = account.filter((id) => Account.hasDuplicates(SEED, id))

const client = Layer.unwrapEffect(
  Effect.map(
    TestServer.TestServer,
    (s) =>
      CertCentralClient.layer({ apiKey: Redacted.make(s.apiKey), baseUrl: s.baseUrl, rateLimit: "off" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
  )
)
const env = Layer.mergeAll(client, NodeFileSystem.layer).pipe(
  Layer.provideMerge(TestServer.layer({ seed: SEED, rateLimit: "off", account }))
)

/** Requests by route since the last reset. */
const requests = Effect.flatMap(TestServer.TestServer, (server) => Effect.map(server.stats, (s) => s.byRoute))
const reset = Effect.flatMap(TestServer.TestServer, (server) => server.resetStats)

class InputCut extends Data.TaggedError("InputCut") {}

layer(env, { excludeTestServices: true })("the planner", (it) => {
  it.effect(
    "the account's listing spares the duplicates request of every order listed without duplicates",
    () =>
      Effect.gen(function*() {
        // the listing holds all three encodings of false, so each of them is proven to spare a request
        const forms = new Set(
          account.map((id) => Account.summary("listOrders", SEED, id).has_duplicates).filter((flag) =>
            flag === false || flag === 0 || flag === "0"
          )
        )
        expect(forms).toEqual(new Set([false, 0, "0"]))
        expect(withDuplicates).toHaveLength(ORDERS / 10)

        yield* reset
        const planned = Chunk.toArray(yield* Stream.runCollect(Export.rows(OrderListing.orders({ from: "account" }))))
        const stats = yield* requests
        expect(stats).toMatchObject({
          listOrders: 1,
          subaccountOrder: ORDERS,
          reissues: ORDERS,
          duplicates: withDuplicates.length
        })
        // (100 + 100 + 10 + 1) / 100 = 2.11 requests per order, list page included
        expect((stats.listOrders + stats.subaccountOrder + stats.reissues + stats.duplicates) / ORDERS).toBeLessThan(
          2.2
        )

        // the same rows as asking every order for its duplicates
        yield* reset
        const unplanned = Chunk.toArray(
          yield* Stream.runCollect(Export.rows(OrderListing.orderIds({ from: "account" })))
        )
        expect((yield* requests).duplicates).toBe(ORDERS)
        expect(planned).toEqual(unplanned)
        expect(planned.some((row) => row.source === "duplicate")).toBe(true)
      }),
    120_000
  )

  it.effect("list subaccount orders says nothing of duplicates: every order is asked", () =>
    Effect.gen(function*() {
      yield* reset
      const entries = Chunk.toArray(
        yield* Stream.runCollect(Export.outcomes(OrderListing.entries({ from: "subaccounts" })))
      )
      expect(entries).toHaveLength(ORDERS)
      expect((yield* requests).duplicates).toBe(ORDERS)
    }))

  it.effect("an embedder's own summaries: hasDuplicates false spares the request, true or absent makes it", () =>
    Effect.gen(function*() {
      const [a, b, c] = withDuplicates
      yield* reset
      const rows = Chunk.toArray(
        yield* Stream.runCollect(
          Export.rows(Stream.make({ id: a!, hasDuplicates: false }, { id: b!, hasDuplicates: true }, { id: c! }, a!))
        )
      )
      expect(yield* requests).toMatchObject({ subaccountOrder: 3, duplicates: 2, reissues: 3 })
      // the hint is trusted: a says it has none, so none of its rows is a duplicate
      expect(rows.filter((row) => row.order_id === a && row.source === "duplicate")).toEqual([])
      expect(rows.filter((row) => row.order_id === b && row.source === "duplicate").length).toBeGreaterThan(0)
    }))

  it.effect("reads a has_duplicates column in any position and case; an empty or unknown cell is unknown", () =>
    Effect.gen(function*() {
      const text = [
        "\uFEFFName,HAS_DUPLICATES,Order_ID",
        "a,false,11",
        "b,TRUE,12",
        "c,0,13",
        "d,1,14",
        "e,,15",
        "f,maybe,16",
        "\"g, quoted\", false ,17",
        "h,false,11"
      ].join("\r\n")
      const entries = Chunk.toArray(yield* Stream.runCollect(OrderIds.fromText(Stream.make(text))))
      expect(entries).toEqual([
        { _tag: "Id", orderId: 11, line: 2, hasDuplicates: false },
        { _tag: "Id", orderId: 12, line: 3, hasDuplicates: true },
        { _tag: "Id", orderId: 13, line: 4, hasDuplicates: false },
        { _tag: "Id", orderId: 14, line: 5, hasDuplicates: true },
        { _tag: "Id", orderId: 15, line: 6 },
        { _tag: "Id", orderId: 16, line: 7 },
        { _tag: "Id", orderId: 17, line: 8, hasDuplicates: false }
      ])
      expect(entries.filter((e) => e._tag === "Id" && "hasDuplicates" in e && e.hasDuplicates === undefined))
        .toEqual([])
      // without the column, or without a header, nothing is hinted
      const plain = Chunk.toArray(yield* Stream.runCollect(OrderIds.fromText(Stream.make("order_id,x\n5,false\n6\n"))))
      expect(plain).toEqual([{ _tag: "Id", orderId: 5, line: 2 }, { _tag: "Id", orderId: 6, line: 3 }])
    }))

  it.scoped(
    "the listing file carries the hints: its export, and a resume of it, make the same calls and bytes",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const listing = OrderListing.pathFor(path.join(dir, "out.csv"))
        yield* OrderListing.toFile(listing, { from: "account" })
        const text = yield* fs.readFileString(listing)
        const lines = text.split("\n")
        expect(lines[0]).toBe(OrderListing.fileHeader)
        expect(lines.slice(1, -1)).toEqual(
          [...account].sort((x, y) => x - y).map((id) => `${id},${withDuplicates.includes(id)}`)
        )

        const input = (
          upTo?: number
        ): Stream.Stream<OrderIds.Entry, OrderIds.ReadError | InputCut, FileSystem.FileSystem> =>
          upTo === undefined
            ? OrderIds.fromFile(listing)
            : Stream.concat(Stream.take(OrderIds.fromFile(listing), upTo), Stream.fail(new InputCut()))
        yield* reset
        const reference = path.join(dir, "reference.csv")
        const whole = yield* Export.toFiles(input(), { output: reference, concurrency: 8 })
        expect(whole).toMatchObject({ exported: ORDERS, failed: 0, badLines: 0, folded: 0 })
        expect((yield* requests).duplicates).toBe(withDuplicates.length)

        const output = path.join(dir, "resumed.csv")
        const stopped = yield* Effect.exit(Export.toFiles(input(ORDERS / 2), { output, concurrency: 8 }))
        expect(Exit.isFailure(stopped)).toBe(true)
        yield* reset
        const resumed = yield* Export.toFiles(input(), { output, concurrency: 8, resume: true })
        expect(resumed).toMatchObject({ exported: ORDERS, resumed: true })
        const after = yield* requests
        // the rest of the orders, asked for duplicates only where the listing said so
        expect(after.duplicates).toBeLessThanOrEqual(withDuplicates.length)
        expect(after.duplicates).toBeLessThan(after.subaccountOrder)
        expect(yield* fs.readFileString(output)).toBe(yield* fs.readFileString(reference))
        expect(yield* fs.readFileString(`${output}.errors.ndjson`)).toBe(
          yield* fs.readFileString(`${reference}.errors.ndjson`)
        )
      }),
    120_000
  )
})

layer(env, { excludeTestServices: true })("one row per certificate", (it) => {
  it.scoped("folds echoes of the primary and repeated entries, in duplicates and in reissues, and counts them", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const [primaryInDuplicates, repeatedDuplicate, inReissues, primaryInBoth] = OrderData.echoOrderIds
      const rows = Chunk.toArray(yield* Stream.runCollect(Export.rows(Stream.fromIterable(OrderData.echoOrderIds))))
      for (const id of OrderData.echoOrderIds) {
        const own = rows.filter((row) => row.order_id === id)
        const certificates = own.map((row) => row.certificate_id)
        expect(new Set(certificates).size, `order ${id}`).toBe(certificates.length)
        // the order row stands as it is, first
        expect(own[0]!.source).toBe("order")
      }
      const count = (id: number | undefined, source: string) =>
        rows.filter((row) => row.order_id === id && row.source === source).length
      const listed = (id: number | undefined, endpoint: "duplicates" | "reissues"): number =>
        (JSON.parse(OrderData.render(endpoint, SEED, id!, { showArchived: false, includeValidationStatus: false })) as {
          certificates: ReadonlyArray<unknown>
        }).certificates.length
      // each list as served, less what is folded
      expect(count(primaryInDuplicates, "duplicate")).toBe(listed(primaryInDuplicates, "duplicates") - 1)
      expect(count(repeatedDuplicate, "duplicate")).toBe(listed(repeatedDuplicate, "duplicates") - 1)
      expect(count(inReissues, "reissue")).toBe(listed(inReissues, "reissues") - 2)
      expect(count(primaryInBoth, "reissue")).toBe(listed(primaryInBoth, "reissues") - 1)
      expect(count(primaryInBoth, "duplicate")).toBe(listed(primaryInBoth, "duplicates") - 1)

      const summary = yield* Export.toFiles(OrderIds.fromIterable(OrderData.echoOrderIds), {
        output: path.join(dir, "echoes.ndjson")
      })
      // one echo in 99000001's duplicates, one repeat in 99000002's, an echo and a repeat in 99000003's reissues, and
      // an echo in each of 99000004's lists
      expect(summary).toMatchObject({ exported: 4, folded: 6, rows: rows.length })
    }))
})

plain("the CLI's summary says how many entries were folded, and a has_duplicates column spares requests", {
  timeout: 60_000
}, async () => {
  const server = await TestServer.start({ seed: SEED, rateLimit: "off" })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-planner-"))
  try {
    const orders = path.join(dir, "orders.csv")
    fs.writeFileSync(orders, `order_id,has_duplicates\n${OrderData.echoOrderIds.map((id) => `${id},`).join("\n")}\n`)
    const run = await Cli.runInProcess(["--orders", orders, "--output", path.join(dir, "out.csv")], Cli.envFor(server))
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain("Folded 6 duplicates or reissues entries that repeated a certificate.")

    server.resetStats()
    fs.writeFileSync(
      orders,
      `order_id,has_duplicates\n${
        withDuplicates.slice(0, 4).map((id, i) => `${id},${i < 3 ? "false" : "true"}`).join("\n")
      }\n`
    )
    const hinted = await Cli.runInProcess(
      ["--orders", orders, "--output", path.join(dir, "hinted.csv"), "--quiet"],
      Cli.envFor(server)
    )
    expect(hinted.code, hinted.stderr).toBe(0)
    expect(server.stats().byRoute).toMatchObject({ subaccountOrder: 4, duplicates: 1, reissues: 4 })
    expect(hinted.stderr).not.toContain("Folded")
  } finally {
    await server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
