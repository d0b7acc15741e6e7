// End to end, from the testkit's in-memory stand-in to the rows (the client and the CLI in this process, on the test
// clock): the fields DigiCert's current docs add or type as text (hex CA certificate ids, zero-padded sub_id, reissue
// date_issued, certificate.ca_cert) arrive as the API sent them.
import { CertCentralClient } from "@certcentral/core"
import { OrderData, Samples } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import Papa from "papaparse"
import { CertificateRow } from "../src/index.js"
import * as StandInRun from "./support/standIn.js"

let dir: string
const file = (name: string) => path.join(dir, name)
const generated = Array.from({ length: 60 }, (_, i) => 9000 + i * 17)
const caIds = OrderData.caCerts.map((ca) => ca.id)
const caNames = OrderData.caCerts.map((ca) => ca.name)

const run = (args: ReadonlyArray<string>) =>
  Effect.flatMap(StandInRun.api({ rateLimit: "off" }), (api) => StandInRun.run(api, args))
const ndjson = (name: string): Array<Record<string, any>> =>
  fs.readFileSync(file(name), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line))
const csv = (name: string) =>
  Papa.parse<Record<string, string>>(fs.readFileSync(file(name), "utf8"), { header: true, skipEmptyLines: true })

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-current-docs-"))
  fs.writeFileSync(file("ids.txt"), [Samples.currentDocsOrderId, ...generated].join("\n") + "\n")
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe("current docs' fields, testkit stand-in to rows", () => {
  it.effect("the client keeps a zero-padded sub_id, a hex ca_cert_id, the reissue's date_issued and the issuing CA", () =>
    Effect.gen(function*() {
      const api = yield* StandInRun.api({ rateLimit: "off" })
      const program = Effect.gen(function*() {
        const cc = yield* CertCentralClient.CertCentralClient
        const [duplicate] = yield* cc.listDuplicates(Samples.currentDocsOrderId)
        expect(duplicate!.sub_id).toBe("001")
        expect(duplicate!.ca_cert_id).toBe("B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960")
        const [issued] = yield* cc.listReissues(Samples.currentDocsOrderId)
        expect(issued!.archived).toBe(0)
        expect(issued!.date_issued).toBeDefined()
        const order = yield* cc.getSubaccountOrder(Samples.currentDocsOrderId)
        expect(order.certificate?.ca_cert?.id).toBe("A937018B9FAF6CC2")
        expect(order.subaccount_order_validations).toBeUndefined()
        const validated = yield* cc.getSubaccountOrder(Samples.currentDocsOrderId, { includeValidationStatus: true })
        expect(validated.subaccount_order_validations).toEqual(JSON.parse(Samples.subaccountOrderValidations))
        // generated orders: every sub_id is three digits of text, leading zeros kept
        const subIds = yield* Effect.forEach(generated, (id) => cc.listDuplicates(id, { showArchived: true }), {
          concurrency: 4
        }).pipe(Effect.map((lists) => lists.flat().map((d) => d.sub_id)))
        expect(subIds.length).toBeGreaterThan(0)
        for (const subId of subIds) expect(subId).toMatch(/^\d{3}$/)
      })
      yield* StandInRun.drive(
        program.pipe(
          Effect.provide(
            CertCentralClient.layer({
              apiKey: Redacted.make(api.standIn.apiKey),
              baseUrl: api.standIn.baseUrl,
              rateLimit: "off"
            })
          ),
          Effect.provide(api.http)
        )
      )
    }))

  it.effect(
    "CSV and NDJSON rows carry the API's CA ids, the CA's name and reissue issue dates",
    () =>
      Effect.gen(function*() {
        const ids = file("ids.txt")
        for (const output of ["rows.csv", "rows.ndjson"]) {
          const result = yield* run(["--orders", ids, "--output", file(output), "--rate-limit", "off", "--quiet"])
          expect(result.exitCode, result.stderrText).toBe(0)
        }
        const rows = ndjson("rows.ndjson")
        const parsed = csv("rows.csv")
        expect(parsed.meta.fields).toEqual(CertificateRow.columns)
        expect(parsed.meta.fields!.at(-1)).toBe("ca_cert_name")
        expect(parsed.data).toHaveLength(rows.length)

        const sample = rows.filter((r) => r.order_id === Samples.currentDocsOrderId)
        expect(sample.map((r) => r.source)).toEqual(["order", "duplicate", "reissue", "reissue"])
        expect(sample[0]).toMatchObject({
          ca_cert_id: "A937018B9FAF6CC2",
          ca_cert_name: "DigiCert Global G2 TLS RSA SHA256 2020 CA1"
        })
        expect(sample[1]).toMatchObject({ ca_cert_id: "B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960", ca_cert_name: null })
        expect(sample[2]).toMatchObject({
          date_issued: "2019-04-08T18:31:16+00:00",
          receipt_id: "1234",
          archived: false,
          ca_cert_name: null
        })
        expect(sample[3]).toMatchObject({ status: "pending", date_issued: null })
        const sampleCsv = parsed.data.filter((r) => r.order_id === String(Samples.currentDocsOrderId))
        expect(sampleCsv.map((r) => [r.ca_cert_id, r.ca_cert_name, r.date_issued, r.receipt_id])).toEqual([
          ["A937018B9FAF6CC2", "DigiCert Global G2 TLS RSA SHA256 2020 CA1", "", ""],
          ["B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960", "", "", ""],
          ["", "", "2019-04-08T18:31:16+00:00", "1234"],
          ["", "", "", ""]
        ])

        // generated orders: text ids in NDJSON, the same text in CSV, issue dates on issued reissues
        const withCa = rows.filter((r) => r.source === "order" && r.certificate_id !== null)
        expect(withCa.length).toBeGreaterThan(0)
        for (const r of withCa) {
          expect(caIds).toContain(r.ca_cert_id)
          expect(r.ca_cert_name).toBe(caNames[caIds.indexOf(r.ca_cert_id)])
        }
        const duplicates = rows.filter((r) => r.source === "duplicate")
        expect(duplicates.some((r) => /[A-F]/.test(r.ca_cert_id))).toBe(true)
        for (const r of duplicates) expect(r.ca_cert_name).toBeNull()
        const reissues = rows.filter((r) => r.source === "reissue" && r.status === "issued")
        expect(reissues.length).toBeGreaterThan(0)
        for (const r of reissues) expect(r.date_issued).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
        for (const r of rows.filter((r) => r.receipt_id !== null)) expect(typeof r.receipt_id).toBe("string")
        rows.forEach((row, i) => {
          for (const column of ["ca_cert_id", "ca_cert_name", "receipt_id", "date_issued"] as const) {
            expect(parsed.data[i]![column]).toBe(row[column] ?? "")
          }
        })
      })
  )

  it.effect("--include order rows carry the issuing CA's id and name", () =>
    Effect.gen(function*() {
      const result = yield* run([
        "--orders",
        file("ids.txt"),
        "--output",
        file("orders.ndjson"),
        "--include",
        "order",
        "--rate-limit",
        "off",
        "--quiet"
      ])
      expect(result.exitCode, result.stderrText).toBe(0)
      const rows = ndjson("orders.ndjson")
      expect(rows.every((r) => r.source === "order")).toBe(true)
      const withCertificate = rows.filter((r) => r.certificate_id !== null)
      expect(withCertificate.length).toBeGreaterThan(generated.length / 2)
      for (const r of withCertificate) {
        expect(caNames).toContain(r.ca_cert_name)
        expect(caIds).toContain(r.ca_cert_id)
      }
      // sub-subaccount orders have no certificate, so no CA either
      for (const r of rows.filter((r) => r.certificate_id === null)) {
        expect(r).toMatchObject({ ca_cert_id: null, ca_cert_name: null })
      }
    }))
})
