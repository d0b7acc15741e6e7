/**
 * `certcentral-export --refresh` as a user runs it, in this process against the in-memory stand-in serving a changing
 * account (`StandIn.Options.history`) on the test clock: an export at t0, a refresh later, and a full export at that
 * moment to compare with byte for byte.
 */
import { Account, AccountHistory, OrderData as TestOrderData, type StandIn } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expectSameBytes } from "./support/files.js"
import * as StandInRun from "./support/standIn.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const t0 = Date.UTC(2024, 5, 1, 12)
const t1 = t0 + 2 * DAY
// the first 30 generated orders of this seed hold the orders every kind of change below is made on (five issued
// without duplicates, two with), orders of other statuses, and orders left to copy
const SEED = 29
const ids = Account.generatedIds(30)

const baseOrder = (id: number) =>
  TestOrderData.subaccountOrder(SEED, id, { showArchived: false, includeValidationStatus: false })
const issued = ids.filter((id) => baseOrder(id).status === "issued" && baseOrder(id).certificate !== undefined)
const withDuplicates = issued.filter((id) => TestOrderData.allDuplicates(SEED, id).some((d) => d.archived === "0"))
const plain = issued.filter((id) => TestOrderData.allDuplicates(SEED, id).length === 0)
const primary = (id: number) => (baseOrder(id).certificate as { readonly id: number }).id

/** One of every kind of change between t0 and t1. */
const kinds = {
  revoked: plain[0]!,
  reissued: plain[1]!,
  duplicated: withDuplicates[0]!,
  rejectedReissue: plain[2]!,
  placed: 999_001,
  removed: plain[3]!,
  recovered: plain[4]!,
  nowFails: withDuplicates[1]!
}

const history = AccountHistory.make(SEED, ids, [
  { _tag: "Failing", orderId: kinds.recovered, at: 0, until: t0 + HOUR },
  { _tag: "Revoked", orderId: kinds.revoked, at: t0 + 2 * HOUR },
  { _tag: "Reissued", orderId: kinds.reissued, at: t0 + 3 * HOUR },
  { _tag: "Duplicated", orderId: kinds.duplicated, at: t0 + 4 * HOUR },
  { _tag: "ReissueRejected", orderId: kinds.rejectedReissue, at: t0 + 5 * HOUR },
  { _tag: "Placed", orderId: kinds.placed, at: t0 + 6 * HOUR },
  { _tag: "Removed", orderId: kinds.removed, at: t0 + 7 * HOUR },
  { _tag: "Failing", orderId: kinds.nowFails, at: t0 + 8 * HOUR }
])

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-refresh-cli-"))
const lines = (file: string) =>
  fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
const bytes = (file: string) => fs.readFileSync(file)

/** A stand-in serving the history, and `certcentral-export --orders-from account --output <output> ...args`. */
const setup = (historyOf: AccountHistory.History = history, options: StandIn.Options = {}) =>
  Effect.map(StandInRun.api({ ...options, history: historyOf }), (api) => ({
    api,
    cli: (output: string, ...args: ReadonlyArray<string>) =>
      StandInRun.run(api, ["--orders-from", "account", "--output", output, "--quiet", ...args])
  }))

