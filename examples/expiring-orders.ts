/**
 * No id list needed: list the issued orders whose certificate expires within 30 days (list subaccount orders,
 * filtered, every page through the client's rate limiter), then export every certificate of those orders (the
 * order's own, duplicates, reissues) to `out/expiring.csv`.
 *
 * - Without `DIGICERT_API_KEY`: starts the testkit's stand-in server in-process with 3,000 orders, and takes the day
 *   its generated data is relative to (`Account.referenceDay`) as today.
 * - With `DIGICERT_API_KEY` (and optionally `DIGICERT_BASE_URL`): the real API, today. `--from account` lists the
 *   account's own orders instead of its subaccounts'.
 *
 *   pnpm example:expiring
 *   DIGICERT_API_KEY=... pnpm example:expiring --from account
 */
import { CertCentralClient } from "@certcentral/core"
import { Export, OrderListing, RowEncoder } from "@certcentral/export"
import { Account, TestServer } from "@certcentral/testkit"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Chunk, Console, Effect, Layer, Redacted, Stream } from "effect"
import * as fs from "node:fs"

const OUT = "out/expiring.csv"
const DAYS = 30

const addDays = (day: string, days: number) => new Date(Date.parse(day) + days * 86_400_000).toISOString().slice(0, 10)

const program = (today: string, from: OrderListing.Source) =>
  Effect.gen(function*() {
    const until = addDays(today, DAYS)
    // The server narrows by status and end date; "issued" also matches orders that have expired since, so the
    // listed certificate's own end date drops those here.
    const listing = OrderListing.pages({ from, filters: { status: "issued", valid_till: `<=${until}` } }).pipe(
      Stream.tap((page) =>
        Console.error(`listed page ${page.index + 1}: ${page.listed} of ${page.total} orders ending by ${until}`)
      ),
      Stream.mapConcat((page) => page.orders),
      Stream.filter((order) => {
        const end = order.certificate?.valid_till
        return end === undefined || end.epochMillis >= Date.parse(today)
      }),
      // with the listing's has_duplicates, orders without duplicates get no duplicates request
      Stream.map((order) => ({ id: order.id, hasDuplicates: order.has_duplicates }))
    )
    const ids = Chunk.toArray(yield* Stream.runCollect(listing))
    yield* Console.error(`${ids.length} issued orders expire between ${today} and ${until}; exporting them`)

    const rows = Chunk.toArray(yield* Stream.runCollect(Export.rows(Stream.fromIterable(ids))))
    fs.mkdirSync("out", { recursive: true })
    fs.writeFileSync(OUT, RowEncoder.csv.header + RowEncoder.csv.encode(rows))
    const stats = yield* Effect.flatMap(CertCentralClient.CertCentralClient, (client) => client.stats)
    yield* Console.error(
      `${rows.length} certificates of ${ids.length} orders written to ${OUT}; ` +
        `${stats.requests} requests, ${stats.retries} retries, ${stats.rateLimited} 429s`
    )
  })

const argv = process.argv.slice(2)
const fromFlag = argv[argv.indexOf("--from") + 1]
const from: OrderListing.Source = argv.includes("--from") && fromFlag === "account" ? "account" : "subaccounts"
const key = process.env["DIGICERT_API_KEY"]

const main = key !== undefined && key !== ""
  ? program(new Date().toISOString().slice(0, 10), from).pipe(
    Effect.provide(CertCentralClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici)))
  )
  : Effect.gen(function*() {
    const server = yield* TestServer.TestServer
    yield* Console.error(
      `no DIGICERT_API_KEY: using the testkit server at ${server.baseUrl}, today = ${Account.referenceDay}`
    )
    yield* program(Account.referenceDay, from).pipe(
      Effect.provide(
        CertCentralClient.layer({
          apiKey: Redacted.make(server.apiKey),
          baseUrl: server.baseUrl,
          rateLimit: [{ limit: 100, window: "2 seconds" }]
        }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      )
    )
  }).pipe(Effect.provide(TestServer.layer({ seed: 5, account: 3000, rateLimit: [{ limit: 100, windowMs: 2_000 }] })))

NodeRuntime.runMain(main)
