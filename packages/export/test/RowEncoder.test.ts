import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fc from "effect/FastCheck"
import Papa from "papaparse"
import { CertificateRow, RowEncoder } from "../src/index.js"

const base: CertificateRow.CertificateRow = {
  order_id: 7,
  source: "duplicate",
  certificate_id: 70,
  common_name: "example.com",
  dns_names: ["a.example.com", "b.example.com"],
  status: "issued",
  serial_number: null,
  thumbprint: null,
  valid_from: "2019-03-28",
  valid_till: "2020-03-28",
  days_remaining: -5,
  date_created: "2019-04-08T17:33:26+00:00",
  date_issued: null,
  signature_hash: "sha256",
  key_size: 2048,
  server_platform: "nginx",
  ca_cert_id: "1005",
  requester_user_id: 2,
  requester_name: "Jan Sport",
  requester_email: null,
  receipt_id: null,
  purchased_dns_names: 0,
  purchased_wildcard_names: null,
  archived: false,
  order_status: "issued",
  order_date_created: null,
  order_date_issued: null,
  order_valid_from: null,
  order_valid_till: null,
  validity_years: 1,
  is_multi_year_plan: true,
  product_name_id: "ssl_basic",
  product_name: "Basic OV",
  product_type: "ssl_certificate",
  order_cost: -12.5,
  order_currency: "USD",
  organization_id: null,
  organization_name: null,
  organization_display_name: null,
  organization_units: [],
  subaccount_id: null,
  subaccount_type: null,
  subaccount_organization_name: null,
  ca_cert_name: null
}

const parseCsv = (text: string) => Papa.parse<Array<string>>(text, { skipEmptyLines: true }).data

/** What a CSV cell must read as, for a row value. */
const csvText = (value: unknown): string => value === null ? "" : Array.isArray(value) ? value.join(";") : String(value)

const unescape = (cell: string) => /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell

describe("RowEncoder.csv", () => {
  it("writes the header once, CRLF line ends, and one line per row", () => {
    expect(RowEncoder.csv.header).toBe(CertificateRow.columns.join(",") + "\r\n")
    const text = RowEncoder.csv.encode([base, base])
    expect(text.endsWith("\r\n")).toBe(true)
    expect(text.split("\r\n")).toHaveLength(3)
    expect(RowEncoder.csv.encode([])).toBe("")
  })

  it("writes missing values empty, lists joined with ;, booleans true/false and negative numbers as numbers", () => {
    const [cells] = parseCsv(RowEncoder.csv.encode([base]))
    const cell = (column: CertificateRow.Column) => cells![CertificateRow.columns.indexOf(column)]
    expect(cell("dns_names")).toBe("a.example.com;b.example.com")
    expect(cell("serial_number")).toBe("")
    expect(cell("organization_units")).toBe("")
    expect(cell("days_remaining")).toBe("-5")
    expect(cell("order_cost")).toBe("-12.5")
    expect(cell("archived")).toBe("false")
    expect(cell("is_multi_year_plan")).toBe("true")
    expect(cell("purchased_dns_names")).toBe("0")
    expect(RowEncoder.csv.encode([base])).toContain(",-5,")
  })

  it("escapes text cells that could start a formula, multi-line ones included, and quotes per RFC 4180", () => {
    const hostile = ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"x\")\nsecond line", "-x\ny"]
    for (const value of hostile) {
      const text = RowEncoder.csv.encode([{ ...base, common_name: value }])
      const [cells] = Papa.parse<Array<string>>(text, { skipEmptyLines: true }).data
      const cell = cells![CertificateRow.columns.indexOf("common_name")]!
      expect(cell).toBe(`'${value}`)
      expect(text).toContain(`"'`)
    }
    const quoted = RowEncoder.csv.encode([{ ...base, common_name: "a \"quoted\", name\nwith a line" }])
    expect(quoted).toContain("\"a \"\"quoted\"\", name\nwith a line\"")
    const list = RowEncoder.csv.encode([{ ...base, dns_names: ["-a.example.com", "b"] }])
    expect(parseCsv(list)[0]![CertificateRow.columns.indexOf("dns_names")]).toBe("'-a.example.com;b")
  })

  it("reads back with papaparse to the rows' values", () => {
    const text = ["\r", "\n", ",", "\"", "=", "-", "+", "@", "\t", " ", "a", "é", "日"]
    const arbText = fc.array(fc.constantFrom(...text), { maxLength: 12 }).map((parts) => parts.join(""))
    const arbRow = fc.record({
      common_name: arbText,
      requester_name: fc.option(arbText, { nil: null }),
      dns_names: fc.array(arbText.filter((s) => !s.includes(";")), { maxLength: 3 }),
      days_remaining: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
      archived: fc.option(fc.boolean(), { nil: null })
    })
    fc.assert(
      fc.property(fc.array(arbRow, { minLength: 1, maxLength: 5 }), (patches) => {
        const rows = patches.map((patch) => ({ ...base, ...patch }))
        const parsed = parseCsv(RowEncoder.csv.header + RowEncoder.csv.encode(rows))
        expect(parsed[0]).toEqual(CertificateRow.columns)
        rows.forEach((row, i) => {
          const cells = parsed[i + 1]!.map(unescape)
          const expected = CertificateRow.columns.map((column) => csvText(row[column]))
          // a list of only empty names is indistinguishable from no list at all in CSV
          expect(cells).toEqual(expected)
        })
      }),
      { numRuns: 200 }
    )
  })
})

