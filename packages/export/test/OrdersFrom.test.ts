/**
 * `--orders-from` end to end: the CLI lists the orders of a testkit account of 2,000 into `<output>.orders.txt` and
 * exports them; the files equal an `--orders <file>` run's byte for byte, also after a kill during the listing or
 * during the export and a `--resume`. The runs are in this process against the in-memory stand-in on the test clock;
 * the kill during the listing is a real SIGKILL of the built bin (the one kill of an `--orders-from` run that only a
 * process shows; `CliProcess.test.ts` kills an `--orders` export), the kill during the export is emulated
 * (`support/interrupt.ts`: the files as they were at that point).
 */
import { Account, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestContext from "effect/TestContext"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"
import * as Interrupt from "./support/interrupt.js"
import * as StandInRun from "./support/standIn.js"

const SEED = 5
// just big enough that its issued orders (1,009 of this seed's 2,000) take two list pages of 1,000: every run exports
// all of them, so the account is no bigger than that needs
const ACCOUNT = 2000
const account = { seed: SEED, rateLimit: "off" as const, account: ACCOUNT }

/** Everything these tests know of the listing file, in one place (its name, its temp file and its content). */
const Listing = {
  file: (output: string) => `${output}.orders.txt`,
  temp: (output: string) => `${output}.orders.txt.tmp`,
  /** The listing of exactly these orders, in this order, as list subaccount orders gives it (no duplicates hint). */
  of: (ids: ReadonlyArray<number>) => `order_id,has_duplicates\n${ids.map((id) => `${id},\n`).join("")}`
}

let dir: string
/** The issued orders, from the testkit's own data (not through the client), ascending. */
let issued: ReadonlyArray<number>
/** An `--orders <file>` run of exactly the issued ids: what every `--orders-from` run must equal. */
let reference: string

const listing = (output: string) => [
  "--orders-from",
  "subaccounts",
  "--filter",
  "status=issued",
  "--output",
  output,
  "--concurrency",
  "16",
  "--rate-limit",
  "off",
  "--quiet"
]

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-orders-from-"))
  reference = path.join(dir, "reference.csv")
  const ids = path.join(dir, "issued-ids.txt")
  const run = await Effect.runPromise(
    Effect.gen(function*() {
      const api = yield* StandInRun.api(account)
      issued = (yield* api.standIn.orderIds).filter((id) =>
        Account.summary("listSubaccountOrders", SEED, id).status === "issued"
      )
      fs.writeFileSync(ids, issued.map((id) => `${id}\n`).join(""))
      return yield* StandInRun.run(api, [
        "--orders",
        ids,
        "--output",
        reference,
        "--concurrency",
        "16",
        "--rate-limit",
        "off",
        "--quiet"
      ])
    }).pipe(Effect.provide(TestContext.TestContext))
  )
  expect(run.exitCode, run.stderrText).toBe(0)
}, 120_000)

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const expectSameAsReference = (output: string) => {
  // list subaccount orders says nothing of duplicates: the hint column is empty
  expect(fs.readFileSync(Listing.file(output), "utf8")).toBe(Listing.of(issued))
  expect(fs.existsSync(Listing.temp(output))).toBe(false)
  expectSameBytes(output, reference)
  expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
}

const checkpointEntries = (output: string): number => {
  try {
    return JSON.parse(fs.readFileSync(`${output}.checkpoint.json`, "utf8")).entries
  } catch {
    return 0 // not written yet
  }
}

