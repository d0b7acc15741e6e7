import { OrderId } from "@certcentral/core"
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck } from "effect"

describe("OrderId", () => {
  it("parses digits with surrounding spaces", () => {
    expect(OrderId.parse(" 12345 ")).toEqual(Either.right(12345))
    expect(OrderId.parse("9007199254740991")).toEqual(Either.right(Number.MAX_SAFE_INTEGER))
    expect(OrderId.parse("007")).toEqual(Either.right(7))
  })

  it("rejects anything that could change a URL path or is not a safe positive integer", () => {
    const bad = [
      "",
      "0",
      "-1",
      "+1",
      "1e3",
      "1.0",
      "12/../../x",
      "%2e%2e",
      "12 34",
      "0x10",
      "9007199254740992",
      "99999999999999999999",
      "１２３",
      "12\u0000",
      "Infinity"
    ]
    for (const text of bad) expect(Either.isLeft(OrderId.parse(text)), JSON.stringify(text)).toBe(true)
  })

  it("never accepts a string whose digits do not round-trip to the same id", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.string({ unit: "binary", maxLength: 24 }), (text) => {
        const parsed = OrderId.parse(text)
        if (Either.isRight(parsed)) {
          expect(String(parsed.right)).toBe(text.trim().replace(/^0+/, ""))
          expect(OrderId.isOrderId(parsed.right)).toBe(true)
        }
      }),
      { numRuns: 2000 }
    )
  })
})