describe("RowEncoder.ndjson", () => {
  it("writes one object per line with every column, null for missing values, arrays, numbers, booleans", () => {
    const text = RowEncoder.ndjson.encode([base, { ...base, order_id: 8 }])
    const lines = text.split("\n")
    expect(lines).toHaveLength(3)
    expect(lines[2]).toBe("")
    const parsed = JSON.parse(lines[0]!)
    expect(Object.keys(parsed)).toEqual(CertificateRow.columns)
    expect(parsed).toEqual(base)
    expect(parsed.organization_units).toEqual([])
    expect(parsed.days_remaining).toBe(-5)
    expect(parsed.archived).toBe(false)
    expect(Schema.decodeUnknownSync(CertificateRow.CertificateRow)(parsed)).toEqual(base)
    expect(RowEncoder.ndjson.header).toBe("")
  })

  it("writes the CA id and receipt id as the API's text, and the CA's name", () => {
    const row = {
      ...base,
      source: "reissue" as const,
      ca_cert_id: "B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960",
      receipt_id: "0012",
      ca_cert_name: "DigiCert Global G2 TLS RSA SHA256 2020 CA1"
    }
    const parsed = JSON.parse(RowEncoder.ndjson.encode([row]))
    expect(parsed.ca_cert_id).toBe("B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960")
    expect(parsed.receipt_id).toBe("0012")
    expect(parsed.ca_cert_name).toBe("DigiCert Global G2 TLS RSA SHA256 2020 CA1")
    expect(Object.keys(parsed).at(-1)).toBe("ca_cert_name")
    const [header, cells] = parseCsv(RowEncoder.csv.header + RowEncoder.csv.encode([row]))
    expect(cells![header!.indexOf("receipt_id")]).toBe("0012")
    expect(cells![header!.indexOf("ca_cert_id")]).toBe("B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960")
    expect(cells!.at(-1)).toBe("DigiCert Global G2 TLS RSA SHA256 2020 CA1")
  })

  it("picks the format from the output's extension", () => {
    expect(RowEncoder.formatFromPath("a.csv")).toBe("csv")
    expect(RowEncoder.formatFromPath("a.ndjson")).toBe("ndjson")
    expect(RowEncoder.formatFromPath("a.JSONL")).toBe("ndjson")
    expect(RowEncoder.formatFromPath("a.txt")).toBe("csv")
  })
})
