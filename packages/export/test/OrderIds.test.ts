import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { OrderIds } from "../src/index.js"

const read = (text: string | ReadonlyArray<string>) =>
  Effect.runPromise(
    Stream.runCollect(OrderIds.fromText(Stream.fromIterable(typeof text === "string" ? [text] : text))).pipe(
      Effect.map(Chunk.toReadonlyArray)
    )
  )

const ids = (entries: ReadonlyArray<OrderIds.Entry>) => entries.flatMap((e) => e._tag === "Id" ? [e.orderId] : [])
const bad = (entries: ReadonlyArray<OrderIds.Entry>) =>
  entries.flatMap((e) => e._tag === "BadLine" ? [[e.line, e.input]] : [])

describe("OrderIds", () => {
  it("reads one id per line with blank lines, spaces, a BOM and CRLF", async () => {
    const entries = await read("\uFEFF123\r\n\r\n  456  \r\n\t789\n\n")
    expect(entries).toEqual([
      { _tag: "Id", orderId: 123, line: 1 },
      { _tag: "Id", orderId: 456, line: 3 },
      { _tag: "Id", orderId: 789, line: 4 }
    ])
  })

  it("splits lines across chunks", async () => {
    expect(ids(await read(["12", "3\n45", "6\r", "\n789"]))).toEqual([123, 456, 789])
  })

  it("takes the order_id column of a CSV with a header in any case", async () => {
    const entries = await read("\n\nname,Order_ID,note\n\"Smith, J\",12,x\nb, 13 ,\"a,b\"\nc,,d\n")
    expect(ids(entries)).toEqual([12, 13])
    expect(bad(entries)).toEqual([[6, "c,,d"]])
  })

  it("takes the first column of a CSV without a header", async () => {
    expect(ids(await read("12,foo\n13,bar\n"))).toEqual([12, 13])
  })

  it("exports repeated ids once", async () => {
    expect(ids(await read("5\n6\n5\n 6 \n7\n"))).toEqual([5, 6, 7])
  })

  it("reports each bad line with its line number and text, and goes on", async () => {
    const entries = await read("1\nabc\n2\n-3\n")
    expect(ids(entries)).toEqual([1, 2])
    expect(bad(entries)).toEqual([[2, "abc"], [4, "-3"]])
    const first = entries.find((e) => e._tag === "BadLine") as OrderIds.BadLine
    expect(first.message).toContain("not an order id")
  })

  it("rejects path-changing, signed, exponent, decimal and unsafe inputs", async () => {
    const hostile = [
      "12/../../x",
      "%2e%2e",
      "..",
      "12%2F..",
      "+12",
      "-12",
      "1e3",
      "12.0",
      "0x1F",
      "0",
      "9007199254740992",
      "99999999999999999999",
      "１２",
      "12 13",
      "12;13"
    ]
    const entries = await read(hostile.join("\n"))
    expect(ids(entries)).toEqual([])
    expect(bad(entries).map(([line]) => line)).toEqual(hostile.map((_, i) => i + 1))
  })

  it("accepts the largest safe integer", async () => {
    expect(ids(await read("9007199254740991\n"))).toEqual([9007199254740991])
  })

  it("reads from an iterable of numbers", async () => {
    const entries = await Effect.runPromise(Stream.runCollect(OrderIds.fromIterable([3, 1, 3, 1.5])))
    expect(Chunk.toReadonlyArray(entries).map((e) => e._tag)).toEqual(["Id", "Id", "BadLine"])
  })

  it("reads a file as a stream, and reports a missing file as a ReadError", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orderids-"))
    const file = path.join(dir, "ids.csv")
    fs.writeFileSync(file, "ORDER_ID\r\n" + Array.from({ length: 5000 }, (_, i) => String(i + 1)).join("\r\n"))
    const count = await Effect.runPromise(Stream.runCount(OrderIds.fromFile(file)))
    expect(count).toBe(5000)
    const missing = await Effect.runPromise(Effect.flip(Stream.runDrain(OrderIds.fromFile(path.join(dir, "nope")))))
    expect(missing._tag).toBe("ReadError")
    fs.rmSync(dir, { recursive: true })
  })
})
