import { RollingWindowLimiter } from "@certcentral/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { OrderIds, Plan } from "../src/index.js"

const entries = OrderIds.fromNumbers(
  Stream.make(
    { id: 1, hasDuplicates: false },
    { id: 2, hasDuplicates: true },
    { id: 3 },
    4,
    { id: 2, hasDuplicates: false },
    -1
  )
)

describe("Plan", () => {
  it.effect("counts distinct orders and hints; a duplicates request for every order not said to have none", () =>
    Effect.gen(function*() {
      const plan = yield* Plan.fromEntries(entries)
      expect(plan).toMatchObject({
        orders: 4,
        withDuplicates: 1,
        withoutDuplicates: 1,
        badLines: 1,
        requests: { list: 0, order: 4, duplicates: 3, reissues: 4 },
        totalRequests: 11,
        requestsPerOrder: 11 / 4,
        leastMillis: 0,
        windows: "100/5s,1000/3m"
      })
      expect(Plan.render(plan)).toBe(
        "4 orders, 1 with duplicates, 2 not known, 1 bad input line: 11 requests, 2.75 per order " +
          "(order 4, duplicates 3, reissues 4), at least 0s at 100/5s,1000/3m"
      )
    }))

  it("an endpoint left out gets no request; list pages count; the windows set the least time", () => {
    const counts = { orders: 20_000, withDuplicates: 2_104, withoutDuplicates: 17_896, badLines: 0 }
    const all = Plan.make(counts, { windows: RollingWindowLimiter.digicertDefault })
    expect(all.totalRequests).toBe(42_104)
    // 42 full windows of 1000 per 3 minutes, the last 104 at 100 per 5 s
    expect(all.leastMillis).toBe(42 * 180_000 + 5_000)
    expect(Plan.render(all)).toBe(
      "20,000 orders, 2,104 with duplicates: 42,104 requests, 2.11 per order " +
        "(order 20,000, duplicates 2,104, reissues 20,000), at least 2h06m at 100/5s,1000/3m"
    )
    const listed = Plan.make(counts, {
      include: ["reissues", "order"],
      listPages: 20,
      windows: [
        { limit: 10, window: "1 second" }
      ]
    })
    expect(listed.requests).toEqual({ list: 20, order: 20_000, duplicates: 0, reissues: 20_000 })
    expect(listed.leastMillis).toBe(4_001_000)
    expect(listed.windows).toBe("10/1s")
  })

  it("without a rate limit, or without orders, it says so", () => {
    const off = Plan.make({ orders: 3, withDuplicates: 0, withoutDuplicates: 0, badLines: 0 }, { windows: "off" })
    expect(off.leastMillis).toBeUndefined()
    expect(Plan.render(off)).toBe(
      "3 orders, duplicates not known: 9 requests, 3.00 per order (order 3, duplicates 3, reissues 3), " +
        "no rate limit: as fast as the API answers"
    )
    const none = Plan.make(Plan.empty, { listPages: 1 })
    expect(none.requestsPerOrder).toBeUndefined()
    expect(Plan.render(none)).toBe(
      "0 orders: 1 request (list 1, order 0, duplicates 0, reissues 0), at least 0s at 100/5s,1000/3m"
    )
  })
})
