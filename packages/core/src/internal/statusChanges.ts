import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type * as Api from "../CertCentralClient.js"
import * as Errors from "../CertCentralError.js"
import * as StatusChange from "../StatusChange.js"
import { MAX_PAGE_SIZE, type Request } from "./listing.js"

const decodeList = Schema.decodeUnknownEither(StatusChange.StatusChangeList)

/** Safety net against a server whose `page.total` never lets the loop end: far more than a week of changes. */
const MAX_PAGES = 10_000

/**
 * The status change list of one frame, every page: the frame is checked before any request, then pages are fetched
 * through the client's one request seam (limiter, health, retries, body limits) while the body carries a `page` block
 * saying more are left; a body without one (DigiCert's documented answer) is the whole list.
 */
export const make = (request: Request): Api.Service["listStatusChanges"] => (frame) => {
  const built = StatusChange.query(frame)
  if ("invalid" in built) {
    return Effect.fail(
      new Errors.InvalidListOptionsError({ endpoint: "listStatusChanges", option: "timeFrame", message: built.invalid })
    )
  }
  const loop = (
    offset: number,
    pages: number,
    acc: ReadonlyArray<StatusChange.StatusChange>
  ): Effect.Effect<ReadonlyArray<StatusChange.StatusChange>, Errors.CertCentralError> =>
    Effect.flatMap(
      request({
        endpoint: "listStatusChanges",
        path: "/order/certificate/status-changes",
        query: { ...built.query, offset: String(offset), limit: String(MAX_PAGE_SIZE) },
        decode: (u) => Either.map(decodeList(u), (list) => list)
      }),
      ({ orders, page }) => {
        const all = acc.concat(orders)
        const next = offset + orders.length
        return page === undefined || orders.length === 0 || next >= page.total || pages + 1 >= MAX_PAGES
          ? Effect.succeed(all)
          : loop(next, pages + 1, all)
      }
    )
  return loop(0, 0, [])
}
