/**
 * Order ids from text: one id per line, or a CSV with an `order_id` column (and optionally a `has_duplicates` column,
 * the planner's hint). Read line by line as a stream; repeated ids come out once; every other line that is not an id
 * comes out as a bad line with its line number.
 *
 * @since 0.1.0
 */
import { OrderId } from "@certcentral/core"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import Papa from "papaparse"
import { describe } from "./internal/errno.js"
import { splitBounded } from "./internal/lines.js"

/**
 * An order id to export, with the line it came from (1-based, counting every line of the input).
 *
 * @since 0.1.0
 * @category models
 */
export interface Id {
  readonly _tag: "Id"
  readonly orderId: OrderId.OrderId
  readonly line: number
  /**
   * What a listing said of the order's duplicates: `false` spares the duplicates request (the rows are the same
   * either way); `true` or absent (unknown) makes it.
   */
  readonly hasDuplicates?: boolean | undefined
}

/**
 * An order id with what a listing said of it (see {@link Id}'s `hasDuplicates`), for {@link fromNumbers}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Hinted {
  readonly id: number
  readonly hasDuplicates?: boolean | undefined
}

/**
 * A line that is not blank and not an order id: reported, then skipped.
 *
 * @since 0.1.0
 * @category models
 */
export interface BadLine {
  readonly _tag: "BadLine"
  readonly line: number
  readonly input: string
  readonly message: string
}

/**
 * One entry of the input, in input order.
 *
 * @since 0.1.0
 * @category models
 */
export type Entry = Id | BadLine

/**
 * A bad line keeps at most this many characters of its text.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxInputLength = 200

/**
 * A line longer than this many characters is read as its first ones only (cut after their last complete cell, for a
 * CSV row), the rest skipped as it streams by: an id is at most 16 digits, and a wrong file of one line (a binary, a
 * CSV without line breaks) must not be held whole.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxLineLength = 4096

/** The part of a line that is read: all of it, or the complete cells of its first {@link maxLineLength} characters. */
const bounded = (line: string): string => {
  if (line.length <= maxLineLength) return line
  const head = line.slice(0, maxLineLength)
  const cells = head.lastIndexOf(",")
  return cells === -1 ? head : head.slice(0, cells)
}

interface State {
  line: number
  column: number | undefined
  /** The `has_duplicates` column of a header, if it has one. */
  hint: number | undefined
  readonly seen: Set<number>
}

const splitCells = (text: string): ReadonlyArray<string> => {
  if (!text.includes(",") && !text.includes("\"")) return [text]
  const parsed = Papa.parse<Array<string>>(text, { delimiter: ",", newline: "\n" })
  return parsed.data[0] ?? [text]
}

const isHeaderCell = (cell: string) => cell.trim().toLowerCase() === "order_id"
const isHintCell = (cell: string) => cell.trim().toLowerCase() === "has_duplicates"

/** A `has_duplicates` cell: `true`/`1` or `false`/`0` (any case); anything else is unknown, so the order is asked. */
const parseHint = (cell: string | undefined): boolean | undefined => {
  switch (cell?.trim().toLowerCase()) {
    case "true":
    case "1":
      return true
    case "false":
    case "0":
      return false
    default:
      return undefined
  }
}

const step = (state: State, raw: string): ReadonlyArray<Entry> => {
  state.line++
  let text = raw.endsWith("\r") ? raw.slice(0, -1) : raw
  if (state.line === 1 && text.startsWith("\uFEFF")) text = text.slice(1)
  if (text.trim() === "") return []
  let cells: ReadonlyArray<string>
  if (state.column === undefined) {
    cells = splitCells(text)
    const header = cells.findIndex(isHeaderCell)
    if (header !== -1) {
      state.column = header
      const hint = cells.findIndex(isHintCell)
      state.hint = hint === -1 ? undefined : hint
      return []
    }
    state.column = 0
  } else {
    cells = state.column === 0 && state.hint === undefined && !text.includes("\"")
      ? [text.split(",", 1)[0]!]
      : splitCells(text)
  }
  const cell = cells[state.column] ?? ""
  const parsed = OrderId.parse(cell)
  if (Either.isLeft(parsed)) {
    return [{ _tag: "BadLine", line: state.line, input: text.slice(0, maxInputLength), message: parsed.left }]
  }
  if (state.seen.has(parsed.right)) return []
  state.seen.add(parsed.right)
  const hasDuplicates = state.hint === undefined ? undefined : parseHint(cells[state.hint])
  return [
    hasDuplicates === undefined
      ? { _tag: "Id", orderId: parsed.right, line: state.line }
      : { _tag: "Id", orderId: parsed.right, line: state.line, hasDuplicates }
  ]
}

