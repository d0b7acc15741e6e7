import { describe, expect, it } from "@effect/vitest"
import * as OrderData from "../src/OrderData.js"
import * as Samples from "../src/Samples.js"

const plain: OrderData.Query = { showArchived: false, includeValidationStatus: false }
const all: OrderData.Query = { showArchived: true, includeValidationStatus: false }
const ids = Array.from({ length: 3000 }, (_, i) => 1000 + i * 7919)

describe("OrderData", () => {
  it("gives the same bytes for the same seed and id, and different bytes otherwise", () => {
    for (const endpoint of ["duplicates", "reissues", "subaccountOrder"] as const) {
      expect(OrderData.render(endpoint, 7, 42, all)).toBe(OrderData.render(endpoint, 7, 42, all))
    }
    expect(OrderData.render("subaccountOrder", 7, 42, plain)).not.toBe(
      OrderData.render("subaccountOrder", 7, 43, plain)
    )
    expect(OrderData.render("subaccountOrder", 7, 42, plain)).not.toBe(
      OrderData.render("subaccountOrder", 8, 42, plain)
    )
  })

  it("serves the documented samples verbatim for the sample ids", () => {
    expect(OrderData.render("subaccountOrder", 1, Samples.pendingOrderId, plain)).toBe(Samples.subaccountOrderPending)
    expect(OrderData.render("subaccountOrder", 1, Samples.issuedOrderId, plain)).toBe(Samples.subaccountOrderIssued)
    expect(OrderData.render("subaccountOrder", 1, Samples.subSubaccountOrderId, plain)).toBe(
      Samples.subaccountOrderSubSubaccount
    )
    for (const id of Samples.orderIds) {
      expect(OrderData.render("duplicates", 9, id, all)).toBe(Samples.duplicates)
      expect(OrderData.render("reissues", 9, id, plain)).toBe(Samples.reissues)
    }
    expect(Samples.reissues).toContain("\"receipt_id\":\"1234\",\n\"purchased_dns_names\":\"2\"")
    expect(Samples.duplicates).toContain("\"status\": \"approved\"")
    expect(Samples.subaccountOrderIssued).toContain("\"is_multi_year_plan\": \"1\"")
    expect(Samples.subaccountOrderSubSubaccount).not.toContain("\"certificate\"")
    const validated = OrderData.render("subaccountOrder", 1, Samples.issuedOrderId, {
      ...plain,
      includeValidationStatus: true
    })
    expect(JSON.parse(validated)).toEqual({
      ...JSON.parse(Samples.subaccountOrderIssued),
      subaccount_order_validations: JSON.parse(Samples.subaccountOrderValidations)
    })
  })

  it("serves the samples written from the current docs for their own id, the older ones unchanged", () => {
    const id = Samples.currentDocsOrderId
    expect(Samples.orderIds).not.toContain(id)
    expect(OrderData.render("duplicates", 1, id, plain)).toBe(Samples.duplicatesCurrent)
    expect(OrderData.render("reissues", 1, id, plain)).toBe(Samples.reissuesCurrent)
    expect(OrderData.render("subaccountOrder", 1, id, plain)).toBe(Samples.subaccountOrderCurrent)
    expect(Samples.duplicatesCurrent).toContain("\"ca_cert_id\": \"B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960\"")
    expect(Samples.duplicatesCurrent).toContain("\"sub_id\": \"001\"")
    expect(Samples.reissuesCurrent).toContain("\"date_issued\": \"2019-04-08T18:31:16+00:00\"")
    expect(Samples.reissuesCurrent).toContain("\"archived\": 0")
    expect(JSON.parse(Samples.subaccountOrderCurrent).certificate.ca_cert).toEqual({
      id: "A937018B9FAF6CC2",
      name: "DigiCert Global G2 TLS RSA SHA256 2020 CA1"
    })
    // the older samples have none of the newer fields
    for (const text of [Samples.duplicates, Samples.reissues, Samples.subaccountOrderPending]) {
      expect(text).not.toMatch(/"date_issued"|"ca_cert"|"archived": 0/)
    }
  })

  it("leaves out serial, thumbprint and validity on pending and rejected certificates", () => {
    let issued = 0
    let notIssued = 0
    for (const id of ids) {
      const certificates = [...OrderData.allDuplicates(1, id), ...OrderData.allReissues(1, id)]
      for (const c of certificates) {
        if (c.status === "pending" || c.status === "rejected") {
          notIssued++
          for (const field of ["serial_number", "thumbprint", "valid_from", "valid_till", "days_remaining"]) {
            expect(c).not.toHaveProperty(field)
          }
        } else {
          issued++
          expect(c).toHaveProperty("serial_number")
          expect(c).toHaveProperty("valid_till")
          expect(typeof c.days_remaining).toBe("number")
        }
      }
    }
    expect(issued).toBeGreaterThan(100)
    expect(notIssued).toBeGreaterThan(100)
  })

  it("uses the documented statuses, archived types and numeric strings", () => {
    const duplicateStatuses = new Set<unknown>()
    const reissueStatuses = new Set<unknown>()
    const reissueArchived = new Set<string>()
    const caCertIds = new Set<unknown>()
    let padded = 0
    let issuedReissues = 0
    let negative = 0
    let counts = [0, 0]
    for (const id of ids) {
      const duplicates = OrderData.allDuplicates(1, id)
      const reissues = OrderData.allReissues(1, id)
      counts = [counts[0] + (duplicates.length <= 3 ? 1 : 0), counts[1] + 1]
      for (const d of duplicates) {
        duplicateStatuses.add(d.status)
        expect(["0", "1"]).toContain(d.archived)
        caCertIds.add(d.ca_cert_id)
        expect(d.sub_id).toMatch(/^\d{3}$/)
        if (String(d.sub_id).startsWith("0")) padded++
        if (typeof d.days_remaining === "number" && d.days_remaining < 0) negative++
      }
      for (const r of reissues) {
        reissueStatuses.add(r.status)
        reissueArchived.add(r.archived === undefined ? "absent" : typeof r.archived)
        expect([undefined, 0, 1]).toContain(r.archived)
        for (const field of ["receipt_id", "purchased_dns_names", "purchased_wildcard_names"]) {
          if (field in r) expect(r[field]).toMatch(/^\d+$/)
        }
        expect(r.date_created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
        // date_issued on issued reissues only, after the request
        expect("date_issued" in r).toBe(r.status === "issued")
        if (r.status === "issued") {
          issuedReissues++
          expect(r.date_issued).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
          expect(Date.parse(String(r.date_issued))).toBeGreaterThan(Date.parse(String(r.date_created)))
        }
        if ("valid_till" in r) expect(r.valid_till).toMatch(/^\d{4}-\d\d-\d\d$/)
      }
    }
    expect([...duplicateStatuses].sort()).toEqual(["approved", "issued", "pending", "rejected"])
    expect([...reissueStatuses].sort()).toEqual(["issued", "pending", "rejected"])
    expect([...reissueArchived].sort()).toEqual(["absent", "number"])
    expect([...caCertIds].sort()).toEqual(OrderData.caCerts.map((ca) => ca.id).sort())
    expect([...caCertIds].some((ca) => /[A-F]/.test(String(ca)))).toBe(true)
    expect(padded).toBeGreaterThan(0)
    expect(issuedReissues).toBeGreaterThan(100)
    expect(negative).toBeGreaterThan(0)
    expect(counts[0] / counts[1]).toBeGreaterThan(0.85)
  })

  it("lists archived certificates only with show_archived", () => {
    let hidden = 0
    for (const id of ids.slice(0, 500)) {
      for (const endpoint of ["duplicates", "reissues"] as const) {
        const shown = JSON.parse(OrderData.render(endpoint, 1, id, all)).certificates as Array<any>
        const listed = JSON.parse(OrderData.render(endpoint, 1, id, plain)).certificates as Array<any>
        expect(listed.every((c) => c.archived !== "1" && c.archived !== 1)).toBe(true)
        hidden += shown.length - listed.length
      }
    }
    expect(hidden).toBeGreaterThan(0)
  })

  it("shapes subaccount orders as documented", () => {
    const statuses = new Set<unknown>()
    const products = new Set<unknown>()
    let subSub = 0
    let multiYear = 0
    let assumed = 0
    for (const id of ids) {
      const o = OrderData.subaccountOrder(1, id, plain) as any
      statuses.add(o.status)
      products.add(o.product.name_id)
      expect(o.id).toBe(id)
      if (o.certificate === undefined) {
        subSub++
        expect(o).not.toHaveProperty("organization")
      } else {
        expect(o.organization.display_name).toContain(o.organization.name)
        if (o.organization.assumed_name !== undefined) assumed++
      }
      const issuedOnly = ["date_issued", "order_valid_from", "order_valid_till"]
      for (const field of issuedOnly) expect(field in o).toBe(o.status === "issued")
      if (o.is_multi_year_plan !== undefined) {
        expect(o.is_multi_year_plan).toBe("1")
        multiYear++
      }
      expect(o).not.toHaveProperty("subaccount_order_validations")
      if (o.certificate !== undefined) expect(OrderData.caCerts).toContainEqual(o.certificate.ca_cert)
    }
    expect(subSub / ids.length).toBeGreaterThan(0.05)
    expect(subSub / ids.length).toBeLessThan(0.15)
    expect(multiYear).toBeGreaterThan(0)
    expect(multiYear).toBeLessThan(ids.length)
    expect(assumed).toBeGreaterThan(0)
    for (const s of ["issued", "pending", "expired", "revoked", "rejected", "canceled", "reissue_pending"]) {
      expect(statuses).toContain(s)
    }
    for (const p of ["ssl_basic", "ssl_plus", "ssl_securesite", "ssl_ev_basic", "ssl_multi_domain", "ssl_wildcard"]) {
      expect(products).toContain(p)
    }
    const withCertificate = ids.find((id) =>
      (OrderData.subaccountOrder(1, id, plain) as any).certificate !== undefined
    )!
    const validated = OrderData.subaccountOrder(1, withCertificate, { ...plain, includeValidationStatus: true }) as any
    expect(validated.subaccount_order_validations.dns_name_validations[0].dns_names).toEqual(
      validated.certificate.dns_names
    )
    expect(validated.subaccount_order_validations.organization_validations).toHaveLength(1)
    // asking for the validations adds them and changes nothing else
    const { subaccount_order_validations: _, ...rest } = validated
    expect(rest).toEqual(OrderData.subaccountOrder(1, withCertificate, plain))
  })

  it("is fast enough for benchmarks", () => {
    const started = performance.now()
    for (let id = 1; id <= 30_000; id++) OrderData.render("subaccountOrder", 1, id, plain)
    // generous bound: a slow shared machine still renders 30,000 orders in well under this
    expect(performance.now() - started).toBeLessThan(20_000)
  })
})
