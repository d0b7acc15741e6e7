/**
 * Requests of a refresh against a full export's: an account of 3,000 listed orders (one in ten with duplicates),
 * exported; then about 2% of the orders change (revoked, reissued, a rejected reissue, a new duplicate, placed, gone)
 * and it is refreshed. Against the testkit's `TestServer` serving an `AccountHistory` (listings, per-order routes and
 * the status change list) over node:http, through undici, with rate limits off: it counts requests, not time. The
 * refreshed files must equal a full export's at that moment byte for byte.
 */
import { CertCentralClient } from "@certcentral/core"
import { Export, OrderListing, Refresh } from "@certcentral/export"
import { Account, AccountHistory, OrderData, TestServer } from "@certcentral/testkit"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Row } from "./harness.js"
import { outputFile, round, sleep } from "./harness.js"

export interface Options {
  readonly orders: number
  readonly seed: number
}

export const defaults: Options = { orders: 3000, seed: 41 }

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

/** The changes of about 2% of the orders, one a millisecond from `at`: revoked, reissued, ..., new, gone. */
const changesFrom = (o: Options, ids: ReadonlyArray<number>, at: number): Array<AccountHistory.Event> => {
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
    events.push({ _tag: kind, orderId, at: at + i })
  }
  for (let i = 0; i < 10; i++) events.push({ _tag: "Placed", orderId: 9_000_001 + i, at: at + changedCount + i })
  return events
}

/** The CertCentral client of a stand-in server, over undici, DigiCert's limits off (requests are counted, not time). */
const clientOf = (server: TestServer.Handle) =>
  CertCentralClient.layer({ apiKey: Redacted.make(server.apiKey), baseUrl: server.baseUrl, rateLimit: "off" }).pipe(
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.orDie,
    Layer.merge(NodeFileSystem.layer)
  )

/**
 * Against two real stand-in servers (node:http) on the wall clock: the first serves the account as it is, for the
 * export; the second serves the same history with the changes made just after that export ended (so before them it
 * is the same account), for the refresh and then for a full export to compare with.
 */
export const run = async (o: Options = defaults) => {
  const ids = accountIds(o)
  const dups = new Set(ids.filter((id) => OrderData.allDuplicates(o.seed, id).length > 0))
  const output = outputFile("refresh.csv")
  const reference = outputFile("refresh-reference.csv")
  const source = "--orders-from account"
  const options = { listing: { from: "account" as const }, source, concurrency: 16 }

  const before = await TestServer.start({ history: AccountHistory.make(o.seed, ids), rateLimit: "off" })
  const first = await Effect.runPromise(
    Refresh.toFiles({ output, ...options }).pipe(Effect.provide(clientOf(before)))
  ).finally(() => before.close())
  const full = before.stats().requests
  const events = changesFrom(o, ids, Date.now() + 1)
  const after = await TestServer.start({ history: AccountHistory.make(o.seed, ids, events), rateLimit: "off" })
  try {
    await sleep(events.length + 50)
    const summary = await Effect.runPromise(
      Refresh.toFiles({ output, ...options }).pipe(Effect.provide(clientOf(after)))
    )
    const stats = after.stats()
    const refresh = stats.requests
    const refreshRoutes = stats.byRoute
    await Effect.runPromise(
      Export.toFiles(OrderListing.entries({ from: "account" }), { output: reference, source, concurrency: 16 }).pipe(
        Effect.provide(clientOf(after))
      )
    )
    const identical = fs.readFileSync(output).equals(fs.readFileSync(reference)) &&
      fs.readFileSync(`${output}.errors.ndjson`).equals(fs.readFileSync(`${reference}.errors.ndjson`))
    const changedOrders = new Set(events.map((e) => e.orderId)).size
    const floor = Math.ceil(summary.listed / 1000) + summary.statusRequests + 3 * summary.fetched +
      ids.filter((id) => dups.has(id)).length
    const share = refresh / full
    console.log(
      `  ${o.orders} orders (${first.listed} listed), ${changedOrders} changed: full export ${full} requests, ` +
        `refresh ${refresh} (${round(share * 100, 1)}%; floor ${floor}); fetched ${summary.fetched}, duplicates ` +
        `only ${summary.duplicatesOnly}, copied ${summary.copied}, gone ${summary.gone}; changes +${summary.changes.added} ` +
        `-${summary.changes.removed} ~${summary.changes.changed}; identical files: ${identical}`
    )
    fs.rmSync(path.dirname(output), { recursive: true, force: true })
    const results = { orders: o.orders, changedOrders, full, refresh, floor, share, summary, refreshRoutes, identical }
    const rows: ReadonlyArray<Row> = [{
      benchmark: "refresh",
      metric: `requests of a refresh / a full export's (${o.orders} orders, 1 in 10 with duplicates, 2% changed; ` +
        "TestServer with a history)",
      value: `${round(share * 100, 1)}% (${refresh} of ${full}; floor ${floor})`,
      goal: "at most 10%, files identical",
      met: share <= 0.1 && identical
    }]
    return { results, rows }
  } finally {
    await after.close()
  }
}
