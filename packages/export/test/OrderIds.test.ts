import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as fc from "effect/FastCheck"
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
    const count = await Effect.runPromise(
      Stream.runCount(OrderIds.fromFile(file)).pipe(Effect.provide(NodeFileSystem.layer))
    )
    expect(count).toBe(5000)
    const missing = await Effect.runPromise(
      Effect.flip(Stream.runDrain(OrderIds.fromFile(path.join(dir, "nope")))).pipe(Effect.provide(NodeFileSystem.layer))
    )
    expect(missing._tag).toBe("ReadError")
    fs.rmSync(dir, { recursive: true })
  })
})

/** Cuts `text` at the given points (any, even inside a CRLF or a surrogate pair's neighbours) into stream pieces. */
const cut = (text: string, points: ReadonlyArray<number>): ReadonlyArray<string> => {
  const at = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b)
  const pieces: Array<string> = []
  let from = 0
  for (const p of at) {
    pieces.push(text.slice(from, p))
    from = p
  }
  pieces.push(text.slice(from))
  return pieces
}

const readSync = (pieces: ReadonlyArray<string>) =>
  Effect.runSync(
    Stream.runCollect(OrderIds.fromText(Stream.fromIterable(pieces))).pipe(Effect.map(Chunk.toReadonlyArray))
  )

// 500 runs each, five times fast-check's default: every run of the suite draws new inputs (a failure prints the seed
// that replays it), so the inputs tried add up over the runs and Node lines
describe("OrderIds (properties)", () => {
  // any bytes a file could hold, read as UTF-8 the way the CLI reads a file, or any UTF-16 string
  const anyText = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((bytes) => new TextDecoder().decode(bytes)),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.array(
      fc.constantFrom("1", "2", "0", " ", ",", "\"", "\n", "\r", "\r\n", "-", "/", ".", "e", "order_id", "\uFEFF"),
      {
        maxLength: 80
      }
    ).map((parts) => parts.join(""))
  )

  it("never fails on any input; ids are positive safe integers, once each; entries in line order", () => {
    fc.assert(
      fc.property(anyText, fc.array(fc.nat(), { maxLength: 6 }), (text, points) => {
        const entries = readSync(cut(text, points))
        const found = ids(entries)
        expect(new Set(found).size).toBe(found.length)
        for (const id of found) {
          expect(Number.isSafeInteger(id) && id > 0).toBe(true)
          // what goes into the URL path is digits only
          expect(String(id)).toMatch(/^[1-9][0-9]*$/)
        }
        const lines = entries.map((e) => e.line)
        expect(lines).toEqual([...lines].sort((a, b) => a - b))
        expect(new Set(lines).size).toBe(lines.length)
        for (const entry of entries) {
          if (entry._tag === "BadLine") expect(entry.input.length).toBeLessThanOrEqual(OrderIds.maxInputLength)
        }
      }),
      { numRuns: 500 }
    )
  })

  it("reads the same entries however the text is cut into pieces", () => {
    fc.assert(
      fc.property(anyText, fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), (text, points) => {
        expect(readSync(cut(text, points))).toEqual(readSync([text]))
      }),
      { numRuns: 500 }
    )
  })

  // A model of the reader for plain one-column files: which lines are ids, which are blank, which are bad.
  type Line =
    | { readonly kind: "id"; readonly id: number; readonly pad: string }
    | { readonly kind: "blank"; readonly text: string }
    | { readonly kind: "bad"; readonly text: string }
  const arbLine: fc.Arbitrary<Line> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant("id" as const),
        id: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
        pad: fc.constantFrom("", " ", "  ", "\t")
      })
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("blank" as const), text: fc.constantFrom("", " ", "\t \t") })
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("bad" as const),
        text: fc.oneof(
          fc.constantFrom(
            "0",
            "00",
            "-5",
            "+5",
            "1e3",
            "12.0",
            "12/../../x",
            "%2e%2e",
            "..",
            "12 13",
            "0x1f",
            "9007199254740992",
            "18446744073709551616",
            "１２"
          ),
          fc.string({ unit: fc.constantFrom(..."ab7/%.+-e x:?#"), minLength: 1, maxLength: 12 })
        ).filter((t) => t.trim() !== "" && !/^\s*[0-9]+\s*$/.test(t) && t.trim() === t)
      })
    }
  )

  it("finds every valid id once, in order, and reports every bad line with its number and text", () => {
    fc.assert(
      fc.property(
        fc.array(arbLine, { maxLength: 60 }),
        fc.constantFrom("\n", "\r\n"),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (lines, newline, bom, points) => {
          const text = (bom ? "\uFEFF" : "") +
            lines.map((line) => line.kind === "id" ? `${line.pad}${line.id}${line.pad}` : line.text).join(newline)
          const expectedIds: Array<number> = []
          const expectedBad: Array<[number, string]> = []
          lines.forEach((line, i) => {
            if (line.kind === "id" && !expectedIds.includes(line.id)) expectedIds.push(line.id)
            if (line.kind === "bad") expectedBad.push([i + 1, line.text])
          })
          const entries = readSync(cut(text, points))
          expect(ids(entries)).toEqual(expectedIds)
          expect(bad(entries)).toEqual(expectedBad)
        }
      ),
      { numRuns: 500 }
    )
  })
})
