import { DuplicateCertificate, ReissueCertificate, SubaccountOrder } from "@certcentral/core"
import { Samples } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { CertificateRow } from "../src/index.js"

const decodeOrder = (text: string) => Schema.decodeUnknownSync(SubaccountOrder.SubaccountOrder)(JSON.parse(text))
const duplicates = Schema.decodeUnknownSync(DuplicateCertificate.DuplicateList)(JSON.parse(Samples.duplicates))
  .certificates
const reissues = Schema.decodeUnknownSync(ReissueCertificate.ReissueList)(JSON.parse(Samples.reissues)).certificates

const contractColumns = `order_id, source, certificate_id, common_name, dns_names, status, serial_number, thumbprint,
valid_from, valid_till, days_remaining, date_created, date_issued, signature_hash, key_size,
server_platform, ca_cert_id, requester_user_id, requester_name, requester_email, receipt_id,
purchased_dns_names, purchased_wildcard_names, archived,
order_status, order_date_created, order_date_issued, order_valid_from, order_valid_till,
validity_years, is_multi_year_plan, product_name_id, product_name, product_type,
order_cost, order_currency, organization_id, organization_name, organization_display_name,
organization_units, subaccount_id, subaccount_type, subaccount_organization_name, ca_cert_name`.split(/[\s,]+/)

const emptyCertificate = {
  certificate_id: null,
  common_name: null,
  dns_names: [],
  status: null,
  serial_number: null,
  thumbprint: null,
  valid_from: null,
  valid_till: null,
  days_remaining: null,
  date_created: null,
  date_issued: null,
  signature_hash: null,
  key_size: null,
  server_platform: null,
  ca_cert_id: null,
  requester_user_id: null,
  requester_name: null,
  requester_email: null,
  receipt_id: null,
  purchased_dns_names: null,
  purchased_wildcard_names: null,
  archived: null,
  ca_cert_name: null
}

const pendingOrderColumns = {
  order_status: "pending",
  order_date_created: "2019-06-21T09:06:47+00:00",
  order_date_issued: null,
  order_valid_from: null,
  order_valid_till: null,
  validity_years: 1,
  is_multi_year_plan: null,
  product_name_id: "ssl_securesite",
  product_name: "Secure Site SSL",
  product_type: "ssl_certificate",
  order_cost: 399,
  order_currency: "USD",
  organization_id: 334455,
  organization_name: "Real Organization, LLC",
  organization_display_name: "Real Organization, LLC (Real Organization)",
  organization_units: ["Sales department"],
  subaccount_id: 123445,
  subaccount_type: "enterprise",
  subaccount_organization_name: "Sub account organization"
}

const emptyOrderColumns = {
  order_status: null,
  order_date_created: null,
  order_date_issued: null,
  order_valid_from: null,
  order_valid_till: null,
  validity_years: null,
  is_multi_year_plan: null,
  product_name_id: null,
  product_name: null,
  product_type: null,
  order_cost: null,
  order_currency: null,
  organization_id: null,
  organization_name: null,
  organization_display_name: null,
  organization_units: [],
  subaccount_id: null,
  subaccount_type: null,
  subaccount_organization_name: null
}

