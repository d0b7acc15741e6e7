import { WindowSchedule } from "@certcentral/core"
import * as Duration from "effect/Duration"

/** The client's request counter and the orders done, read at one instant. */
export interface Sample {
  readonly at: number
  readonly requests: number
  readonly done: number
}

// the API's own pace is the fastest this many milliseconds of the recent samples went
const PACE_SPAN = 5000
// samples for the pace are kept at least this long (and for the longest window)
const RECENT_SPAN = 60_000
// requests per order are measured from a mark about half the run back: orders in flight at both ends cancel out
const MARKS = 64
const MARK_EVERY = 1000
// fewer orders than this since the mark: orders in flight at either end make it noise, the plain ratio is used
const MIN_ORDERS = 100

/** The samples a window of `longestMillis` (and the pace) still needs, with `sample` added. */
export const addRecent = (
  recent: ReadonlyArray<Sample>,
  sample: Sample,
  longestMillis: number
): ReadonlyArray<Sample> => {
  const last = recent.at(-1)
  if (last !== undefined && sample.at <= last.at) return [...recent.slice(0, -1), sample]
  const span = Math.max(longestMillis, RECENT_SPAN)
  let first = 0
  while (first < recent.length && recent[first]!.at <= sample.at - span) first++
  // one older sample stays: it bounds the requests counted by the first one kept
  return [...recent.slice(Math.max(0, first - 1)), sample]
}

/** At most {@link MARKS} samples over the whole run, about evenly spread (halved when full). */
export const addMark = (marks: ReadonlyArray<Sample>, sample: Sample): ReadonlyArray<Sample> => {
  const last = marks.at(-1)
  if (last !== undefined && sample.at - last.at < MARK_EVERY) return marks
  const next = [...marks, sample]
  return next.length <= MARKS ? next : next.filter((_, i) => i % 2 === 0 || i === next.length - 1)
}

/**
 * The recent starts as batches: each sample's increase of the counter, placed at the sample's time, and those within
 * `grainMillis` of a batch's first merged into it (at their mean time). The schedule repeats the history's grain
 * window after window, so a fine one costs a step per request; a grain of the shortest window keeps it to a few steps
 * per window, off by less than a grain.
 */
export const history = (recent: ReadonlyArray<Sample>, grainMillis = 0): Array<WindowSchedule.Batch> => {
  const batches: Array<WindowSchedule.Batch> = []
  let opened = -Infinity
  for (let i = 1; i < recent.length; i++) {
    const count = recent[i]!.requests - recent[i - 1]!.requests
    if (count <= 0) continue
    const at = recent[i]!.at
    const last = batches.at(-1)
    if (last !== undefined && at - opened <= grainMillis) {
      // at the merged requests' mean time: as often early as late, by less than the grain
      const merged = last.count + count
      batches[batches.length - 1] = { at: (last.at * last.count + at * count) / merged, count: merged }
    } else {
      batches.push({ at, count })
      opened = at
    }
  }
  return batches
}

/** The fastest the requests went over {@link PACE_SPAN} (or the whole span, when shorter), per millisecond. */
export const pace = (recent: ReadonlyArray<Sample>): number | undefined => {
  let best: number | undefined = undefined
  let i = 0
  for (let j = 1; j < recent.length; j++) {
    while (i + 1 < j && recent[j]!.at - recent[i + 1]!.at >= PACE_SPAN) i++
    const span = recent[j]!.at - recent[i]!.at
    if (span <= 0) continue
    const rate = (recent[j]!.requests - recent[i]!.requests) / span
    if (span >= PACE_SPAN || j === recent.length - 1) best = Math.max(best ?? 0, rate)
  }
  return best === 0 ? undefined : best
}

/**
 * Requests per order of this run: as planned when there is a plan (it knows which orders need which calls); else
 * measured from the mark about half the run back, else the plain ratio (a little high: orders in flight sent some).
 */
export const requestsPerOrder = (
  marks: ReadonlyArray<Sample>,
  now: Sample,
  start: Sample,
  planned: number | undefined
): number | undefined => {
  if (planned !== undefined) return planned
  const half = start.at + (now.at - start.at) / 2
  let mark: Sample | undefined = undefined
  for (const m of marks) if (m.at <= half && m.done > start.done) mark = m
  if (mark !== undefined && now.done - mark.done >= MIN_ORDERS) {
    return (now.requests - mark.requests) / (now.done - mark.done)
  }
  return now.done > start.done ? (now.requests - start.requests) / (now.done - start.done) : undefined
}

const shortest = (windows: ReadonlyArray<WindowSchedule.Window>): number =>
  Math.min(...windows.map((w) => "windowMillis" in w ? w.windowMillis : Duration.toMillis(Duration.decode(w.window))))

/**
 * Milliseconds until the last order is done: the requests left placed into the windows after the recent starts, or
 * at the API's own pace when that is slower; undefined while nothing says how many requests an order takes.
 */
export const eta = (input: {
  readonly windows: ReadonlyArray<WindowSchedule.Window> | undefined
  readonly recent: ReadonlyArray<Sample>
  readonly marks: ReadonlyArray<Sample>
  readonly start: Sample
  readonly now: Sample
  /** Orders this run has to do in all (the total less those done before a resume). */
  readonly orders: number
  readonly planned: number | undefined
}): number | undefined => {
  const { now, start } = input
  if (now.done - start.done >= input.orders) return 0
  const perOrder = requestsPerOrder(input.marks, now, start, input.planned)
  if (perOrder === undefined) return undefined
  // requests already sent for orders still in flight count as sent
  const left = Math.max(1, Math.ceil(input.orders * perOrder - (now.requests - start.requests)))
  const windows = input.windows ?? []
  const byWindows = windows.length === 0
    ? undefined
    : WindowSchedule.earliestStart(windows, history(input.recent, shortest(windows)), left, now.at) - now.at
  const perMilli = pace(input.recent)
  const byPace = perMilli === undefined ? undefined : left / perMilli
  if (byWindows === undefined) return byPace
  return Math.max(byWindows, byPace ?? 0)
}