/**
 * Entries from lines of text (without their line breaks; a trailing CR is dropped). The first non-blank line is a
 * header when one of its cells is `order_id` (any case): that column then holds the ids; otherwise the first column
 * does. A header cell `has_duplicates` names the planner's hint column (`true`/`false`/`1`/`0`; empty or anything else
 * is unknown). Blank lines are skipped, spaces around an id and a BOM are fine, repeated ids come out once. Of a line
 * longer than {@link maxLineLength} only the complete cells of its first characters are read.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLines = <E, R>(lines: Stream.Stream<string, E, R>): Stream.Stream<Entry, E, R> =>
  Stream.suspend(() => {
    const state: State = { line: 0, column: undefined, hint: undefined, seen: new Set() }
    return Stream.mapChunks(
      lines,
      (chunk) => Chunk.unsafeFromArray(Chunk.toReadonlyArray(chunk).flatMap((line) => step(state, bounded(line))))
    )
  })

/**
 * Entries from text arriving in pieces (a file, stdin): split into lines, then as {@link fromLines}. At most
 * {@link maxLineLength} characters of a line are held: memory is bounded by that, not by the input.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromText = <E, R>(text: Stream.Stream<string, E, R>): Stream.Stream<Entry, E, R> =>
  fromLines(splitBounded(text, maxLineLength + 1))

/**
 * Entries from a list already in memory: each element is one line (numbers are written out as text first).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromIterable = (ids: Iterable<number | string>): Stream.Stream<Entry> =>
  fromLines(Stream.map(Stream.fromIterable(ids), String))

/**
 * The input could not be read (a missing or unreadable file, a failing stdin).
 *
 * @since 0.1.0
 * @category errors
 */
export class ReadError extends Schema.TaggedError<ReadError>()("ReadError", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * Entries from a file, read as a stream (chunk by chunk, never whole) through the platform's `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFile = (path: string): Stream.Stream<Entry, ReadError, FileSystem.FileSystem> =>
  fromText(Stream.decodeText(Stream.unwrap(Effect.map(FileSystem.FileSystem, (fs) =>
    fs.stream(path).pipe(
      Stream.mapError((e) => new ReadError({ path, message: `cannot read ${path}: ${describe(e)}` }))
    )))))

/**
 * Entries from ids already in memory or in a stream: numbers, or {@link Hinted} ids that carry what a listing of your
 * own said (`{ id, hasDuplicates: false }` spares that order's duplicates request). Each id is checked as an
 * {@link OrderId.OrderId} (its position, from 1, is its line number) and repeated ids come out once (the first one's
 * hint counts), as for a file, without going through text.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromNumbers = <E, R>(ids: Stream.Stream<number | Hinted, E, R>): Stream.Stream<Entry, E, R> =>
  Stream.suspend(() => {
    const seen = new Set<number>()
    let line = 0
    return Stream.filterMap(ids, (item): Option.Option<Entry> => {
      line++
      const id = typeof item === "number" ? item : item.id
      const hasDuplicates = typeof item === "number" ? undefined : item.hasDuplicates
      if (!OrderId.isOrderId(id)) {
        const input = String(id).slice(0, maxInputLength)
        return Option.some({
          _tag: "BadLine",
          line,
          input,
          message: Either.getLeft(OrderId.parse(input)).pipe(
            Option.getOrElse(() => `not an order id: ${input}`)
          )
        })
      }
      if (seen.has(id)) return Option.none()
      seen.add(id)
      return Option.some(
        typeof hasDuplicates === "boolean"
          ? { _tag: "Id", orderId: id, line, hasDuplicates }
          : { _tag: "Id", orderId: id, line }
      )
    })
  })

/**
 * Entries from the process's standard input, read through the platform's Node stream (with backpressure; stdin is
 * left open for the process when the stream ends); a failing stdin is a {@link ReadError}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromStdin: Stream.Stream<Entry, ReadError> = fromText(Stream.decodeText(
  NodeStream.fromReadable(
    () => process.stdin,
    (e) => new ReadError({ path: "stdin", message: `cannot read stdin: ${describe(e)}` }),
    { closeOnDone: false }
  )
))
