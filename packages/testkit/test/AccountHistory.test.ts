import { Account, AccountHistory, OrderData } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const t0 = Date.UTC(2024, 5, 1, 12)
const t1 = t0 + 2 * DAY
const ids = Account.generatedIds(40)

const seed = 11
// an issued order with duplicates, and one without: whatever the generator made of them
const issued = ids.filter((id) =>
  OrderData.subaccountOrder(seed, id, { showArchived: false, includeValidationStatus: false }).status === "issued"
)
const withDuplicates = issued.find((id) => OrderData.allDuplicates(seed, id).length > 0)!
const withoutDuplicates = issued.filter((id) => OrderData.allDuplicates(seed, id).length === 0)

const history = AccountHistory.make(seed, ids, [
  { _tag: "Revoked", orderId: withoutDuplicates[0]!, at: t0 + HOUR },
  { _tag: "Reissued", orderId: withoutDuplicates[1]!, at: t0 + 2 * HOUR },
  { _tag: "Duplicated", orderId: withDuplicates, at: t0 + 3 * HOUR },
  { _tag: "ReissueRejected", orderId: withoutDuplicates[2]!, at: t0 + 4 * HOUR },
  { _tag: "Placed", orderId: 999_001, at: t0 + 5 * HOUR },
  { _tag: "Removed", orderId: withoutDuplicates[3]!, at: t0 + 6 * HOUR },
  { _tag: "Failing", orderId: withoutDuplicates[4]!, at: 0, until: t0 + 7 * HOUR }
])

const body = (a: { status: number; body: string }) => {
  expect(a.status).toBe(200)
  return JSON.parse(a.body)
}
const listed = (now: number) =>
  body(AccountHistory.answer(history, "/order/certificate", new URLSearchParams(), now)).orders as Array<any>
const byId = (orders: Array<any>, id: number) => orders.find((o) => o.id === id)

