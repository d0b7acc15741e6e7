/**
 * Requests of a refresh against a full export's: an account of 3,000 listed orders (one in ten with duplicates),
 * exported at t0; a day later about 2% of the orders changed (revoked, reissued, a rejected reissue, a new duplicate,
 * placed, gone). Runs in this process against the testkit's `AccountHistory` through an in-memory `HttpClient`
 * (the stand-in server does not serve the status change list yet), so it counts requests, not time. The refreshed
 * files must equal a full export's at t1 byte for byte.
 */
import { CertCentralClient } from "@certcentral/core"
import { Export, OrderListing, Refresh } from "@certcentral/export"
import { Account, AccountHistory, OrderData } from "@certcentral/testkit"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Clock, Effect, Layer, Redacted, TestClock, TestContext } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Row } from "./harness.js"
import { outputFile, round } from "./harness.js"

export interface Options {
  readonly orders: number
  readonly seed: number
}

export const defaults: Options = { orders: 3000, seed: 41 }

const HOUR = 3_600_000

/** `orders` generated ids of which one in ten has duplicates. */
const accountIds = (o: Options): ReadonlyArray<number> => {
  const withDuplicates: Array<number> = []
  const without: Array<number> = []
  for (const id of Account.generatedIds(o.orders * 10)) {
    const has = OrderData.allDuplicates(o.seed, id).length > 0
    if (has && withDuplicates.length < o.orders / 10) withDuplicates.push(id)
    if (!has && without.length < o.orders - o.orders / 10) without.push(id)
  }
  return [...withDuplicates, ...without].sort((a, b) => a - b)
}

export const run = async (o: Options = defaults) => {
  const ids = accountIds(o)
  const t0 = Date.UTC(2024, 5, 1, 12)
  const t1 = t0 + 24 * HOUR
  const issued = ids.filter((id) =>
    OrderData.subaccountOrder(o.seed, id, { showArchived: false, includeValidationStatus: false }).status === "issued"
  )
  const dups = new Set(ids.filter((id) => OrderData.allDuplicates(o.seed, id).length > 0))
  const plain = issued.filter((id) => !dups.has(id))
  const withSome = issued.filter((id) => dups.has(id))
  const changedCount = Math.round(o.orders * 0.02)
  const kinds = ["Revoked", "Reissued", "ReissueRejected", "Duplicated", "Removed"] as const
  const events: Array<AccountHistory.Event> = []
  for (let i = 0; i < changedCount - 10; i++) {
    const kind = kinds[i % kinds.length]!
    const orderId = kind === "Duplicated" ? withSome[i]! : plain[i]!
    events.push({ _tag: kind, orderId, at: t0 + HOUR + i * 60_000 })
  }
  for (let i = 0; i < 10; i++) events.push({ _tag: "Placed", orderId: 9_000_001 + i, at: t0 + 2 * HOUR + i })
  const history = AccountHistory.make(o.seed, ids, events)

  let requests = 0
  const byRoute: Record<string, number> = {}
  const client = HttpClient.make((request, url) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      requests++
      const route = url.pathname.replace(/\/\d+/g, "/{id}")
      byRoute[route] = (byRoute[route] ?? 0) + 1
      const answer = AccountHistory.answer(history, url.pathname.slice("/services/v2".length), url.searchParams, now)
      return HttpClientResponse.fromWeb(
        request,
        new Response(answer.body, { status: answer.status, headers: { "content-type": "application/json" } })
      )
    })
  )
  const layer = CertCentralClient.layer({
    apiKey: Redacted.make("k3y-of-the-refresh-bench-0123456789"),
    baseUrl: "http://certcentral.test/services/v2",
    rateLimit: "off"
  }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
    Layer.orDie,
    Layer.merge(NodeFileSystem.layer)
  )
  const output = outputFile("refresh.csv")
  const reference = outputFile("refresh-reference.csv")
  const source = "--orders-from account"
  const program = Effect.gen(function*() {
    yield* TestClock.setTime(t0)
    yield* Refresh.toFiles({ output, listing: { from: "account" }, source, concurrency: 16 })
    const full = requests
    yield* TestClock.setTime(t1)
    requests = 0
    for (const key of Object.keys(byRoute)) delete byRoute[key]
    const summary = yield* Refresh.toFiles({ output, listing: { from: "account" }, source, concurrency: 16 })
    const refresh = requests
    const refreshRoutes = { ...byRoute }
    yield* Export.toFiles(OrderListing.entries({ from: "account" }), { output: reference, source, concurrency: 16 })
    return { full, refresh, summary, refreshRoutes }
  })
  const { full, refresh, refreshRoutes, summary } = await Effect.runPromise(
    program.pipe(Effect.provide(layer), Effect.provide(TestContext.TestContext))
  )
  const identical = fs.readFileSync(output).equals(fs.readFileSync(reference)) &&
    fs.readFileSync(`${output}.errors.ndjson`).equals(fs.readFileSync(`${reference}.errors.ndjson`))
  const changedOrders = new Set(events.map((e) => e.orderId)).size
  const floor = Math.ceil(summary.listed / 1000) + summary.statusRequests + 3 * summary.fetched +
    ids.filter((id) => dups.has(id)).length
  const share = refresh / full
  console.log(
    `  ${o.orders} orders, ${changedOrders} changed: full export ${full} requests, refresh ${refresh} ` +
      `(${round(share * 100, 1)}%; floor ${floor}); fetched ${summary.fetched}, duplicates only ` +
      `${summary.duplicatesOnly}, copied ${summary.copied}; identical files: ${identical}`
  )
  fs.rmSync(path.dirname(output), { recursive: true, force: true })
  const results = { orders: o.orders, changedOrders, full, refresh, floor, share, summary, refreshRoutes, identical }
  const rows: ReadonlyArray<Row> = [{
    benchmark: "refresh",
    metric: `requests of a refresh / a full export's (${o.orders} orders, 1 in 10 with duplicates, 2% changed)`,
    value: `${round(share * 100, 1)}% (${refresh} of ${full}; floor ${floor})`,
    goal: "at most 10%, files identical",
    met: share <= 0.1 && identical
  }]
  return { results, rows }
}
