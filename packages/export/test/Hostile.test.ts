/**
 * Hostile and malformed responses end to end: the CLI, in this process on the test clock, against the testkit's
 * in-memory stand-in that answers some orders with bodies
 * no real API sends (far too large, nested too deep, HTML with status 200, JSON declared as text, the wrong types,
 * `__proto__` keys) and others with certificate values crafted as spreadsheet formulas. Each broken body fails its
 * order only, with a typed error in the errors file and without a retry; every other order's rows are exactly a clean
 * run's; formulas are neutralised in CSV and kept as sent in NDJSON.
 */
import { Faults, OrderData } from "@certcentral/testkit"
import type * as StandIn from "@certcentral/testkit/StandIn"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import Papa from "papaparse"
import { CertificateRow } from "../src/index.js"
import * as StandInRun from "./support/standIn.js"

const SEED = 5
const ids = Array.from({ length: 30 }, (_, i) => 500_001 + i)
const MiB = 1024 * 1024

const rendered = (endpoint: OrderData.Endpoint, orderId: number) =>
  OrderData.render(endpoint, SEED, orderId, { showArchived: false, includeValidationStatus: false })

/** A valid body with `"__proto__"` and `"constructor"` keys at the top and in every object of a list. */
const withPrototypeKeys = (body: string) =>
  body.replaceAll(
    /\{"id":/g,
    "{\"__proto__\":{\"organization_units\":[\"polluted\"],\"requester_name\":\"polluted\"},"
      + "\"constructor\":{\"prototype\":{\"polluted\":true}},\"id\":"
  )

// Broken bodies: order id, endpoint (as --include names it), fault, what the errors file says
const broken: ReadonlyArray<
  readonly [number, OrderData.Endpoint, "order" | "duplicates" | "reissues", Faults.Fault, RegExp]
> = [
  [500_002, "subaccountOrder", "order", Faults.oversized(64 * MiB), /larger than 16777216 bytes/],
  [500_004, "duplicates", "duplicates", Faults.oversized(64 * MiB, { declareLength: false }), /larger than/],
  [
    500_006,
    "reissues",
    "reissues",
    Faults.raw(200, `{"certificates":${"[".repeat(100_000)}${"]".repeat(100_000)}}`),
    /nested deeper than 64 levels/
  ],
  [
    500_008,
    "subaccountOrder",
    "order",
    Faults.raw(200, "<html><body><h1>Down for maintenance</h1></body></html>", "text/html"),
    /Content-Type "text\/html"/
  ],
  [500_010, "duplicates", "duplicates", Faults.raw(200, rendered("duplicates", 500_010), "text/plain"), /text\/plain/],
  [
    500_012,
    "subaccountOrder",
    "order",
    Faults.raw(200, rendered("subaccountOrder", 500_012).replace(/"common_name":"[^"]*"/, "\"common_name\":42")),
    /certificate\.common_name/
  ],
  [
    500_014,
    "duplicates",
    "duplicates",
    Faults.raw(200, rendered("duplicates", 500_014).replace(/"id":\d+/, "\"id\":\"one\"")),
    /certificates\.0\.id/
  ],
  [500_016, "reissues", "reissues", Faults.raw(200, "{\"certificates\":\"none\"}"), /certificates/],
  [500_018, "subaccountOrder", "order", Faults.raw(200, "null"), /the root/],
  [500_020, "duplicates", "duplicates", Faults.raw(200, "{\"certificates\":[{\"id\":1,"), /not JSON/]
]
const brokenIds = new Set(broken.map(([id]) => id))

// Prototype keys: decoded as if absent, the order's rows as a clean run's.
const PROTO_ORDER = 500_015

// Formula values: in the order's own certificate, its organization and subaccount, and a duplicate.
const FORMULA_ORDER = 500_003
const formulas = {
  common_name: "=HYPERLINK(\"http://evil.example\",\"open\")",
  dns_names: ["+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"],
  organization_name: "\tTabbed Org",
  organization_units: ["-2+3", "IT"],
  subaccount_organization_name: "\rCR first",
  duplicate_common_name: "=1+1\nsecond line"
}

