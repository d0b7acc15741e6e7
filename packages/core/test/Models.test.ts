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
    expect(approved!.ca_cert_id).toBe("1005")
    expect(approved!.sub_id).toBe("111")
    expect(approved!.archived).toBe("0")
    expect(DigiCertSchema.isSet(approved!.archived!)).toBe(false)
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
    expect(issued!.receipt_id).toBe("1234")
    expect(issued!.date_issued).toBeUndefined()
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

  it("keeps archived in the form it came in, integer or string, and reads both", () => {
    const json = JSON.parse(Samples.reissues)
    json.certificates[0].archived = 1
    json.certificates[1].archived = "0"
    const decoded = Schema.decodeUnknownSync(ReissueCertificate.ReissueList)(json)
    expect(decoded.certificates.map((c) => c.archived)).toEqual([1, "0", undefined])
    expect(decoded.certificates.slice(0, 2).map((c) => DigiCertSchema.isSet(c.archived!))).toEqual([true, false])
    expect(Schema.encodeSync(ReissueCertificate.ReissueList)(decoded)).toEqual(json)
  })
})

describe("models of the current docs' samples", () => {
  it("keeps a hex ca_cert_id and a zero-padded sub_id as the API's text through a round trip", () => {
    const { decoded, encoded, json } = roundTrip(DuplicateCertificate.DuplicateList, Samples.duplicatesCurrent)
    expect(encoded).toEqual(json)
    const [issued] = decoded.certificates
    expect(issued!.ca_cert_id).toBe("B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960")
    expect(issued!.sub_id).toBe("001")
    expect(encoded.certificates[0]!.sub_id).toBe("001")
    expect(issued!.public_id).toBe("<public_id>")
  })

  it("decodes the reissue's date_issued and keeps the integer archived through a round trip", () => {
    const { decoded, encoded, json } = roundTrip(ReissueCertificate.ReissueList, Samples.reissuesCurrent)
    expect(encoded).toEqual(json)
    const [issued, pending] = decoded.certificates
    expect(DateTime.formatIso(issued!.date_issued!)).toBe("2019-04-08T18:31:16.000Z")
    expect(issued!.archived).toBe(0)
    expect(encoded.certificates[0]!.archived).toBe(0)
    expect(issued!.receipt_id).toBe("1234")
    // the docs omit date_issued for pending and rejected reissues
    expect(pending!.date_issued).toBeUndefined()
    expect(pending!.status).toBe("pending")
  })

  it("decodes the order certificate's issuing CA and keeps it through a round trip", () => {
    const { decoded, encoded, json } = roundTrip(SubaccountOrder.SubaccountOrder, Samples.subaccountOrderCurrent)
    expect(encoded).toEqual(json)
    expect(decoded.certificate?.ca_cert).toEqual(
      new SubaccountOrder.CaCert({ id: "A937018B9FAF6CC2", name: "DigiCert Global G2 TLS RSA SHA256 2020 CA1" })
    )
    expect(decoded.subaccount_order_validations).toBeUndefined()
  })

  it("keeps subaccount_order_validations as the API's JSON, exactly", () => {
    const json = JSON.parse(Samples.subaccountOrderCurrent)
    json.subaccount_order_validations = JSON.parse(Samples.subaccountOrderValidations)
    const decoded = Schema.decodeUnknownSync(SubaccountOrder.SubaccountOrder)(json)
    expect(decoded.subaccount_order_validations).toEqual(json.subaccount_order_validations)
    expect(Schema.encodeSync(SubaccountOrder.SubaccountOrder)(decoded)).toEqual(json)
    // a member named __proto__ stays data and does not become the object's prototype
    const hostile = JSON.parse(`{"__proto__": {"polluted": true}, "status": "x"}`)
    const kept = Schema.decodeUnknownSync(SubaccountOrder.SubaccountOrder)({
      ...json,
      subaccount_order_validations: hostile
    })
    expect(Object.getPrototypeOf(kept.subaccount_order_validations)).toBe(Object.prototype)
    expect((kept.subaccount_order_validations as Record<string, unknown>).polluted).toBeUndefined()
    expect(JSON.stringify(kept.subaccount_order_validations)).toBe(`{"__proto__":{"polluted":true},"status":"x"}`)
    // not an object: refused, like any other field of the wrong type
    for (const wrong of ["complete", [1], 0]) {
      const broken = { ...json, subaccount_order_validations: wrong }
      expect(Either.isLeft(Schema.decodeUnknownEither(SubaccountOrder.SubaccountOrder)(broken))).toBe(true)
    }
  })

  it("accepts an integer where DigiCert documents an identifier as text, and keeps its decimal text", () => {
    const json = JSON.parse(Samples.duplicatesCurrent)
    json.certificates[0].ca_cert_id = 1005
    json.certificates[0].sub_id = 7
    const decoded = Schema.decodeUnknownSync(DuplicateCertificate.DuplicateList)(json)
    expect(decoded.certificates[0]!.ca_cert_id).toBe("1005")
    const encoded = Schema.encodeSync(DuplicateCertificate.DuplicateList)(decoded)
    expect(encoded.certificates[0]!.ca_cert_id).toBe("1005")
    expect(encoded.certificates[0]!.sub_id).toBe("7")
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
      [DigiCertSchema.Flag, true],
      [DigiCertSchema.WireFlag, "2"],
      [DigiCertSchema.WireFlag, false],
      [DigiCertSchema.Identifier, 1.5],
      [DigiCertSchema.Identifier, Number.MAX_SAFE_INTEGER + 2],
      [DigiCertSchema.Identifier, null],
      [DigiCertSchema.Identifier, ["1005"]]
    ]
    for (const [schema, input] of bad) {
      expect(Either.isLeft(Schema.decodeUnknownEither(schema)(input)), JSON.stringify(input)).toBe(true)
    }
  })
})