describe("certcentral-export --refresh", () => {
  it.effect("after every kind of change, output and errors equal a full export's at that moment; changes exact", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "inventory.csv")
      const reference = path.join(dir, "reference.csv")
      const { api, cli } = yield* setup()
      yield* TestClock.setTime(t0)
      expect((yield* cli(output)).exitCode).toBe(1) // one order fails at t0
      expect(fs.existsSync(`${output}.refresh.json`)).toBe(true)

      yield* TestClock.setTime(t1)
      yield* api.standIn.resetStats
      const refreshed = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--refresh"])
      expect(refreshed.exitCode).toBe(1) // the order that fails now
      const stats = yield* api.standIn.stats
      expect((yield* cli(reference)).exitCode).toBe(1)
      expectSameBytes(output, reference)
      expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
      expectSameBytes(`${output}.orders.txt`, `${reference}.orders.txt`)

      // fetched whole: the six orders that can have changed, nothing else
      expect(stats.byRoute.listOrders).toBe(1)
      expect(stats.byRoute.listStatusChanges).toBe(1)
      expect(stats.byRoute.subaccountOrder).toBe(6)
      expect(refreshed.stderr[0]).toMatch(/^Listing the orders \(the earlier export listed them at 2024-06-01T12:00/)
      expect(refreshed.stderr[1]).toMatch(/^\d+ orders listed; asking what changed since \(1 status change request\)$/)
      // planned: 5 whole; the order that now fails is planned for its duplicates list, then fetched whole after all
      expect(refreshed.stderr[2]).toMatch(/^Fetching 5 orders and \d+ duplicates lists; copying \d+ orders$/)
      expect(refreshed.stderr.at(-1)).toMatch(
        /^Refreshed .*inventory\.csv: \d+ listed orders, 6 fetched, \d+ duplicates lists, \d+ copied, 1 gone \(1 status change request\); \d+ rows added, \d+ removed, 1 changed \(.*changes\.ndjson\), 1 order failed/
      )

      const changes = lines(`${output}.changes.ndjson`)
      const of = (id: number) => changes.filter((c) => c.order_id === id)
      expect(of(kinds.revoked)).toEqual([
        { change: "changed", order_id: kinds.revoked, source: "order", certificate_id: primary(kinds.revoked) }
      ])
      const reissue = AccountHistory.subaccountOrderAt(history, kinds.reissued, t1).certificate as { id: number }
      expect(of(kinds.reissued)).toEqual([
        { change: "added", order_id: kinds.reissued, source: "order", certificate_id: reissue.id },
        { change: "removed", order_id: kinds.reissued, source: "order", certificate_id: primary(kinds.reissued) }
      ])
      expect(of(kinds.duplicated)).toEqual([{
        change: "added",
        order_id: kinds.duplicated,
        source: "duplicate",
        certificate_id: AccountHistory.duplicatesAt(history, kinds.duplicated, t1).at(-1)!.id
      }])
      expect(of(kinds.rejectedReissue)).toEqual([{
        change: "added",
        order_id: kinds.rejectedReissue,
        source: "reissue",
        certificate_id: AccountHistory.reissuesAt(history, kinds.rejectedReissue, t1).at(-1)!.id
      }])
      const placed = AccountHistory.subaccountOrderAt(history, kinds.placed, t1).certificate as { id: number }
      expect(of(kinds.placed)[0]).toEqual({
        change: "added",
        order_id: kinds.placed,
        source: "order",
        certificate_id: placed.id
      })
      expect(of(kinds.placed).every((c) => c.change === "added")).toBe(true)
      expect(of(kinds.removed)[0]).toEqual({
        change: "removed",
        order_id: kinds.removed,
        source: "order",
        certificate_id: primary(kinds.removed)
      })
      expect(of(kinds.removed).every((c) => c.change === "removed")).toBe(true)
      expect(of(kinds.recovered)[0]).toEqual({
        change: "added",
        order_id: kinds.recovered,
        source: "order",
        certificate_id: primary(kinds.recovered)
      })
      expect(of(kinds.nowFails).length).toBeGreaterThan(1)
      expect(of(kinds.nowFails).every((c) => c.change === "removed")).toBe(true)
      const touched = new Set<number>(Object.values(kinds))
      expect(changes.filter((c) => !touched.has(c.order_id))).toEqual([])
      expect(lines(`${output}.errors.ndjson`).map((e) => e.order_id)).toEqual([kinds.nowFails])

      // nothing changed since: the same files again, no change, only the listing, status changes and duplicates lists
      yield* api.standIn.resetStats
      expect((yield* cli(output, "--refresh")).exitCode).toBe(1)
      expectSameBytes(output, reference)
      expect(fs.readFileSync(`${output}.changes.ndjson`, "utf8")).toBe("")
      expect((yield* api.standIn.stats).byRoute.subaccountOrder).toBe(1) // the failing order, asked again
    }))

  it.effect("refuses with exit 2 and one line: --orders, --resume, no --orders-from, other flags, an edited file", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "inventory.csv")
      const { api, cli } = yield* setup()
      yield* TestClock.setTime(t0)
      expect((yield* cli(output)).exitCode).toBe(1)
      const before = bytes(output)
      const ids = path.join(dir, "ids.txt")
      fs.writeFileSync(ids, "1\n")
      yield* TestClock.setTime(t1)
      yield* api.standIn.resetStats

      const refused = (args: ReadonlyArray<string>) =>
        Effect.map(StandInRun.run(api, args), (r) => {
          expect(r.exitCode).toBe(2)
          expect(r.stderr).toHaveLength(1)
          return r.stderr[0]!
        })
      expect(yield* refused(["--orders", ids, "--output", output, "--refresh"])).toMatch(/--orders-from only/)
      expect(yield* refused(["--output", output, "--refresh"])).toMatch(/needs --orders-from/)
      expect(yield* refused(["--orders-from", "account", "--output", output, "--refresh", "--resume"])).toMatch(
        /run again with the same command/
      )
      expect(yield* refused(["--orders-from", "account", "--output", output, "--refresh", "--dry-run"])).toMatch(
        /--refresh and --dry-run do not go together/
      )
      expect(yield* refused(["--orders-from", "account", "--output", output, "--max-age", "7d"])).toMatch(
        /--max-age goes with --refresh/
      )
      expect(yield* refused(["--orders-from", "account", "--output", output, "--refresh", "--include", "order"]))
        .toMatch(/was made with --include order,duplicates,reissues; refresh with the same options/)
      expect(
        yield* refused(["--orders-from", "account", "--filter", "status=issued", "--output", output, "--refresh"])
      ).toMatch(/was made with --orders-from account; refresh with the same options/)
      expect((yield* api.standIn.stats).requests).toBe(0)

      // edited in a spreadsheet: never copied from
      fs.writeFileSync(output, Buffer.concat([before, Buffer.from("1,order,2\r\n")]))
      expect(yield* refused(["--orders-from", "account", "--output", output, "--refresh"])).toMatch(
        /inventory\.csv has \d+ bytes, not the \d+ its export wrote \(edited or replaced\); run a full export/
      )
      fs.writeFileSync(output, Buffer.from(before.toString("latin1").replace("issued", "ISSUED"), "latin1"))
      expect(yield* refused(["--orders-from", "account", "--output", output, "--refresh"])).toMatch(
        /is not the file its export wrote/
      )
    }))

  it.effect("with no earlier export it exports every order and says so; a later refresh copies from it", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "inventory.ndjson")
      const reference = path.join(dir, "reference.ndjson")
      const { api, cli } = yield* setup()
      yield* TestClock.setTime(t0)
      const first = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--refresh"])
      expect(first.exitCode).toBe(1)
      expect(first.stderr.at(-1)).toMatch(/^No earlier export to refresh at .*: exported all \d+ listed orders/)
      expect((yield* cli(reference)).exitCode).toBe(1)
      expectSameBytes(output, reference)
      expect(lines(`${output}.changes.ndjson`).every((c) => c.change === "added")).toBe(true)
      yield* TestClock.setTime(t1)
      yield* api.standIn.resetStats
      expect((yield* cli(output, "--refresh")).exitCode).toBe(1)
      expect((yield* api.standIn.stats).byRoute.subaccountOrder).toBe(6)
    }))

  it.effect("the 7-day boundary: an export 10 days old is refreshed through date-filter windows and one up to now", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "inventory.csv")
      const reference = path.join(dir, "reference.csv")
      const later = t0 + 10 * DAY
      // the changes happen on day 8, past one request's reach; the order revoked then reissued on day 9 is left out
      // of its date window (DigiCert omits orders that changed again) and found by the frame up to now
      const oldHistory = AccountHistory.make(SEED, ids, [
        { _tag: "Revoked", orderId: kinds.revoked, at: t0 + 8 * DAY },
        { _tag: "ReissueRejected", orderId: kinds.rejectedReissue, at: t0 + 8 * DAY },
        { _tag: "Duplicated", orderId: kinds.duplicated, at: t0 + 8 * DAY },
        { _tag: "ReissueRejected", orderId: kinds.reissued, at: t0 + 3 * DAY },
        { _tag: "ReissueRejected", orderId: kinds.reissued, at: t0 + 9 * DAY + 12 * HOUR }
      ])
      const { api, cli } = yield* setup(oldHistory)
      yield* TestClock.setTime(t0)
      yield* cli(output)
      yield* TestClock.setTime(later)
      yield* api.standIn.resetStats
      const refreshed = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--refresh"])
      const stats = yield* api.standIn.stats
      expect(refreshed.stderr.at(-1)).toMatch(/^Refreshed/)
      expect(stats.byRoute.listStatusChanges).toBe(2) // a 7-day date-filter window, then one up to now
      expect(stats.byRoute.subaccountOrder).toBe(3) // revoked, a rejected reissue on each of two orders
      expect(refreshed.exitCode).toBe(0)
      yield* cli(reference)
      expectSameBytes(output, reference)
      expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)

      // --max-age: an export older than that is exported again in full
      yield* api.standIn.resetStats
      const aged = yield* StandInRun.run(api, [
        "--orders-from",
        "account",
        "--output",
        output,
        "--refresh",
        "--max-age",
        "7d"
      ])
      expect(aged.exitCode).toBe(0)
      expect(aged.stderr.at(-1)).toMatch(/^Refreshed/)
      yield* TestClock.adjust(8 * DAY)
      const full = yield* StandInRun.run(api, [
        "--orders-from",
        "account",
        "--output",
        output,
        "--refresh",
        "--max-age",
        "7d"
      ])
      expect(full.stderr.at(-1)).toMatch(/^No earlier export to refresh .* older than --max-age/)
    }))

  it.effect("an interrupted refresh leaves the earlier files intact; the same command again ends identical", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "inventory.csv")
      const reference = path.join(dir, "reference.csv")
      // answers take 50 ms of the test clock, so that the run is still under way when it is interrupted
      const { api, cli } = yield* setup(history, { latency: { meanMs: 50 } })
      yield* TestClock.setTime(t0)
      yield* cli(output)
      const earlier = [output, `${output}.errors.ndjson`, `${output}.checkpoint.json`, `${output}.refresh.json`]
        .map((f) => [f, bytes(f)] as const)
      yield* TestClock.setTime(t1)
      yield* api.standIn.resetStats
      const interrupted = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--refresh"], {
        interruptWhen: Effect.gen(function*() {
          while ((yield* api.standIn.stats).byRoute.subaccountOrder < 3) yield* Effect.sleep("50 millis")
        })
      })
      expect(interrupted.exitCode).toBe(130)
      expect(interrupted.stderr.at(-1)).toBe("Interrupted; the earlier files are intact: run the same command again")
      for (const [file, content] of earlier) expect(bytes(file).equals(content)).toBe(true)
      expect(fs.readdirSync(dir).filter((f) => f.endsWith(".refresh.tmp"))).toEqual([])

      expect((yield* cli(output, "--refresh")).exitCode).toBe(1)
      yield* cli(reference)
      expectSameBytes(output, reference)
      expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
    }))

  it.effect("an --orders-from export interrupted and resumed leaves the record a later refresh copies from", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "inventory.csv")
      const reference = path.join(dir, "reference.csv")
      // answers take 50 ms of the test clock, so that the run is still under way when it is interrupted
      const { api, cli } = yield* setup(history, { latency: { meanMs: 50 } })
      yield* TestClock.setTime(t0)
      const interrupted = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--quiet"], {
        interruptWhen: Effect.gen(function*() {
          while ((yield* api.standIn.stats).byRoute.subaccountOrder < 10) yield* Effect.sleep("50 millis")
        })
      })
      expect(interrupted.exitCode).toBe(130)
      // the listing's record is kept, pending: never copied from while the export is unfinished
      expect(JSON.parse(fs.readFileSync(`${output}.refresh.json`, "utf8")).outputDigest).toBe("")
      expect((yield* cli(output, "--resume")).exitCode).toBe(1)
      const record = JSON.parse(fs.readFileSync(`${output}.refresh.json`, "utf8"))
      expect(record.outputDigest).toMatch(/^[0-9a-f]{64}$/)
      expect(record.listedAt).toBeLessThanOrEqual(t0 + 1000)

      yield* TestClock.setTime(t1)
      yield* api.standIn.resetStats
      expect((yield* cli(output, "--refresh")).exitCode).toBe(1)
      expect((yield* api.standIn.stats).byRoute.subaccountOrder).toBe(6)
      yield* cli(reference)
      expectSameBytes(output, reference)
      expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)

      // a dry run beside the complete export leaves its record: the next refresh still copies from it
      const kept = fs.readFileSync(`${output}.refresh.json`)
      expect((yield* cli(output, "--dry-run")).exitCode).toBe(0)
      expect(fs.readFileSync(`${output}.refresh.json`).equals(kept)).toBe(true)
      yield* api.standIn.resetStats
      expect((yield* cli(output, "--refresh")).exitCode).toBe(1)
      expect((yield* api.standIn.stats).byRoute.subaccountOrder).toBe(1)
    }))

  it.effect("a refused key is exit 3 and an outage past --max-outage exit 4, the earlier files intact", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "inventory.csv")
      const { api, cli } = yield* setup()
      yield* TestClock.setTime(t0)
      yield* cli(output)
      const before = bytes(output)
      yield* TestClock.setTime(t1)
      const refusedKey = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--refresh"], {
        env: { ...api.env, DIGICERT_API_KEY: "not-the-key-0123456789" }
      })
      expect(refusedKey.exitCode).toBe(3)
      expect(refusedKey.stderr.at(-1)).toMatch(/refused the key/)

      yield* api.standIn.script({
        orderId: "*",
        endpoint: "listStatusChanges",
        faults: Array.from({ length: 200 }, () => ({ kind: "serverError", status: 503 }) as const)
      })
      const outage = yield* StandInRun.run(api, [
        "--orders-from",
        "account",
        "--output",
        output,
        "--refresh",
        "--max-outage",
        "30s"
      ], { step: "1 second" })
      expect(outage.exitCode).toBe(4)
      expect(outage.stderr.at(-1)).toMatch(/the earlier files are intact: run the same command again$/)
      expect(bytes(output).equals(before)).toBe(true)
    }))
})