const formulaOrderBody = () => {
  const order = JSON.parse(rendered("subaccountOrder", FORMULA_ORDER))
  order.certificate.common_name = formulas.common_name
  order.certificate.dns_names = formulas.dns_names
  order.certificate.organization_units = formulas.organization_units
  order.organization.name = formulas.organization_name
  order.subaccount.organization_name = formulas.subaccount_organization_name
  return JSON.stringify(order)
}

const formulaDuplicatesBody = () => {
  const duplicates = JSON.parse(rendered("duplicates", FORMULA_ORDER))
  duplicates.certificates[0].common_name = formulas.duplicate_common_name
  return JSON.stringify(duplicates)
}

const scriptHostile = (standIn: StandIn.Control) =>
  Effect.forEach(
    [
      ...broken.map(([orderId, endpoint, , fault]) => ({ orderId, endpoint, faults: [fault] })),
      {
        orderId: PROTO_ORDER,
        endpoint: "subaccountOrder" as const,
        faults: [Faults.raw(200, withPrototypeKeys(rendered("subaccountOrder", PROTO_ORDER)))]
      },
      {
        orderId: PROTO_ORDER,
        endpoint: "duplicates" as const,
        faults: [Faults.raw(200, withPrototypeKeys(rendered("duplicates", PROTO_ORDER)))]
      },
      { orderId: FORMULA_ORDER, endpoint: "subaccountOrder" as const, faults: [Faults.raw(200, formulaOrderBody())] },
      { orderId: FORMULA_ORDER, endpoint: "duplicates" as const, faults: [Faults.raw(200, formulaDuplicatesBody())] }
    ],
    standIn.script,
    { discard: true }
  )

let dir: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-hostile-"))
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const csvRows = (file: string) => {
  const [header, ...rows] = Papa.parse<Array<string>>(fs.readFileSync(file, "utf8"), { skipEmptyLines: true }).data
  expect(header).toEqual(CertificateRow.columns)
  return rows
}
const column = (name: string) => CertificateRow.columns.indexOf(name as CertificateRow.Column)
const byOrder = (rows: ReadonlyArray<ReadonlyArray<string>>, orderId: number) =>
  rows.filter((row) => row[column("order_id")] === String(orderId))