describe("--orders-from", () => {
  it.effect(
    "lists and exports exactly the issued subaccount orders, one list request per 1000, as --orders would",
    () =>
      Effect.gen(function*() {
        // a mix of statuses, so that the filter has something to leave out
        expect(issued.length).toBeGreaterThan(1000)
        expect(issued.length).toBeLessThan(ACCOUNT)
        const output = path.join(dir, "listed.csv")
        const api = yield* StandInRun.api(account)
        const run = yield* StandInRun.run(api, listing(output))
        expect(run.exitCode, run.stderrText).toBe(0)
        expectSameAsReference(output)
        const stats = yield* api.standIn.stats
        expect(stats.byRoute.listSubaccountOrders).toBe(Math.ceil(issued.length / 1000))
        expect(stats.byRoute.listOrders).toBe(0)
        expect(stats.byRoute.subaccountOrder).toBe(issued.length)
      }),
    120_000
  )

  // A real process and server: the kill must land while the listing is being written, which only a SIGKILL of the
  // bin shows as it is (no finalizer runs); the resume after it runs in this process.
  it.effect("SIGKILL during the listing: --resume lists again and ends byte-identical", () =>
    Effect.gen(function*() {
      const output = path.join(dir, "killed-listing.csv")
      yield* Effect.promise(async () => {
        // the first list page takes 30 s, so that the kill surely lands before the listing is complete
        const stalled = await TestServer.start({
          ...account,
          script: [{
            orderId: "*",
            endpoint: "listSubaccountOrders",
            faults: [{ kind: "slowHeaders", delayMs: 30_000 }]
          }]
        })
        try {
          const running = Cli.start(listing(output), Cli.envFor(stalled))
          await Cli.waitForSize(Listing.temp(output), -1, 60_000, running)
          running.child.kill("SIGKILL")
          expect((await running.done).signal).toBe("SIGKILL")
        } finally {
          await stalled.close()
        }
      })
      expect(fs.existsSync(Listing.file(output))).toBe(false)

      const api = yield* StandInRun.api(account)
      const resumed = yield* StandInRun.run(api, [...listing(output), "--resume"])
      expect(resumed.exitCode, resumed.stderrText).toBe(0)
      expect((yield* api.standIn.stats).byRoute.listSubaccountOrders).toBe(Math.ceil(issued.length / 1000))
      expectSameAsReference(output)
    }), 120_000)

  it.effect(
    "killed during the export: --resume reuses the listing, never lists again, and ends byte-identical",
    () =>
      Effect.gen(function*() {
        const output = path.join(dir, "killed-export.csv")
        const slow = yield* StandInRun.api({ ...account, latency: { meanMs: 40, jitterMs: 20 } })
        // killed while rows past the checkpoint are on disk: the resume must drop them and write them again
        const kill = Interrupt.kill(
          Interrupt.until(() => checkpointEntries(output) >= 200 && Interrupt.aheadOfCheckpoint(output)),
          Cli.filesOf(listing(output))
        )
        const killed = yield* StandInRun.run(slow, listing(output), { interruptWhen: kill.interruptWhen })
        expect(killed.exitCode, killed.stderrText).toBe(130)
        yield* kill.restore
        expect(Interrupt.aheadOfCheckpoint(output)).toBe(true)
        const listed = fs.readFileSync(Listing.file(output), "utf8")

        // a resume with another filter would continue the first run's list: refused, nothing asked, nothing written
        const before = fs.readFileSync(output)
        const otherFilter = listing(output).map((arg) => arg === "status=issued" ? "status=pending" : arg)
        const other = yield* StandInRun.api(account)
        const refused = yield* StandInRun.run(other, [...otherFilter, "--resume"])
        expect(refused.exitCode, refused.stderrText).toBe(2)
        expect(refused.stderrText).toMatch(
          /^certcentral-export: cannot resume: the checkpoint was written with --orders-from subaccounts --filter status=issued; use the same options or start over\n$/
        )
        expect((yield* other.standIn.stats).requests).toBe(0)
        expect(fs.readFileSync(output).equals(before)).toBe(true)

        const api = yield* StandInRun.api(account)
        const resumed = yield* StandInRun.run(api, [...listing(output), "--resume"])
        expect(resumed.exitCode, resumed.stderrText).toBe(0)
        const stats = yield* api.standIn.stats
        expect(stats.byRoute.listSubaccountOrders).toBe(0)
        // only the orders after the checkpoint were fetched again
        expect(stats.byRoute.subaccountOrder).toBeLessThanOrEqual(issued.length - 200)
        expect(fs.readFileSync(Listing.file(output), "utf8")).toBe(listed)
        expectSameAsReference(output)
      }),
    180_000
  )

  describe("misuse: exit 2 with one line, nothing exported", () => {
    const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>, RegExp]> = [
      ["both sources", ["--orders", "ids.txt", "--orders-from", "account"], /either --orders or --orders-from/],
      ["neither", [], /--orders <path> .* or --orders-from account\|subaccounts/],
      ["--filter without --orders-from", ["--orders", "ids.txt", "--filter", "status=issued"], /--filter works with/],
      ["an unknown source", ["--orders-from", "everything"], /one of the following cases: account, subaccounts/],
      ["a filter without =", ["--orders-from", "account", "--filter", "status"], /--filter takes key=value/],
      ["a filter given twice", ["--orders-from", "account", "--filter", "status=a", "--filter", "status=b"], /twice/],
      [
        "a filter the server rejects",
        ["--orders-from", "account", "--filter", "colour=blue"],
        /CertCentral refused --filter colour=blue \(invalid_filter: Invalid filter: colour\)/
      ],
      [
        "a filter value the server rejects",
        ["--orders-from", "subaccounts", "--filter", "valid_till=soon"],
        /refused --filter valid_till=soon .*Invalid value for filter valid_till/
      ]
    ]
    for (const [name, args, message] of cases) {
      it.effect(name, () =>
        Effect.gen(function*() {
          const output = path.join(dir, `misuse-${name.replace(/\W+/g, "-")}.csv`)
          const api = yield* StandInRun.api(account)
          const run = yield* StandInRun.run(api, [...args, "--output", output])
          expect(run.exitCode).toBe(2)
          expect(run.stderrText).toMatch(message)
          expect(run.stderrText.trimEnd().split("\n")).toHaveLength(1)
          expect(fs.existsSync(output)).toBe(false)
          expect(fs.existsSync(Listing.file(output))).toBe(false)
          expect(fs.existsSync(Listing.temp(output))).toBe(false)
          expect((yield* api.standIn.stats).byRoute.subaccountOrder).toBe(0)
        }))
    }

    it.effect("a refused key during the listing is exit 3, nothing exported", () =>
      Effect.gen(function*() {
        const output = path.join(dir, "refused-key.csv")
        const api = yield* StandInRun.api(account)
        const run = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--quiet"], {
          env: { ...api.env, DIGICERT_API_KEY: "not-the-key" }
        })
        expect(run.exitCode).toBe(3)
        expect(run.stderrText).toMatch(/refused the key \(HTTP 401/)
        expect(fs.existsSync(output)).toBe(false)
        expect(fs.existsSync(Listing.file(output))).toBe(false)
      }))
  })
})
