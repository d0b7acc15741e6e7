/**
 * DigiCert's status change list (`GET /order/certificate/status-changes`): the orders whose status changed in a time
 * frame, either up to now (`minutes`/`seconds`) or between two moments (`filters[status_last_updated]=START...END`,
 * in DigiCert's MDT), at most 7 days per request.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import type * as CertCentralError from "./CertCentralError.js"
import * as DigiCertSchema from "./DigiCertSchema.js"
import { PageInfo } from "./OrderSummary.js"
import { OrderStatus } from "./SubaccountOrder.js"

/**
 * One entry of the list: an order whose status changed, its certificate and the status it has now. Unknown fields
 * are ignored and unknown statuses accepted.
 *
 * @since 0.2.0
 * @category models
 */
export class StatusChange extends Schema.Class<StatusChange>("StatusChange")({
  order_id: Schema.Int.pipe(Schema.positive(), Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER)),
  certificate_id: DigiCertSchema.optional(Schema.Int),
  status: DigiCertSchema.optional(OrderStatus)
}) {}

/**
 * A response body: `{"orders": [...]}`, `{}` (DigiCert's examples show it for no changes) and, if the API pages, a
 * `page` block as on the other lists.
 *
 * @since 0.2.0
 * @category models
 */
export const StatusChangeList = Schema.Struct({
  orders: Schema.optionalWith(Schema.Array(StatusChange), { default: () => [], nullable: true }),
  page: DigiCertSchema.optional(PageInfo)
})

/**
 * The longest frame one request may ask for: 7 days (DigiCert answers `time_frame_too_long` past it).
 *
 * @since 0.2.0
 * @category constants
 */
export const maxFrameMillis = 7 * 86_400_000

/**
 * DigiCert reads `status_last_updated` in MDT, UTC−6.
 *
 * @since 0.2.0
 * @category constants
 */
export const mdtOffsetMillis = -6 * 3_600_000

/**
 * A time frame: the last `millis` up to now (sent as `minutes`, or `seconds` when not whole minutes), or the moments
 * from `start` to `end` (epoch milliseconds, sent as the date filter in MDT, widened to whole seconds).
 *
 * @since 0.2.0
 * @category models
 */
export type TimeFrame =
  | { readonly _tag: "UpToNow"; readonly millis: number }
  | { readonly _tag: "Between"; readonly start: number; readonly end: number }

/**
 * The frame that ends now and began `millis` ago (at most 7 days).
 *
 * @since 0.2.0
 * @category constructors
 */
export const upToNow = (millis: number): TimeFrame => ({ _tag: "UpToNow", millis })

/**
 * The frame from `start` to `end` (epoch milliseconds, at most 7 days apart).
 *
 * @since 0.2.0
 * @category constructors
 */
export const between = (start: number, end: number): TimeFrame => ({ _tag: "Between", start, end })

const pad = (n: number) => String(n).padStart(2, "0")

/**
 * A moment as DigiCert's date filter takes it, in MDT: `yyyy-MM-dd HH:mm:ss`. The space goes over the wire as `+`
 * (form encoding), which is how DigiCert writes it (`yyyy-MM-dd+HH:mm:ss`).
 *
 * @since 0.2.0
 * @category formatting
 */
export const formatMdt = (epochMillis: number): string => {
  const d = new Date(epochMillis + mdtOffsetMillis)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}`
}

/**
 * The query of a frame, or why it cannot be sent (not finite, negative, longer than 7 days, end before start).
 *
 * @since 0.2.0
 * @category formatting
 */
export const query = (frame: TimeFrame): { readonly query: Record<string, string> } | { readonly invalid: string } => {
  if (frame._tag === "UpToNow") {
    const seconds = Math.ceil(frame.millis / 1000)
    if (!Number.isFinite(seconds) || seconds < 1 || seconds * 1000 > maxFrameMillis) {
      return { invalid: `a frame up to now is 1 second to 7 days, got ${String(frame.millis)} ms` }
    }
    return { query: seconds % 60 === 0 ? { minutes: String(seconds / 60) } : { seconds: String(seconds) } }
  }
  const start = Math.floor(frame.start / 1000) * 1000
  const end = Math.ceil(frame.end / 1000) * 1000
  if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || end < start) {
    return { invalid: `a frame's end must not be before its start, got ${String(frame.start)}...${String(frame.end)}` }
  }
  if (end - start > maxFrameMillis) {
    return { invalid: `a frame is at most 7 days, got ${Math.round((end - start) / 1000)} s` }
  }
  return { query: { "filters[status_last_updated]": `${formatMdt(start)}...${formatMdt(end)}` } }
}

/**
 * Tells whether DigiCert refused a frame as longer than it serves (a 400 `time_frame_too_long`).
 *
 * @since 0.2.0
 * @category guards
 */
export const isTimeFrameTooLong = (error: CertCentralError.CertCentralError): boolean =>
  error._tag === "BadRequestError" && error.errors.some((e) => e.code === "time_frame_too_long")