describe("hostile responses through the CLI", () => {
  it.effect("fails each broken order alone with a typed error, keeps every other row, neutralises formulas in CSV only", () =>
    Effect.gen(function*() {
      const orders = path.join(dir, "ids.txt")
      fs.writeFileSync(orders, ids.join("\n") + "\n")
      const out = (name: string) => path.join(dir, name)
      const clean = yield* StandInRun.api({ seed: SEED, rateLimit: "off" })
      const hostile = yield* StandInRun.api({ seed: SEED, rateLimit: "off" })
      yield* scriptHostile(hostile.standIn)
      const reference = yield* StandInRun.run(clean, [
        "--orders",
        orders,
        "--output",
        out("clean.csv"),
        "--rate-limit",
        "off",
        "--quiet"
      ])
      const csv = yield* StandInRun.run(hostile, [
        "--orders",
        orders,
        "--output",
        out("hostile.csv"),
        "--rate-limit",
        "off",
        "--quiet"
      ])
      expect(reference.exitCode, reference.stderrText).toBe(0)
      expect(csv.exitCode, csv.stderrText).toBe(1)
      const served = yield* hostile.standIn.stats
      expect(served.faults.oversized).toBe(2)
      expect(served.faults.raw).toBe(broken.length - 2 + 4)

      // the errors file: one DecodeError per broken order, in input order, naming the endpoint that broke
      const failures = fs.readFileSync(out("hostile.csv.errors.ndjson"), "utf8").trimEnd().split("\n").map((line) =>
        JSON.parse(line)
      )
      expect(failures.map((f) => [f.order_id, f.endpoint, f.error, f.status])).toEqual(
        broken.map(([id, , endpoint]) => [id, endpoint, "DecodeError", 200])
      )
      broken.forEach(([, , , , message], i) => expect(failures[i].message).toMatch(message))

      // every other order, the one with __proto__ keys included, exactly as the clean run wrote it
      const cleanRows = csvRows(out("clean.csv"))
      const hostileRows = csvRows(out("hostile.csv"))
      for (const id of ids) {
        if (brokenIds.has(id)) expect(byOrder(hostileRows, id)).toEqual([])
        else if (id !== FORMULA_ORDER) expect(byOrder(hostileRows, id), `order ${id}`).toEqual(byOrder(cleanRows, id))
      }
      expect(byOrder(cleanRows, PROTO_ORDER).length).toBeGreaterThan(1)
      expect(fs.readFileSync(out("hostile.csv"), "utf8")).not.toContain("polluted")

      // formulas: each text cell that could start one is prefixed with ', the value after it as sent
      const [orderRow, duplicateRow] = byOrder(hostileRows, FORMULA_ORDER)
      expect(orderRow![column("source")]).toBe("order")
      expect(orderRow![column("common_name")]).toBe(`'${formulas.common_name}`)
      expect(orderRow![column("dns_names")]).toBe(`'${formulas.dns_names.join(";")}`)
      expect(orderRow![column("organization_name")]).toBe(`'${formulas.organization_name}`)
      expect(orderRow![column("organization_units")]).toBe(`'${formulas.organization_units.join(";")}`)
      expect(orderRow![column("subaccount_organization_name")]).toBe(`'${formulas.subaccount_organization_name}`)
      expect(duplicateRow![column("source")]).toBe("duplicate")
      expect(duplicateRow![column("common_name")]).toBe(`'${formulas.duplicate_common_name}`)
      for (const row of hostileRows) {
        for (const cell of row) expect(cell, `a cell of order ${row[0]}`).not.toMatch(/^[=+@\t\r]/)
      }

      // the same orders as NDJSON: the values exactly as DigiCert sent them
      yield* scriptHostile(hostile.standIn)
      const ndjson = yield* StandInRun.run(hostile, [
        "--orders",
        orders,
        "--output",
        out("hostile.ndjson"),
        "--rate-limit",
        "off",
        "--quiet"
      ])
      expect(ndjson.exitCode, ndjson.stderrText).toBe(1)
      expect(fs.readFileSync(out("hostile.ndjson.errors.ndjson"), "utf8")).toBe(
        fs.readFileSync(out("hostile.csv.errors.ndjson"), "utf8")
      )
      const rows = fs.readFileSync(out("hostile.ndjson"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line))
      const [order, duplicate] = rows.filter((row) => row.order_id === FORMULA_ORDER)
      expect(order).toMatchObject({
        source: "order",
        common_name: formulas.common_name,
        dns_names: formulas.dns_names,
        organization_name: formulas.organization_name,
        organization_units: formulas.organization_units,
        subaccount_organization_name: formulas.subaccount_organization_name
      })
      expect(duplicate).toMatchObject({ source: "duplicate", common_name: formulas.duplicate_common_name })
      expect(rows.filter((row) => brokenIds.has(row.order_id))).toEqual([])
      expect(new Set(rows.map((row) => row.order_id)).size).toBe(ids.length - broken.length)
    }))

  it.effect("never sends a request for an input line that is not an id, and reports each with its line number", () =>
    Effect.gen(function*() {
      const api = yield* StandInRun.api({ seed: SEED, rateLimit: "off" })
      const lines = [
        "12/../../x",
        "501",
        "%2e%2e",
        "..%2F..",
        " 7 ",
        "+8",
        "1e3",
        "9007199254740992",
        "-0",
        "12?x=1",
        "12#a"
      ]
      const orders = path.join(dir, "path-changing.txt")
      fs.writeFileSync(orders, lines.join("\n") + "\n")
      const output = path.join(dir, "path-changing.csv")
      const result = yield* StandInRun.run(api, [
        "--orders",
        orders,
        "--output",
        output,
        "--rate-limit",
        "off",
        "--quiet"
      ])
      expect(result.exitCode, result.stderrText).toBe(1)
      const stats = yield* api.standIn.stats
      expect(stats.requests).toBe(2 * 3)
      expect(stats.byRoute.unknown).toBe(0)
      const reported = fs.readFileSync(`${output}.errors.ndjson`, "utf8").trimEnd().split("\n").map((l) =>
        JSON.parse(l)
      )
      expect(reported.map((r) => [r.line, r.input, r.error])).toEqual(
        lines.flatMap((input, i) => (input === "501" || input === " 7 " ? [] : [[i + 1, input, "InvalidOrderIdError"]]))
      )
      expect(new Set(csvRows(output).map((row) => row[column("order_id")]))).toEqual(new Set(["501", "7"]))
    }))
})
