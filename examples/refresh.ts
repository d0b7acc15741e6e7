/**
 * Keep a certificate inventory current: the first run exports every order of the account to `out/inventory.csv`
 * (with the refresh record beside it); every later run fetches only what can have changed, replaces the files with
 * exactly what a full export would write now, and lists what changed in `out/inventory.csv.changes.ndjson`.
 *
 * - With `DIGICERT_API_KEY` (and optionally `DIGICERT_BASE_URL`): the real API; run it daily.
 * - Without: a rehearsal against the testkit's `AccountHistory`, in memory, on a simulated clock: an export at noon,
 *   then a refresh a day later, after some orders were revoked, reissued, given a duplicate, had a reissue rejected,
 *   were placed or disappeared.
 *
 *   pnpm example:refresh
 */
import { CertCentralClient } from "@certcentral/core"
import { Refresh } from "@certcentral/export"
import { Account, AccountHistory, StandIn } from "@certcentral/testkit"
import { HttpClient } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Redacted, TestClock, TestContext } from "effect"
import * as fs from "node:fs"

const OUT = "out/inventory.csv"

const refresh = Effect.gen(function*() {
  fs.mkdirSync("out", { recursive: true })
  const summary = yield* Refresh.toFiles({ output: OUT, listing: { from: "account" }, source: "--orders-from account" })
  yield* Console.error(
    summary.full
      ? `no earlier export: exported all ${summary.listed} orders (${summary.rows} certificates) to ${OUT}`
      : `${summary.listed} orders: ${summary.fetched} fetched, ${summary.duplicatesOnly} duplicates lists, ` +
        `${summary.copied} copied, ${summary.gone} gone; ${summary.changes.added} certificates added, ` +
        `${summary.changes.removed} removed, ${summary.changes.changed} changed (${summary.changesFile})`
  )
})

/** The testkit's in-memory stand-in serving the history, as of the simulated clock. */
const rehearsal = (history: AccountHistory.History) =>
  Layer.unwrapEffect(
    Effect.map(StandIn.make({ history, rateLimit: "off" }), (standIn) =>
      CertCentralClient.layer({ apiKey: Redacted.make(standIn.apiKey), baseUrl: standIn.baseUrl, rateLimit: "off" })
        .pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, standIn.client))
        ))
  )

const noon = Date.UTC(2024, 5, 1, 12)
const ids = Account.generatedIds(500)
const history = AccountHistory.make(7, ids, [
  { _tag: "Revoked", orderId: ids[3]!, at: noon + 3_600_000 },
  { _tag: "Reissued", orderId: ids[10]!, at: noon + 7_200_000 },
  { _tag: "Duplicated", orderId: ids[20]!, at: noon + 10_800_000 },
  { _tag: "ReissueRejected", orderId: ids[30]!, at: noon + 14_400_000 },
  { _tag: "Placed", orderId: 9_000_001, at: noon + 18_000_000 },
  { _tag: "Removed", orderId: ids[40]!, at: noon + 21_600_000 }
])

const key = process.env["DIGICERT_API_KEY"]
const main = key !== undefined && key !== ""
  ? refresh.pipe(
    Effect.provide(CertCentralClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
    Effect.provide(NodeFileSystem.layer)
  )
  : Effect.gen(function*() {
    // a fresh rehearsal each time: the first run is a full export
    for (const suffix of ["", ".checkpoint.json", ".errors.ndjson", ".refresh.json"]) {
      fs.rmSync(`${OUT}${suffix}`, { force: true })
    }
    yield* Console.error("no DIGICERT_API_KEY: rehearsing with the testkit's AccountHistory on a simulated clock")
    yield* TestClock.setTime(noon)
    yield* refresh
    yield* TestClock.setTime(noon + 86_400_000)
    yield* refresh
  }).pipe(
    Effect.provide(Layer.mergeAll(rehearsal(history), NodeFileSystem.layer)),
    // the simulated clock: the rehearsal's day passes at once
    Effect.provide(TestContext.TestContext)
  )

NodeRuntime.runMain(main)
