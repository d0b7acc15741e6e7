/**
 * `OrderIds` reads text by bounded lines: a line longer than `maxLineLength` is one bad line (its first characters in
 * `input`), or the complete cells at its start for a CSV row, without being held whole; the lines around it are read
 * as usual. (The peak memory on a 300 MB line is measured by `pnpm bench`, not asserted here.)
 */
import { it as effectIt } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as fc from "effect/FastCheck"
import { describe, expect, it } from "vitest"
import { OrderIds } from "../src/index.js"
import { splitBounded } from "../src/internal/lines.js"

const collect = <A>(stream: Stream.Stream<A>) => Effect.runSync(Stream.runCollect(stream)).pipe(Chunk.toReadonlyArray)

/** `count` pieces of `piece`, made one at a time as the stream is read. */
const repeated = (piece: string, count: number): Stream.Stream<string> =>
  Stream.map(Stream.range(1, count), () => piece)

describe("OrderIds by bounded lines", () => {
  effectIt.effect(
    "reads a 32 MB line as one bad line, keeps its first characters, and reads the lines after it",
    () =>
      Effect.gen(function*() {
        // the shape of a wrong --orders file: digits and bytes with no line break for megabytes
        const input = Stream.concat(
          Stream.make("11\n"),
          repeated("0123456789abcdef".repeat(4096), 512)
        ).pipe(Stream.concat(Stream.make("\n12\r\n13")))
        const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(OrderIds.fromText(input)))
        expect(entries.map((e) => e._tag === "Id" ? e.orderId : e.line)).toEqual([11, 2, 12, 13])
        const bad = entries[1]!
        if (bad._tag !== "BadLine") throw new Error("expected a bad line")
        expect(bad.input).toBe("0123456789abcdef".repeat(13).slice(0, OrderIds.maxInputLength))
        expect(bad.message).toMatch(/^not an order id/)
        expect(bad.message.length).toBeLessThan(200)
      })
  )

  it("reads the id of a CSV row whose later cells make it longer than the bound", () => {
    const row = `42,${"x".repeat(OrderIds.maxLineLength * 3)}`
    const entries = collect(OrderIds.fromText(Stream.make(`order_id,names\n${row}\n43,y\n`)))
    expect(entries).toEqual([{ _tag: "Id", orderId: 42, line: 2 }, { _tag: "Id", orderId: 43, line: 3 }])
  })

  it("gives a CSV row a bad line when its id cell is past the bound", () => {
    const row = `${"x".repeat(OrderIds.maxLineLength * 2)},42`
    const entries = collect(OrderIds.fromText(Stream.make(`names,order_id\n${row}\n`)))
    expect(entries.map((e) => [e._tag, e.line])).toEqual([["BadLine", 2]])
  })

  it("bounds lines given in memory the same way", () => {
    const entries = collect(OrderIds.fromIterable(["7", "8".repeat(OrderIds.maxLineLength + 1), "9"]))
    expect(entries.map((e) => [e._tag, e.line])).toEqual([["Id", 1], ["BadLine", 2], ["Id", 3]])
  })

  const text = fc.string({ unit: fc.constantFrom("a", "1", "2", ",", "\n", "\r", " ", "\""), maxLength: 120 })
  const piecesOf = (s: string, points: ReadonlyArray<number>) => {
    const cuts = [...new Set(points.map((p) => p % (s.length + 1)))].sort((a, b) => a - b)
    return [0, ...cuts].map((from, i, all) => s.slice(from, all[i + 1] ?? s.length))
  }

  it("reads lines under the bound as the reader over Stream.splitLines did, however the text is cut", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 10 }), (s, points) => {
        const before = collect(OrderIds.fromLines(Stream.splitLines(Stream.make(s))))
        expect(collect(OrderIds.fromText(Stream.fromIterable(piecesOf(s, points))))).toEqual(before)
      }),
      { numRuns: 1000 }
    )
  })

  it("splits at line feeds, drops the CR before one, keeps at most the bound of each line, however the text is cut", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 10 }), fc.integer({ min: 1, max: 20 }), (s, points, keep) => {
        const lines = s.split("\n")
        if (lines.at(-1) === "") lines.pop()
        const actual = collect(splitBounded(Stream.fromIterable(piecesOf(s, points)), keep))
        expect(actual).toEqual(lines.map((line) => line.replace(/\r$/, "").slice(0, keep)))
      }),
      { numRuns: 1000 }
    )
  })
})