describe("CertificateRow", () => {
  it("has the contract's columns in the contract's order", () => {
    expect(CertificateRow.columns).toEqual(contractColumns)
    expect(Object.keys(CertificateRow.CertificateRow.fields)).toEqual(contractColumns)
  })

  it("builds the pending sample order: order row, then duplicates, then reissues, order columns on each", () => {
    // the documented samples give the duplicates and the reissues the same three ids: here the reissues get their own
    // (the folding of repeated ids is the next describe's subject)
    const rows = CertificateRow.fromOrder(123456, {
      order: decodeOrder(Samples.subaccountOrderPending),
      duplicates,
      reissues: reissues.map((reissue) => ({ ...reissue, id: reissue.id + 100_000 }))
    })
    expect(rows.map((r) => [r.source, r.certificate_id])).toEqual([
      ["order", 101015],
      ["duplicate", 12345],
      ["duplicate", 23456],
      ["duplicate", 34567],
      ["reissue", 112345],
      ["reissue", 123456],
      ["reissue", 134567]
    ])
    expect(rows[0]).toEqual({
      order_id: 123456,
      source: "order",
      ...emptyCertificate,
      certificate_id: 101015,
      common_name: "example.com",
      dns_names: ["sub.example.com"],
      signature_hash: "sha256",
      ...pendingOrderColumns
    })
    for (const row of rows) expect(Object.keys(row)).toEqual(contractColumns)
    for (const row of rows) expect(row).toMatchObject(pendingOrderColumns)
  })

  it("builds duplicate rows with DigiCert's date text, numbers and the platform's name", () => {
    const [approved, rejected] = CertificateRow.fromOrder(5, { duplicates })
    expect(approved).toEqual({
      order_id: 5,
      source: "duplicate",
      certificate_id: 12345,
      common_name: "example.com",
      dns_names: ["sub.example.com"],
      status: "approved",
      serial_number: "<serial_number>",
      thumbprint: "<thumbprint>",
      valid_from: "2016-03-23",
      valid_till: "2019-03-28",
      days_remaining: 111,
      date_created: "2016-03-25T21:01:40+00:00",
      date_issued: null,
      signature_hash: "sha256",
      key_size: 2048,
      server_platform: "nginx",
      ca_cert_id: "1005",
      requester_user_id: 2,
      requester_name: "Jan Sport",
      requester_email: null,
      receipt_id: null,
      purchased_dns_names: null,
      purchased_wildcard_names: null,
      archived: false,
      ca_cert_name: null,
      ...emptyOrderColumns
    })
    expect(rejected).toMatchObject({
      status: "rejected",
      serial_number: null,
      thumbprint: null,
      valid_from: null,
      valid_till: null,
      days_remaining: null,
      date_created: "2018-11-14T19:57:09+00:00",
      requester_name: "John Someone"
    })
  })

  it("builds reissue rows with the requester's email, receipt and purchased counts", () => {
    const [issued, rejected] = CertificateRow.fromOrder(5, { reissues })
    expect(issued).toEqual({
      order_id: 5,
      source: "reissue",
      certificate_id: 12345,
      common_name: "example.com",
      dns_names: ["yourexample.com", "anotherexample.com", "*.myexample.com"],
      status: "issued",
      serial_number: "<serial_number>",
      thumbprint: "<thumbprint>",
      valid_from: null,
      valid_till: "2020-04-08",
      days_remaining: 267,
      date_created: "2019-04-08T17:33:26+00:00",
      date_issued: null,
      signature_hash: null,
      key_size: 2048,
      server_platform: null,
      ca_cert_id: null,
      requester_user_id: 1576,
      requester_name: "Logan Nelson",
      requester_email: "logan.nelson@example.com",
      receipt_id: "1234",
      purchased_dns_names: 2,
      purchased_wildcard_names: 1,
      archived: null,
      ca_cert_name: null,
      ...emptyOrderColumns
    })
    expect(rejected).toMatchObject({ receipt_id: null, purchased_dns_names: null, purchased_wildcard_names: null })
  })

  it("carries the issuing CA on the order row, a hex CA id and zero-padded text on duplicates, reissue issue dates", () => {
    const current = {
      order: decodeOrder(Samples.subaccountOrderCurrent),
      duplicates: Schema.decodeUnknownSync(DuplicateCertificate.DuplicateList)(JSON.parse(Samples.duplicatesCurrent))
        .certificates,
      reissues: Schema.decodeUnknownSync(ReissueCertificate.ReissueList)(JSON.parse(Samples.reissuesCurrent))
        .certificates
    }
    const [order, duplicate, issued, pending] = CertificateRow.fromOrder(Samples.currentDocsOrderId, current)
    expect(order).toMatchObject({
      source: "order",
      ca_cert_id: "A937018B9FAF6CC2",
      ca_cert_name: "DigiCert Global G2 TLS RSA SHA256 2020 CA1"
    })
    expect(duplicate).toMatchObject({
      source: "duplicate",
      ca_cert_id: "B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960",
      ca_cert_name: null,
      archived: false
    })
    expect(issued).toMatchObject({
      source: "reissue",
      date_issued: "2019-04-08T18:31:16+00:00",
      receipt_id: "1234",
      archived: false,
      ca_cert_name: null
    })
    expect(pending).toMatchObject({ source: "reissue", status: "pending", date_issued: null, archived: false })
    for (const row of [order, duplicate, issued, pending]) {
      expect(Schema.is(CertificateRow.CertificateRow)(row)).toBe(true)
    }
  })

  it("builds the issued sample order with its validity, issue date and multi-year flag", () => {
    const [row] = CertificateRow.fromOrder(12345678, { order: decodeOrder(Samples.subaccountOrderIssued) })
    expect(row).toEqual({
      order_id: 12345678,
      source: "order",
      ...emptyCertificate,
      certificate_id: 34567891,
      common_name: "example.com",
      dns_names: ["example.com"],
      serial_number: "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXC5F",
      thumbprint: "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX70C5B",
      valid_from: "2020-10-14",
      valid_till: "2021-10-18",
      days_remaining: 286,
      date_issued: "2020-10-14T15:18:52+00:00",
      signature_hash: "sha256",
      order_status: "issued",
      order_date_created: "2020-10-14T15:18:50+00:00",
      order_date_issued: "2020-10-14T15:18:52+00:00",
      order_valid_from: "2020-10-14",
      order_valid_till: "2021-10-19",
      validity_years: 1,
      is_multi_year_plan: true,
      product_name_id: "ssl_basic",
      product_name: "Basic OV",
      product_type: "ssl_certificate",
      order_cost: 358,
      order_currency: "USD",
      organization_id: 123456,
      organization_name: "Example Organization",
      organization_display_name: "Example Organization",
      organization_units: [],
      subaccount_id: 2345678,
      subaccount_type: "enterprise",
      subaccount_organization_name: "Example account"
    })
  })

  it("writes an order row with empty certificate columns for a sub-subaccount order without a certificate", () => {
    const rows = CertificateRow.fromOrder(1234567, { order: decodeOrder(Samples.subaccountOrderSubSubaccount) })
    expect(rows).toEqual([{
      order_id: 1234567,
      source: "order",
      ...emptyCertificate,
      ...emptyOrderColumns,
      order_status: "pending",
      order_date_created: "2019-05-07T09:33:08+00:00",
      validity_years: 1,
      product_name_id: "ssl_plus",
      product_name: "Standard SSL",
      product_type: "ssl_certificate",
      order_cost: 198,
      order_currency: "USD",
      subaccount_id: 123445,
      subaccount_type: "enterprise",
      subaccount_organization_name: "Sub account organization"
    }])
  })

  it("without the order endpoint, writes only duplicates and reissues with empty order columns", () => {
    const rows = CertificateRow.fromOrder(9, { duplicates: duplicates.slice(0, 1), reissues: [] })
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ source: "duplicate", ...emptyOrderColumns })
  })

  it("folds an entry echoing the order's own certificate or repeating an earlier one of the order, and counts it", () => {
    const order = decodeOrder(Samples.subaccountOrderPending)
    const own = order.certificate!.id
    const [first, second] = duplicates
    const [reissue] = reissues
    const fresh = 999_001
    const built = CertificateRow.fromOrderCounted(7, {
      order,
      duplicates: [{ ...first!, id: own }, first!, second!, first!],
      reissues: [{ ...reissue!, id: own }, { ...reissue!, id: fresh }, { ...reissue!, id: second!.id }, {
        ...reissue!,
        id: fresh
      }]
    })
    // a reissue listing a duplicate's id is the same certificate: it gets no second row
    expect(built.rows.map((row) => [row.source, row.certificate_id])).toEqual([
      ["order", own],
      ["duplicate", first!.id],
      ["duplicate", second!.id],
      ["reissue", fresh]
    ])
    // the first copy's columns are kept: the order row as the order endpoint gives it, the duplicate as listed first
    expect(built.rows[0]).toEqual(CertificateRow.fromOrder(7, { order })[0])
    expect(built.rows[1]).toEqual(CertificateRow.fromOrder(7, { order, duplicates: [first!] })[1])
    expect(built.folded).toBe(5)
    expect(CertificateRow.fromOrder(7, { order, duplicates: [first!, first!] })).toHaveLength(2)
    // without the order endpoint the own id is unknown: only repeats fold
    expect(CertificateRow.fromOrderCounted(7, { duplicates: [{ ...first!, id: own }, first!, first!] }).folded).toBe(1)
    // DigiCert's documented samples list the same three ids as duplicates and as reissues: three rows, not six
    const samples = CertificateRow.fromOrderCounted(7, { order, duplicates, reissues })
    expect(samples.rows.map((row) => row.source)).toEqual(["order", "duplicate", "duplicate", "duplicate"])
    expect(samples.folded).toBe(3)
  })

  it("rows satisfy the CertificateRow schema", () => {
    const rows = CertificateRow.fromOrder(1, {
      order: decodeOrder(Samples.subaccountOrderPending),
      duplicates,
      reissues
    })
    for (const row of rows) expect(Schema.is(CertificateRow.CertificateRow)(row)).toBe(true)
  })
})
