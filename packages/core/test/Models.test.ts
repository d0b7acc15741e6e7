import { DigiCertSchema, DuplicateCertificate, ReissueCertificate, SubaccountOrder } from "@certcentral/core"
import { Samples } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, DateTime, Either, FastCheck, Schema } from "effect"

const roundTrip = <A, I>(schema: Schema.Schema<A, I>, text: string) => {
  const json = JSON.parse(text)
  const decoded = Schema.decodeUnknownSync(schema)(json)
  return { json, decoded, encoded: Schema.encodeSync(schema)(decoded) }
}

describe("models of the documented samples", () => {
  it("decodes the duplicates sample and encodes it back to the same JSON", () => {
    const { decoded, encoded, json } = roundTrip(DuplicateCertificate.DuplicateList, Samples.duplicates)
    expect(encoded).toEqual(json)
    const [approved, rejected, pending] = decoded.certificates
    expect(approved!.id).toBe(12345)
    expect(approved!.status).toBe("approved")
    expect(approved!.ca_cert_id).toBe(1005)
    expect(approved!.sub_id).toBe(111)
    expect(approved!.archived).toBe(false)
    expect(approved!.server_platform?.name).toBe("nginx")
    expect(DateTime.formatIso(approved!.date_created)).toBe("2016-03-25T21:01:40.000Z")
    expect(DateTime.formatIsoDateUtc(approved!.valid_till!)).toBe("2019-03-28")
    // Rejected and pending duplicates carry no serial, thumbprint or validity.
    for (const cert of [rejected!, pending!]) {
      expect(cert.serial_number).toBeUndefined()
      expect(cert.thumbprint).toBeUndefined()
      expect(cert.valid_till).toBeUndefined()
    }
  })

  it("decodes the reissues sample and encodes it back to the same JSON", () => {
    const { decoded, encoded, json } = roundTrip(ReissueCertificate.ReissueList, Samples.reissues)
    expect(encoded).toEqual(json)
    const [issued, rejected] = decoded.certificates
    expect(issued!.receipt_id).toBe(1234)
    expect(issued!.purchased_dns_names).toBe(2)
    expect(issued!.purchased_wildcard_names).toBe(1)
    expect(issued!.email).toBe("logan.nelson@example.com")
    expect(issued!.dns_names).toEqual(["yourexample.com", "anotherexample.com", "*.myexample.com"])
    expect(rejected!.receipt_id).toBeUndefined()
  })

  it("decodes the three subaccount order samples and encodes them back to the same JSON", () => {
    const pending = roundTrip(SubaccountOrder.SubaccountOrder, Samples.subaccountOrderPending)
    const issued = roundTrip(SubaccountOrder.SubaccountOrder, Samples.subaccountOrderIssued)
    const sub = roundTrip(SubaccountOrder.SubaccountOrder, Samples.subaccountOrderSubSubaccount)
    for (const { encoded, json } of [pending, issued, sub]) expect(encoded).toEqual(json)

    expect(pending.decoded.organization?.assumed_name).toBe("Real Organization")
    expect(pending.decoded.certificate?.organization_units).toEqual(["Sales department"])
    expect(pending.decoded.date_issued).toBeUndefined()
    expect(issued.decoded.is_multi_year_plan).toBe(true)
    expect(issued.decoded.order_price?.cost).toBe(358)
    expect(DateTime.formatIsoDateUtc(issued.decoded.order_valid_till!)).toBe("2021-10-19")
    expect(issued.decoded.certificate?.days_remaining).toBe(286)
    expect(sub.decoded.certificate).toBeUndefined()
    expect(sub.decoded.organization).toBeUndefined()
    expect(sub.decoded.subaccount?.account_type).toBe("enterprise")
  })

  it("ignores unknown fields and admits unknown statuses", () => {
    const json = JSON.parse(Samples.duplicates)
    json.certificates[0].status = "awaiting_future_check"
    json.certificates[0].brand_new_field = { nested: [1, 2, 3] }
    json.next_page = "later"
    const decoded = Schema.decodeUnknownSync(DuplicateCertificate.DuplicateList)(json)
    expect(decoded.certificates[0]!.status).toBe("awaiting_future_check")
    expect(DigiCertSchema.isKnown(DuplicateCertificate.DuplicateStatus, decoded.certificates[0]!.status)).toBe(false)
    expect(DigiCertSchema.isKnown(DuplicateCertificate.DuplicateStatus, decoded.certificates[1]!.status)).toBe(true)
  })

  it("reads null as an absent value", () => {
    const json = JSON.parse(Samples.subaccountOrderIssued)
    json.certificate.thumbprint = null
    json.date_issued = null
    const decoded = Schema.decodeUnknownSync(SubaccountOrder.SubaccountOrder)(json)
    expect(decoded.certificate!.thumbprint).toBeUndefined()
    expect("date_issued" in decoded).toBe(false)
  })

  it("accepts archived as an integer on reissues, as DigiCert sometimes sends it", () => {
    const json = JSON.parse(Samples.reissues)
    json.certificates[0].archived = 1
    json.certificates[1].archived = "0"
    const decoded = Schema.decodeUnknownSync(ReissueCertificate.ReissueList)(json)
    expect(decoded.certificates.map((c) => c.archived)).toEqual([true, false, undefined])
  })
})

