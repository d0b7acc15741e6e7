/**
 * The renderings of a {@link Progress.Snapshot}: pure functions to the text the CLI writes. The live line of a
 * terminal fitted to its `columns` (so that a redraw never wraps and never leaves the previous line behind), the plain
 * line for logs, the bar and the closing summary.
 *
 * @since 0.2.0
 */
import type * as Progress from "./Progress.js"

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

// the last column stays free: a line that fills it leaves some terminals' cursor on the next row
const usable = (columns: number) => Math.max(1, Math.floor(columns) - 1)

const cut = (text: string, width: number) => text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`

const duration = (millis: number): string => {
  const total = Math.round(millis / 1000)
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`
}

const listingText = (listing: Progress.Listing): string =>
  `${plural(listing.pages, "page")}, ${listing.ids}${listing.total === undefined ? "" : `/${listing.total}`} ids`

/**
 * A duration as people write it, without the parts that are zero: `500ms`, `40s`, `1m30s`, `10m`, `1h05m`.
 *
 * @since 0.2.0
 * @category rendering
 */
export const formatDuration = (millis: number): string => {
  if (millis > 0 && millis < 1000) return `${Math.round(millis)}ms`
  const total = Math.round(Math.max(0, millis) / 1000)
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60
  if (h > 0) return m === 0 ? `${h}h` : `${h}h${String(m).padStart(2, "0")}m`
  if (m > 0) return s === 0 ? `${m}m` : `${m}m${String(s).padStart(2, "0")}s`
  return `${s}s`
}

/**
 * While the circuit is open or probing, what the client is waiting for: `API unavailable for 40s, next try in 16s`.
 *
 * @since 0.2.0
 * @category rendering
 */
export const renderOutage = (s: Progress.Snapshot): string | undefined =>
  s.unavailableMillis === undefined ?
    undefined :
    `API unavailable for ${formatDuration(s.unavailableMillis)}, ${
      s.nextProbeInMillis === undefined ? "trying now" : `next try in ${formatDuration(s.nextProbeInMillis)}`
    }`

/**
 * One line for a terminal: a bar when the total is known, then orders, rows, failures, request rate and ETA.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderBar = (s: Progress.Snapshot, width = 24): string => {
  if (s.listing !== undefined && !s.listing.done) {
    return `listing orders: ${listingText(s.listing)} · ${s.requestsPerSecond.toFixed(1)} req/s${
      s.rateLimited > 0 ? ` · ${s.rateLimited}×429` : ""
    }`
  }
  const failures = s.ordersFailed + s.badLines
  const parts: Array<string> = []
  if (s.total !== undefined && s.total > 0) {
    const filled = Math.min(width, Math.round((s.ordersDone / s.total) * width))
    parts.push(`[${"#".repeat(filled)}${".".repeat(width - filled)}] ${s.ordersDone}/${s.total} orders`)
  } else {
    parts.push(`${s.ordersDone} orders`)
  }
  parts.push(plural(s.rows, "row"), `${failures} failed`, `${s.requestsPerSecond.toFixed(1)} req/s`)
  if (s.rateLimited > 0) parts.push(`${s.rateLimited}×429`)
  const outage = renderOutage(s)
  if (outage !== undefined) parts.push(outage)
  parts.push(`ETA ${s.etaMillis === undefined ? "?" : duration(s.etaMillis)}`)
  return parts.join(" · ")
}

/**
 * One plain line for logs (no terminal); while the circuit is open it says so (see {@link renderOutage}).
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderLine = (s: Progress.Snapshot): string => {
  if (s.listing !== undefined && !s.listing.done) {
    return `progress: listing orders, ${listingText(s.listing)}, ${s.requests} requests (${
      s.requestsPerSecond.toFixed(1)
    }/s), ${s.retries} retries, ${s.rateLimited} 429s`
  }
  const outage = renderOutage(s)
  return `progress: ${s.ordersDone}${s.total === undefined ? "" : `/${s.total}`} orders, ${plural(s.rows, "row")}, ${
    s.ordersFailed + s.badLines
  } failed, ${s.requests} requests (${s.requestsPerSecond.toFixed(1)}/s), ${s.retries} retries, ${s.rateLimited} 429s${
    outage === undefined ? "" : `, ${outage}`
  }${s.etaMillis === undefined ? "" : `, ETA ${duration(s.etaMillis)}`}`
}

// what the requests cost: per order, and the share of the windows they used
const usage = (s: Progress.Snapshot): string => {
  const parts: Array<string> = []
  if (s.requestsPerOrder !== undefined) parts.push(`${s.requestsPerOrder.toFixed(2)} per order`)
  if (s.windowUse !== undefined && s.windows !== undefined) {
    parts.push(`${Math.round(s.windowUse * 100)}% of the rate limits (${s.windows}) used`)
  }
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`
}

/**
 * The closing paragraph: orders, rows, failures, requests (per order, and the share of the rate limits used over the
 * run's time), retries, 429s, outages and the time spent in them (when
 * there were any), elapsed time.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderSummary = (s: Progress.Snapshot, outcome: string): string =>
  `${outcome}: ${
    s.listing === undefined ? "" : `${plural(s.listing.ids, "order")} listed in ${plural(s.listing.pages, "page")}, `
  }${plural(s.ordersExported, "order")} exported${
    s.resumedOrders > 0 ? ` (${s.resumedOrders} done before resuming)` : ""
  }, ${plural(s.rows, "row")} written, ${plural(s.ordersFailed, "order")} failed, ${
    plural(s.badLines, "bad input line")
  }; ${plural(s.requests, "request")}${usage(s)}, ${
    plural(s.retries, "retry").replace("retrys", "retries")
  }, ${s.rateLimited} ${s.rateLimited === 1 ? "429 response" : "429 responses"}${
    s.outages > 0
      ? `, ${plural(s.outages, "outage")} (API unavailable for ${formatDuration(s.outageMillis)} in all)`
      : ""
  } in ${duration(s.elapsedMillis)}.`

interface Part {
  readonly text: string
  /** Parts with the lowest rank go first when the line is too wide; undefined: never dropped. */
  readonly rank?: number
  readonly short?: string
}

const partsOf = (s: Progress.Snapshot): Array<Part> => {
  const failures = s.ordersFailed + s.badLines
  const outage = renderOutage(s)
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
      short: `API down ${formatDuration(s.unavailableMillis ?? 0)}`
    })
  }
  parts.push({ text: `ETA ${s.etaMillis === undefined ? "?" : formatDuration(s.etaMillis)}` })
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
