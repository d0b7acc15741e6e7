/** The refresh's plan: listing entries, which orders to fetch or copy, and the status change requests to make. */
import { OrderSummary, StatusChange } from "@certcentral/core"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import * as Outcomes from "../../Outcomes.js"

/**
 * One listed order as a refresh compares it: its id, a fingerprint of its listing entry, and `has_duplicates` when the
 * listing says (`undefined` when it does not: the order is then treated as having some).
 *
 * @since 0.2.0
 * @category models
 */
export interface ListingEntry {
  readonly id: number
  readonly fingerprint: string
  readonly hasDuplicates: boolean | undefined
}

const encodeSummary = Schema.encodeSync(OrderSummary.OrderSummary)

/**
 * The listing entry of a listed order. The fingerprint covers every decoded field except `days_remaining`, which
 * follows from `valid_till` and the day (it would otherwise mark every order changed each day).
 *
 * @since 0.2.0
 * @category constructors
 */
export const listingEntry = (summary: OrderSummary.OrderSummary): ListingEntry => {
  const plain = JSON.parse(JSON.stringify(encodeSummary(summary))) as { certificate?: { days_remaining?: unknown } }
  if (plain.certificate !== undefined) delete plain.certificate.days_remaining
  const hint = (summary as { readonly has_duplicates?: unknown }).has_duplicates
  return {
    id: summary.id,
    fingerprint: createHash("sha256").update(JSON.stringify(plain)).digest("hex").slice(0, 32),
    hasDuplicates: typeof hint === "boolean" ? hint : undefined
  }
}

/**
 * Why an order is fetched: new to the listing, its listing entry changed, in the status change list, failed in the
 * earlier run, or (its duplicates list only) it has duplicates.
 *
 * @since 0.2.0
 * @category models
 */
export type Reason = "new" | "listing" | "status" | "failed" | "duplicates"

/**
 * What a refresh does with one listed order: fetch it whole, fetch its duplicates list only (the rest of its rows
 * copied), or copy its rows.
 *
 * @since 0.2.0
 * @category models
 */
export interface Planned {
  readonly id: number
  /** Its 1-based position in the listing. */
  readonly line: number
  readonly action: "fetch" | "duplicates" | "copy"
  readonly reason: Reason | undefined
}

/**
 * The plan of a refresh: every listed order in listing order, and the earlier orders gone from the listing.
 *
 * @since 0.2.0
 * @category models
 */
export interface Plan {
  readonly orders: ReadonlyArray<Planned>
  readonly gone: ReadonlyArray<number>
}

/**
 * What {@link plan} decides from.
 *
 * @since 0.2.0
 * @category models
 */
export interface PlanInput {
  /** The earlier run's listing; `undefined` when there is no earlier export (every order is fetched). */
  readonly earlier: ReadonlyArray<ListingEntry> | undefined
  readonly listing: ReadonlyArray<ListingEntry>
  /** Orders in the status change list since the earlier listing. */
  readonly changed: Iterable<number>
  /** Orders in the earlier errors file. */
  readonly failedBefore: Iterable<number>
  /** The endpoints called: without `duplicates`, duplicates never make an order fetched. */
  readonly include?: ReadonlyArray<Outcomes.Endpoint> | undefined
}

/**
 * Which orders to fetch and which to copy. Fetched whole: orders new to the listing, whose listing entry changed, in
 * the status change list, or that failed before. Of the others, those with duplicates (or no hint) get their
 * duplicates list fetched, since a new duplicate changes no listing field and no status. The rest are copied.
 *
 * @since 0.2.0
 * @category planning
 */
export const plan = (input: PlanInput): Plan => {
  const earlier = new Map((input.earlier ?? []).map((e) => [e.id, e]))
  const changed = new Set(input.changed)
  const failed = new Set(input.failedBefore)
  const duplicatesIncluded = Outcomes.normalizeInclude(input.include).includes("duplicates")
  const listed = new Set<number>()
  const orders = input.listing.map((entry, i): Planned => {
    listed.add(entry.id)
    const before = earlier.get(entry.id)
    const reason: Reason | undefined = input.earlier === undefined || before === undefined
      ? "new"
      : before.fingerprint !== entry.fingerprint || before.hasDuplicates !== entry.hasDuplicates
      ? "listing"
      : changed.has(entry.id)
      ? "status"
      : failed.has(entry.id)
      ? "failed"
      : undefined
    if (reason !== undefined) return { id: entry.id, line: i + 1, action: "fetch", reason }
    return duplicatesIncluded && entry.hasDuplicates !== false
      ? { id: entry.id, line: i + 1, action: "duplicates", reason: "duplicates" }
      : { id: entry.id, line: i + 1, action: "copy", reason: undefined }
  })
  return { orders, gone: [...earlier.keys()].filter((id) => !listed.has(id)) }
}

/**
 * The status change requests that cover everything since `since` up to `now` (epoch ms), the earlier listing's start
 * moved back by `margin`: one frame up to now when that reaches (at most 7 days less an hour, for the time the request
 * takes to arrive), else 7-day windows with the date filter from there, then a last frame up to now that overlaps the
 * last window by `margin`. The last frame is always up to now: with the date filter DigiCert leaves out orders that
 * changed again after the window's end, and such a later change is in a later window or in the last frame.
 *
 * @since 0.2.0
 * @category planning
 */
export const statusWindows = (
  since: number,
  now: number,
  margin: Duration.DurationInput = defaultMargin
): ReadonlyArray<StatusChange.TimeFrame> => {
  const marginMillis = Duration.toMillis(Duration.decode(margin))
  const reach = StatusChange.maxFrameMillis - 3_600_000
  // on a whole second: the date filter has seconds, and a window must stay within 7 days once rounded to them
  let start = Math.floor((since - marginMillis) / 1000) * 1000
  const frames: Array<StatusChange.TimeFrame> = []
  while (now - start > reach) {
    const end = Math.min(start + StatusChange.maxFrameMillis, now)
    frames.push(StatusChange.between(start, end))
    start = end
  }
  const span = Math.min(reach, Math.max(60_000, now - start + (frames.length === 0 ? 0 : marginMillis)))
  frames.push(StatusChange.upToNow(Math.ceil(span / 60_000) * 60_000))
  return frames
}

/**
 * How far before the earlier listing the status changes are asked for (default one hour): covers clock skew and a
 * server that reads the date filter as MST (UTC−7) rather than MDT.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMargin: Duration.DurationInput = "1 hour"
