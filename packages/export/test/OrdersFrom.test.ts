/**
 * `--orders-from` end to end: the CLI lists the orders of a testkit account of 3,000 into `<output>.orders.txt` and
 * exports them; the files equal an `--orders <file>` run's byte for byte, also after a SIGKILL during the listing or
 * during the export and a `--resume`. The misuse cases run in this process (`Cli.run`).
 */
import { Account, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import { expectSameBytes } from "./support/files.js"

const SEED = 5
const ACCOUNT = 3000
const account = { seed: SEED, rateLimit: "off" as const, account: ACCOUNT }

let server: TestServer.Handle
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
  server = await TestServer.start(account)
  issued = server.orderIds().filter((id) => Account.summary("listSubaccountOrders", SEED, id).status === "issued")
  const ids = path.join(dir, "issued-ids.txt")
  fs.writeFileSync(ids, issued.map((id) => `${id}\n`).join(""))
  reference = path.join(dir, "reference.csv")
  const run = await Cli.runInProcess(
    ["--orders", ids, "--output", reference, "--concurrency", "16", "--rate-limit", "off", "--quiet"],
    Cli.envFor(server)
  )
  expect(run.code, run.stderr).toBe(0)
}, 120_000)

afterAll(async () => {
  await server?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const expectSameAsReference = (output: string) => {
  // list subaccount orders says nothing of duplicates: the hint column is empty
  expect(fs.readFileSync(`${output}.orders.txt`, "utf8")).toBe(
    `order_id,has_duplicates\n${issued.map((id) => `${id},\n`).join("")}`
  )
  expect(fs.existsSync(`${output}.orders.txt.tmp`)).toBe(false)
  expectSameBytes(output, reference)
  expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
}

describe("--orders-from", () => {
  it("lists and exports exactly the issued subaccount orders, one list request per 1000, as --orders would", {
    timeout: 120_000
  }, async () => {
    // a mix of statuses, so that the filter has something to leave out
    expect(issued.length).toBeGreaterThan(1000)
    expect(issued.length).toBeLessThan(ACCOUNT)
    const output = path.join(dir, "listed.csv")
    server.resetStats()
    const run = await Cli.run(listing(output), Cli.envFor(server))
    expect(run.code, run.stderr).toBe(0)
    expectSameAsReference(output)
    const stats = server.stats()
    expect(stats.byRoute.listSubaccountOrders).toBe(Math.ceil(issued.length / 1000))
    expect(stats.byRoute.listOrders).toBe(0)
    expect(stats.byRoute.subaccountOrder).toBe(issued.length)
  })

  it("SIGKILL during the listing: --resume lists again and ends byte-identical", { timeout: 120_000 }, async () => {
    // the first list page takes 30 s, so that the kill surely lands before the listing is complete
    const stalled = await TestServer.start({
      ...account,
      script: [{ orderId: "*", endpoint: "listSubaccountOrders", faults: [{ kind: "slowHeaders", delayMs: 30_000 }] }]
    })
    try {
      const output = path.join(dir, "killed-listing.csv")
      const running = Cli.start(listing(output), Cli.envFor(stalled))
      await Cli.waitForSize(`${output}.orders.txt.tmp`, -1, 60_000, running)
      running.child.kill("SIGKILL")
      expect((await running.done).signal).toBe("SIGKILL")
      expect(fs.existsSync(`${output}.orders.txt`)).toBe(false)

      server.resetStats()
      const resumed = await Cli.runInProcess([...listing(output), "--resume"], Cli.envFor(server))
      expect(resumed.code, resumed.stderr).toBe(0)
      expect(server.stats().byRoute.listSubaccountOrders).toBe(Math.ceil(issued.length / 1000))
      expectSameAsReference(output)
    } finally {
      await stalled.close()
    }
  })

  it("SIGKILL during the export: --resume reuses the listing, never lists again, and ends byte-identical", {
    timeout: 180_000
  }, async () => {
    const slow = await TestServer.start({ ...account, latency: { meanMs: 40, jitterMs: 20 } })
    try {
      const output = path.join(dir, "killed-export.csv")
      const running = Cli.start(listing(output), Cli.envFor(slow))
      await Cli.waitForCheckpoint(output, 200, 120_000)
      running.child.kill("SIGKILL")
      expect((await running.done).signal).toBe("SIGKILL")
      const listed = fs.readFileSync(`${output}.orders.txt`, "utf8")

      // a resume with another filter would continue the first run's list: refused, nothing asked, nothing written
      server.resetStats()
      const before = fs.readFileSync(output)
      const otherFilter = listing(output).map((arg) => arg === "status=issued" ? "status=pending" : arg)
      const refused = await Cli.runInProcess([...otherFilter, "--resume"], Cli.envFor(server))
      expect(refused.code, refused.stderr).toBe(2)
      expect(refused.stderr).toMatch(
        /^certcentral-export: cannot resume: the checkpoint was written with --orders-from subaccounts --filter status=issued; use the same options or start over\n$/
      )
      expect(server.stats().requests).toBe(0)
      expect(fs.readFileSync(output).equals(before)).toBe(true)

      server.resetStats()
      const resumed = await Cli.runInProcess([...listing(output), "--resume"], Cli.envFor(server))
      expect(resumed.code, resumed.stderr).toBe(0)
      const stats = server.stats()
      expect(stats.byRoute.listSubaccountOrders).toBe(0)
      // only the orders after the checkpoint were fetched again
      expect(stats.byRoute.subaccountOrder).toBeLessThanOrEqual(issued.length - 200)
      expect(fs.readFileSync(`${output}.orders.txt`, "utf8")).toBe(listed)
      expectSameAsReference(output)
    } finally {
      await slow.close()
    }
  })

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
      it(name, async () => {
        const output = path.join(dir, `misuse-${name.replace(/\W+/g, "-")}.csv`)
        server.resetStats()
        const run = await Cli.runInProcess([...args, "--output", output], Cli.envFor(server))
        expect(run.code).toBe(2)
        expect(run.stderr).toMatch(message)
        expect(run.stderr.trimEnd().split("\n")).toHaveLength(1)
        expect(fs.existsSync(output)).toBe(false)
        expect(fs.existsSync(`${output}.orders.txt`)).toBe(false)
        expect(fs.existsSync(`${output}.orders.txt.tmp`)).toBe(false)
        expect(server.stats().byRoute.subaccountOrder).toBe(0)
      })
    }

    it("a refused key during the listing is exit 3, nothing exported", async () => {
      const output = path.join(dir, "refused-key.csv")
      const run = await Cli.runInProcess(
        ["--orders-from", "account", "--output", output, "--quiet"],
        { ...Cli.envFor(server), DIGICERT_API_KEY: "not-the-key" }
      )
      expect(run.code).toBe(3)
      expect(run.stderr).toMatch(/refused the key \(HTTP 401/)
      expect(fs.existsSync(output)).toBe(false)
      expect(fs.existsSync(`${output}.orders.txt`)).toBe(false)
    })
  })
})