describe("identifier and flag properties", () => {
  it("Identifier: any text survives decode then encode unchanged", () => {
    const decode = Schema.decodeUnknownSync(DigiCertSchema.Identifier)
    const encode = Schema.encodeSync(DigiCertSchema.Identifier)
    FastCheck.assert(
      FastCheck.property(
        FastCheck.oneof(
          FastCheck.string(),
          FastCheck.stringMatching(/^[0-9A-F]{1,40}$/),
          FastCheck.stringMatching(/^0\d{1,5}$/)
        ),
        (text) => {
          expect(encode(decode(text))).toBe(text)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("Identifier: an integer becomes its decimal text", () => {
    const decode = Schema.decodeUnknownSync(DigiCertSchema.Identifier)
    FastCheck.assert(
      FastCheck.property(FastCheck.maxSafeInteger(), (n) => {
        expect(decode(n)).toBe(String(n))
        expect(decode(n)).toMatch(/^-?\d+$/)
      }),
      { numRuns: 300 }
    )
  })

  it("WireFlag: each of the four forms encodes back to itself", () => {
    for (const flag of ["0", "1", 0, 1] as const) {
      const decoded = Schema.decodeUnknownSync(DigiCertSchema.WireFlag)(flag)
      expect(Schema.encodeSync(DigiCertSchema.WireFlag)(decoded)).toBe(flag)
      expect(DigiCertSchema.isSet(decoded)).toBe(flag === "1" || flag === 1)
    }
  })
})

describe("exact round trip of the API's text", () => {
  const cases = [
    ["DuplicateCertificate", DuplicateCertificate.DuplicateCertificate, ["ca_cert_id", "sub_id", "public_id"]],
    ["ReissueCertificate", ReissueCertificate.ReissueCertificate, ["ca_cert_id", "receipt_id"]]
  ] as const

  for (const [name, schema, ids] of cases) {
    it(`${name}: any identifier text and any archived form come back as sent`, () => {
      const s = schema as unknown as Schema.Schema<unknown, Record<string, unknown>>
      const encode = Schema.encodeSync(s)
      const decode = Schema.decodeUnknownSync(s)
      FastCheck.assert(
        FastCheck.property(
          Arbitrary.make(s),
          FastCheck.array(FastCheck.string(), { minLength: ids.length, maxLength: ids.length }),
          FastCheck.constantFrom("0", "1", 0, 1),
          (value, texts, archived) => {
            const sent: Record<string, unknown> = { ...encode(value), archived }
            ids.forEach((id, i) => (sent[id] = texts[i]))
            const json = JSON.parse(JSON.stringify(sent))
            expect(encode(decode(json))).toStrictEqual(json)
          }
        ),
        { numRuns: 200 }
      )
    })
  }
})

describe("properties", () => {
  const models = [
    ["DuplicateCertificate", DuplicateCertificate.DuplicateCertificate],
    ["ReissueCertificate", ReissueCertificate.ReissueCertificate],
    ["SubaccountOrder", SubaccountOrder.SubaccountOrder],
    ["CaCert", SubaccountOrder.CaCert]
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
      // Extra means a field the model does not have: a random key that names one of its fields ("id", "name"), left
      // absent by the value, is a wrong value for that field, not an extra one.
      const fields = new Set(Object.keys(schema.fields))
      const extraKey = FastCheck.string({ minLength: 1 }).filter((key) => !fields.has(key))
      FastCheck.assert(
        FastCheck.property(
          Arbitrary.make(s),
          FastCheck.dictionary(extraKey, FastCheck.jsonValue(), { maxKeys: 4 }),
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
