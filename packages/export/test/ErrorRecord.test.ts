import { CertCentralError, OrderId } from "@certcentral/core"
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { ErrorRecord } from "../src/index.js"

const entry = (raw: string, message: string) => {
  const [code, qualifier] = raw.split("|")
  return new CertCentralError.DigiCertErrorEntry({
    raw,
    code: code!,
    ...(qualifier === undefined ? {} : { qualifier }),
    message
  })
}

describe("ErrorRecord", () => {
  it("records an order's failure with the --include name of its endpoint, the tag, status, DigiCert code, message", () => {
    const notFound = new CertCentralError.NotFoundError({
      endpoint: "listReissues",
      orderId: 7,
      status: 404,
      errors: [entry("not_found|order", "Order not found."), entry("other", "second")],
      message: "HTTP 404"
    })
    expect(ErrorRecord.fromError(7, notFound)).toEqual({
      order_id: 7,
      endpoint: "reissues",
      error: "NotFoundError",
      status: 404,
      code: "not_found|order",
      message: "HTTP 404"
    })
    // no response: no status and no code
    const transport = new CertCentralError.TransportError({
      endpoint: "getSubaccountOrder",
      orderId: 8,
      reason: "connection",
      message: "connection reset"
    })
    expect(ErrorRecord.fromError(8, transport)).toMatchObject({
      endpoint: "order",
      error: "TransportError",
      status: null,
      code: null
    })
    const decode = new CertCentralError.DecodeError({
      endpoint: "listDuplicates",
      orderId: 9,
      status: 200,
      path: "certificates.0.id",
      message: "expected a number"
    })
    expect(ErrorRecord.fromError(9, decode)).toMatchObject({ endpoint: "duplicates", status: 200, code: null })
  })

  it("records a bad input line with its number and text, and nothing for an exported order", () => {
    const bad = { _tag: "BadLine" as const, line: 12, input: "12ab", message: "not an order id: 12ab" }
    expect(ErrorRecord.fromBadLine(bad)).toEqual({
      line: 12,
      input: "12ab",
      endpoint: null,
      error: "InvalidOrderIdError",
      status: null,
      code: null,
      message: "not an order id: 12ab"
    })
    expect(ErrorRecord.fromOutcome(bad)).toEqual(ErrorRecord.fromBadLine(bad))
    expect(ErrorRecord.fromOutcome({ _tag: "Exported", orderId: OrderId.OrderId.make(1), line: 1, rows: [] }))
      .toBeUndefined()
  })

  it("writes one NDJSON line per record that decodes back to the same record, with the contract's keys", () => {
    const records: ReadonlyArray<ErrorRecord.ErrorRecord> = [
      {
        order_id: 5,
        endpoint: "duplicates",
        error: "ServerError",
        status: 503,
        code: null,
        message: "line\nbreak \"quoted\""
      },
      ErrorRecord.fromBadLine({ _tag: "BadLine", line: 3, input: "x,y", message: "not an order id: x,y" })
    ]
    for (const record of records) {
      const line = ErrorRecord.encode(record)
      expect(line.endsWith("\n")).toBe(true)
      expect(line.slice(0, -1)).not.toContain("\n")
      const parsed = JSON.parse(line)
      expect(Schema.decodeUnknownSync(ErrorRecord.ErrorRecord)(parsed)).toEqual(record)
      for (const key of ["endpoint", "error", "status", "code", "message"]) expect(parsed).toHaveProperty(key)
    }
  })

  it("refuses a listing's endpoint: a listing never fails an order", () => {
    expect(() => ErrorRecord.endpointOf("listOrders")).toThrow(/not a per-order endpoint: listOrders/)
  })
})