describe("AccountHistory", () => {
  it("before any event the account is the generated one, with has_duplicates in the listing", () => {
    const orders = listed(t0)
    expect(orders.map((o) => o.id)).toEqual(ids)
    expect(byId(orders, withDuplicates).has_duplicates).toBe(true)
    expect(byId(orders, withoutDuplicates[0]!).has_duplicates).toBe(false)
    const order = body(AccountHistory.answer(history, `/account/subaccount/order/${ids[0]}`, new URLSearchParams(), t0))
    expect(order).toEqual(
      OrderData.subaccountOrder(seed, ids[0]!, { showArchived: false, includeValidationStatus: false })
    )
  })

  it("a revoked order is revoked in the listing, in order info and in the status change list", () => {
    const id = withoutDuplicates[0]!
    expect(byId(listed(t1), id).status).toBe("revoked")
    expect(body(AccountHistory.answer(history, `/account/subaccount/order/${id}`, new URLSearchParams(), t1)).status)
      .toBe("revoked")
    const changes = AccountHistory.statusChanges(history, { start: t0, end: t1, now: t1, omitLater: false })
    expect(changes).toContainEqual(expect.objectContaining({ order_id: id, status: "revoked" }))
  })

  it("a reissue becomes the order's certificate in the listing, in order info and in the reissues list", () => {
    const id = withoutDuplicates[1]!
    const before = byId(listed(t0), id).certificate.id
    const after = byId(listed(t1), id).certificate.id
    expect(after).not.toBe(before)
    const reissues = body(AccountHistory.answer(history, `/order/certificate/${id}/reissue`, new URLSearchParams(), t1))
    expect(reissues.certificates.at(-1)).toMatchObject({ id: after, status: "issued" })
    const changes = AccountHistory.statusChanges(history, { start: t0, end: t1, now: t1, omitLater: false })
    expect(changes).toContainEqual({ order_id: id, certificate_id: after, status: "issued" })
  })

  it("a new duplicate on an order that has some changes no listing field and no status", () => {
    const strip = (o: any) => o
    expect(strip(byId(listed(t1), withDuplicates))).toEqual(strip(byId(listed(t0), withDuplicates)))
    const before = body(
      AccountHistory.answer(
        history,
        `/order/certificate/${withDuplicates}/duplicate`,
        new URLSearchParams("show_archived=true"),
        t0
      )
    )
    const after = body(
      AccountHistory.answer(
        history,
        `/order/certificate/${withDuplicates}/duplicate`,
        new URLSearchParams("show_archived=true"),
        t1
      )
    )
    expect(after.certificates.length).toBe(before.certificates.length + 1)
    const changes = AccountHistory.statusChanges(history, { start: t0, end: t1, now: t1, omitLater: false })
    expect(changes.map((c) => c.order_id)).not.toContain(withDuplicates)
  })

  it("a rejected reissue shows only in the status change list and the reissues list; the date filter omits it when it changed again later", () => {
    const id = withoutDuplicates[2]!
    expect(byId(listed(t1), id)).toEqual(byId(listed(t0), id))
    const reissues = body(AccountHistory.answer(history, `/order/certificate/${id}/reissue`, new URLSearchParams(), t1))
    expect(reissues.certificates.at(-1)).toMatchObject({ status: "rejected" })
    // pending during its hour
    expect(byId(listed(t0 + 4 * HOUR + 1), id).status).toBe("reissue_pending")
    const upToNow = AccountHistory.statusChanges(history, { start: t0, end: t1, now: t1, omitLater: false })
    expect(upToNow).toContainEqual(expect.objectContaining({ order_id: id, status: "issued" }))
    // a frame that ends while it was pending, asked later: left out, as DigiCert documents
    const ending = AccountHistory.statusChanges(history, {
      start: t0,
      end: t0 + 4 * HOUR + 1,
      now: t1,
      omitLater: true
    })
    expect(ending.map((c) => c.order_id)).not.toContain(id)
  })

  it("placed and removed orders come and go from the listing; a removed order's endpoints answer 404", () => {
    expect(listed(t0).map((o) => o.id)).not.toContain(999_001)
    expect(listed(t1).map((o) => o.id)).toContain(999_001)
    expect(listed(t1).map((o) => o.id)).not.toContain(withoutDuplicates[3])
    expect(
      AccountHistory.answer(history, `/order/certificate/${withoutDuplicates[3]}/duplicate`, new URLSearchParams(), t1)
        .status
    )
      .toBe(404)
  })

  it("existsAt agrees with orderIdsAt at every moment", () => {
    for (const moment of [0, t0, t0 + 5 * HOUR, t0 + 6 * HOUR, t1]) {
      const listed = new Set(AccountHistory.orderIdsAt(history, moment))
      for (const id of [...ids, 999_001, 5]) expect(AccountHistory.existsAt(history, id, moment)).toBe(listed.has(id))
    }
  })

  it("a failing order answers 403 until its event ends", () => {
    const path = `/account/subaccount/order/${withoutDuplicates[4]}`
    expect(AccountHistory.answer(history, path, new URLSearchParams(), t0).status).toBe(403)
    expect(AccountHistory.answer(history, path, new URLSearchParams(), t1).status).toBe(200)
  })

  it("the endpoint takes minutes/seconds up to now and the MDT date filter, and refuses more than 7 days", () => {
    const minutes = body(
      AccountHistory.statusChangesAnswer(history, new URLSearchParams({ minutes: String(48 * 60) }), t1)
    )
    expect(minutes.orders.map((o: any) => o.order_id)).toContain(withoutDuplicates[0])
    expect(minutes.page).toBeUndefined()
    // t0 + 1h is 2024-06-01 13:00 UTC, 07:00 MDT: a frame from 06:59:59 to 07:00:00 MDT holds the revocation
    const filter = body(AccountHistory.statusChangesAnswer(
      history,
      new URLSearchParams({ "filters[status_last_updated]": "2024-06-01 06:59:59...2024-06-01 07:00:00" }),
      t1
    ))
    expect(filter.orders.map((o: any) => o.order_id)).toEqual([withoutDuplicates[0]])
    const tooLong = AccountHistory.statusChangesAnswer(history, new URLSearchParams({ minutes: "10081" }), t1)
    expect(tooLong.status).toBe(400)
    expect(JSON.parse(tooLong.body).errors[0].code).toBe("time_frame_too_long")
    const rangeTooLong = AccountHistory.statusChangesAnswer(
      history,
      new URLSearchParams({ "filters[status_last_updated]": "2024-06-01...2024-06-09" }),
      t1
    )
    expect(JSON.parse(rangeTooLong.body).errors[0].code).toBe("time_frame_too_long")
    expect(AccountHistory.statusChangesAnswer(history, new URLSearchParams(), t1).status).toBe(400)
    const paged = body(
      AccountHistory.statusChangesAnswer(history, new URLSearchParams({ minutes: "2880", offset: "1", limit: "2" }), t1)
    )
    expect(paged.orders).toEqual(minutes.orders.slice(1, 3))
    expect(paged.page).toEqual({ total: minutes.orders.length, limit: 2, offset: 1 })
  })
})
