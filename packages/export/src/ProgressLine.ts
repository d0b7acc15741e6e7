/**
 * The live progress line of a terminal, fitted to its width: pure functions from a {@link Progress.Snapshot} and the
 * terminal's `columns` to the text to write, so that a redraw never wraps and never leaves the previous line behind.
 *
 * @since 0.2.0
 */
import * as Progress from "./Progress.js"

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

// the last column stays free: a line that fills it leaves some terminals' cursor on the next row
const usable = (columns: number) => Math.max(1, Math.floor(columns) - 1)

const cut = (text: string, width: number) => text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`

interface Part {
  readonly text: string
  /** Parts with the lowest rank go first when the line is too wide; undefined: never dropped. */
  readonly rank?: number
  readonly short?: string
}

const partsOf = (s: Progress.Snapshot): Array<Part> => {
  const failures = s.ordersFailed + s.badLines
  const outage = Progress.renderOutage(s)
  const parts: Array<Part> = [
    {
      text: s.total === undefined ? `${s.ordersDone} orders` : `${s.ordersDone}/${s.total} orders`,
      short: s.total === undefined ? `${s.ordersDone}` : `${s.ordersDone}/${s.total}`
    },
    { text: plural(s.rows, "row"), rank: 1 },
    { text: `${failures} failed`, rank: failures > 0 ? 4 : 0 },
    { text: `${s.requestsPerSecond.toFixed(1)} req/s`, rank: 2 }
  ]
  if (s.rateLimited > 0) parts.push({ text: `${s.rateLimited}×429`, rank: 3 })
  if (outage !== undefined) {
    parts.push({
      text: outage,
      rank: 5,
      short: `API down ${Progress.formatDuration(s.unavailableMillis ?? 0)}`
    })
  }
  parts.push({ text: `ETA ${s.etaMillis === undefined ? "?" : Progress.formatDuration(s.etaMillis)}` })
  return parts
}

/**
 * The live line for a terminal `columns` wide, never wider than `columns - 1`: a bar (up to 40 cells) when the total
 * is known, then orders, rows, failures, request rate, 429s, the outage and the ETA. When it does not fit, the bar
 * narrows, then the least useful parts go (rows, rate, 429s, no failures), then the rest is condensed, and what is
 * still too wide is cut.
 *
 * @example
 * ```ts
 * import { Progress, ProgressLine } from "@certcentral/export"
 * import * as Effect from "effect/Effect"
 *
 * const line = Effect.runSync(Effect.map(Progress.make, (t) => t.snapshot).pipe(Effect.flatten))
 * assert.ok(ProgressLine.render(line, 40).length < 40)
 * ```
 *
 * @since 0.2.0
 * @category rendering
 */
export const render = (s: Progress.Snapshot, columns: number): string => {
  const width = usable(columns)
  if (s.listing !== undefined && !s.listing.done) {
    const total = s.listing.total === undefined ? "" : `/${s.listing.total}`
    const full = `listing orders: ${plural(s.listing.pages, "page")}, ${s.listing.ids}${total} ids · ${
      s.requestsPerSecond.toFixed(1)
    } req/s${s.rateLimited > 0 ? ` · ${s.rateLimited}×429` : ""}`
    return cut(full.length <= width ? full : `listing: ${s.listing.ids}${total} ids`, width)
  }
  let parts = partsOf(s)
  const text = (ps: ReadonlyArray<Part>, short: boolean) =>
    ps.map((p) => short && p.short !== undefined ? p.short : p.text).join(" · ")
  const withBar = (rest: string) => {
    if (s.total === undefined || s.total <= 0) return rest
    // "[" + cells + "] " before the rest
    const cells = Math.min(40, width - rest.length - 3)
    if (cells < 8) return rest
    const filled = Math.min(cells, Math.round((s.ordersDone / s.total) * cells))
    return `[${"#".repeat(filled)}${".".repeat(cells - filled)}] ${rest}`
  }
  for (;;) {
    const line = withBar(text(parts, false))
    if (line.length <= width) return line
    const droppable = parts.filter((p) => p.rank !== undefined)
    if (droppable.length === 0) break
    const lowest = droppable.reduce((a, b) => (b.rank! < a.rank! ? b : a))
    parts = parts.filter((p) => p !== lowest)
  }
  return cut(withBar(text(parts, true)), width)
}

/**
 * What to write to replace the `previous` line with `line` on a terminal now `columns` wide: the previous line is
 * erased with every row it wraps onto at this width (a terminal that narrowed reflows it), then `line` is written.
 *
 * @since 0.2.0
 * @category rendering
 */
export const redraw = (previous: string, line: string, columns: number): string => {
  const rows = Math.max(1, Math.ceil(previous.length / Math.max(1, Math.floor(columns))))
  return `\r\u001b[2K${"\u001b[1A\u001b[2K".repeat(rows - 1)}${line}`
}