describe("DigiCert value schemas", () => {
  it("keeps DigiCert's date and timestamp text through a round trip", () => {
    const date = Schema.decodeSync(DigiCertSchema.CalendarDate)("2019-03-28")
    expect(Schema.encodeSync(DigiCertSchema.CalendarDate)(date)).toBe("2019-03-28")
    const ts = Schema.decodeSync(DigiCertSchema.Timestamp)("2019-04-08T17:33:26+00:00")
    expect(Schema.encodeSync(DigiCertSchema.Timestamp)(ts)).toBe("2019-04-08T17:33:26+00:00")
    // Another offset is the same instant, written in UTC.
    const shifted = Schema.decodeSync(DigiCertSchema.Timestamp)("2019-04-08T19:33:26+02:00")
    expect(Schema.encodeSync(DigiCertSchema.Timestamp)(shifted)).toBe("2019-04-08T17:33:26+00:00")
  })

  it("rejects malformed dates, numbers and flags", () => {
    const bad: Array<[Schema.Schema<any, any>, unknown]> = [
      [DigiCertSchema.CalendarDate, "2019-02-30"],
      [DigiCertSchema.CalendarDate, "28/03/2019"],
      [DigiCertSchema.Timestamp, "2019-04-08 17:33"],
      [DigiCertSchema.Timestamp, "2019-04-08T17:33:26"],
      [DigiCertSchema.NumericString, "12a"],
      [DigiCertSchema.NumericString, "-1"],
      [DigiCertSchema.NumericString, ""],
      [DigiCertSchema.Flag, "2"],
      [DigiCertSchema.Flag, true]
    ]
    for (const [schema, input] of bad) {
      expect(Either.isLeft(Schema.decodeUnknownEither(schema)(input)), JSON.stringify(input)).toBe(true)
    }
  })
})

describe("properties", () => {
  const models = [
    ["DuplicateCertificate", DuplicateCertificate.DuplicateCertificate],
    ["ReissueCertificate", ReissueCertificate.ReissueCertificate],
    ["SubaccountOrder", SubaccountOrder.SubaccountOrder]
  ] as const

  for (const [name, schema] of models) {
    it(`${name}: decode(encode(x)) = x`, () => {
      const s = schema as unknown as Schema.Schema<unknown, unknown>
      const encode = Schema.encodeSync(s)
      const decode = Schema.decodeUnknownSync(s)
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(s), (value) => {
          // Through JSON text, as the value would travel.
          expect(decode(JSON.parse(JSON.stringify(encode(value))))).toStrictEqual(value)
        }),
        { numRuns: 200 }
      )
    })

    it(`${name}: extra fields and unknown statuses still decode`, () => {
      const s = schema as unknown as Schema.Schema<unknown, Record<string, unknown>>
      const encode = Schema.encodeSync(s)
      const decode = Schema.decodeUnknownEither(s)
      FastCheck.assert(
        FastCheck.property(
          Arbitrary.make(s),
          FastCheck.dictionary(FastCheck.string({ minLength: 1 }), FastCheck.jsonValue(), { maxKeys: 4 }),
          FastCheck.string(),
          (value, extra, status) => {
            const encoded = { ...extra, ...encode(value), status }
            expect(Either.isRight(decode(encoded))).toBe(true)
          }
        ),
        { numRuns: 200 }
      )
    })
  }
})
