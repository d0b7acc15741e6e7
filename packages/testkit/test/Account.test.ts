import { describe, expect, it } from "@effect/vitest"
import * as Account from "../src/Account.js"
import * as OrderData from "../src/OrderData.js"
import * as Samples from "../src/Samples.js"

interface ListBody {
  readonly orders: ReadonlyArray<{ readonly id: number; readonly status: string; readonly [key: string]: unknown }>
  readonly page: { readonly total: number; readonly limit: number; readonly offset: number }
}

const pageOf = (endpoint: Account.ListEndpoint, ids: ReadonlyArray<number>, query: string) =>
  Account.page(endpoint, 1, ids, new URLSearchParams(query))

/** Every page of a query, concatenated. */
const everything = (endpoint: Account.ListEndpoint, ids: ReadonlyArray<number>, query = "") => {
  const orders: Array<ListBody["orders"][number]> = []
  for (let offset = 0;; offset += 1000) {
    const page = JSON.parse(pageOf(endpoint, ids, `${query}&offset=${offset}`).body) as ListBody
    orders.push(...page.orders)
    if (offset + page.orders.length >= page.page.total) return orders
  }
}

const body = (answer: { readonly status: number; readonly body: string }): ListBody => {
  expect(answer.status).toBe(200)
  return JSON.parse(answer.body) as ListBody
}

describe("Account", () => {
  const ids = Account.generatedIds(2500)

  it("pages by offset and limit with page {total, limit, offset}, clamping a limit over 1000", () => {
    const first = body(pageOf("listOrders", ids, "offset=0&limit=5000"))
    expect(first.page).toEqual({ total: 2500, limit: 1000, offset: 0 })
    expect(first.orders.map((o) => o.id)).toEqual(ids.slice(0, 1000))
    const last = body(pageOf("listOrders", ids, "offset=2400&limit=1000"))
    expect(last.orders.map((o) => o.id)).toEqual(ids.slice(2400))
    expect(body(pageOf("listOrders", ids, "offset=2500")).orders).toEqual([])
    expect(body(pageOf("listOrders", [], "")).page).toEqual({ total: 0, limit: 1000, offset: 0 })
  })

  it("sorts by id and -id whatever order the account holds the ids in", () => {
    const shuffled = [300_007, 100_001, 200_003]
    expect(body(pageOf("listOrders", shuffled, "sort=id")).orders.map((o) => o.id)).toEqual([100_001, 200_003, 300_007])
    expect(body(pageOf("listOrders", shuffled, "sort=-id")).orders.map((o) => o.id)).toEqual([
      300_007,
      200_003,
      100_001
    ])
  })

  it("filters by status (a comma list), product, dates with operators and ranges, and subaccount", () => {
    const all = everything("listSubaccountOrders", ids)
    expect(all).toHaveLength(2500)
    const issued = body(pageOf("listOrders", ids, "filters[status]=issued"))
    expect(issued.orders.every((o) => o.status === "issued")).toBe(true)
    expect(issued.page.total).toBe(all.filter((o) => o.status === "issued").length)
    expect(issued.page.total).toBeGreaterThan(0)
    expect(issued.page.total).toBeLessThan(2500)

    const either = body(pageOf("listOrders", ids, "filters[status]=issued,pending&limit=1000"))
    expect(either.page.total).toBe(all.filter((o) => o.status === "issued" || o.status === "pending").length)

    const product = everything("listOrders", ids, "filters[product_name_id]=ssl_plus")
    expect(product.every((o) => o.product_name_id === "ssl_plus")).toBe(true)
    expect(product).toHaveLength(all.filter((o) => (o.product as { name_id: string }).name_id === "ssl_plus").length)

    const created = (o: ListBody["orders"][number]) => String(o.date_created).slice(0, 10)
    const after = body(
      pageOf("listSubaccountOrders", ids, `filters[date_created]=${encodeURIComponent(">2020-01-01")}`)
    )
    expect(after.page.total).toBe(all.filter((o) => created(o) > "2020-01-01").length)
    const range = body(pageOf("listSubaccountOrders", ids, "filters[date_created]=2019-01-01...2019-12-31"))
    expect(range.page.total).toBe(all.filter((o) => created(o) >= "2019-01-01" && created(o) <= "2019-12-31").length)
    expect(range.page.total).toBeGreaterThan(0)

    const tills = body(pageOf("listOrders", ids, `filters[valid_till]=${encodeURIComponent(">=2024-09-01")}`))
    for (const o of tills.orders) {
      expect(String((o.certificate as { valid_till?: string }).valid_till) >= "2024-09-01").toBe(true)
    }

    const sub = all[0]!.subaccount as { account_id: number }
    const bySub = body(pageOf("listSubaccountOrders", ids, `filters[subaccount]=${sub.account_id}`))
    expect(bySub.orders.map((o) => o.id)).toContain(all[0]!.id)
  })

  it("counts days_remaining from referenceDay", () => {
    const withDays = everything("listOrders", ids).flatMap((o) => {
      const c = o.certificate as { valid_till?: string; days_remaining?: number } | undefined
      return c?.valid_till !== undefined && c.days_remaining !== undefined ? [c] : []
    })
    expect(withDays.length).toBeGreaterThan(100)
    for (const c of withDays) {
      expect(c.days_remaining).toBe((Date.parse(c.valid_till!) - Date.parse(Account.referenceDay)) / 86_400_000)
    }
  })

  it("answers 400 with DigiCert's error body for an unknown filter, a bad value, sort, limit or offset", () => {
    for (
      const [endpoint, query, code] of [
        ["listOrders", "filters[colour]=blue", "invalid_filter"],
        ["listOrders", "filters[subaccount]=5", "invalid_filter"],
        ["listOrders", "filters[date_created]=yesterday", "invalid_filter"],
        ["listOrders", "sort=common_name_backwards", "invalid_sort"],
        ["listOrders", "limit=0", "invalid_limit"],
        ["listSubaccountOrders", "offset=-1", "invalid_offset"]
      ] as const
    ) {
      const answer = pageOf(endpoint, ids, query)
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body).errors[0].code).toBe(code)
    }
  })

  it("shows an order the way subaccount order info does, the list orders view as its documented subset", () => {
    const [sample] = body(pageOf("listSubaccountOrders", [Samples.issuedOrderId], "")).orders
    expect(sample).toEqual(JSON.parse(Samples.subaccountOrderFor(Samples.issuedOrderId)!))
    const [summary] = body(pageOf("listOrders", [Samples.issuedOrderId], "")).orders
    expect(summary!.id).toBe(Samples.issuedOrderId)
    expect(summary!.status).toBe(sample!.status)
    expect(summary!.product_name_id).toBe((sample!.product as { name_id: string }).name_id)
    expect(summary).not.toHaveProperty("order_price")
  })

  it("says has_duplicates on list orders exactly when the duplicates list is not empty, as a boolean, 0/1 or \"0\"/\"1\"", () => {
    const ids = [...Samples.orderIds, ...Account.generatedIds(400), ...OrderData.echoOrderIds]
    const forms = new Set<string>()
    for (const order of everything("listOrders", ids)) {
      const listed = JSON.parse(
        OrderData.render("duplicates", 1, order.id, { showArchived: true, includeValidationStatus: false })
      ) as { certificates: ReadonlyArray<unknown> }
      const flag = order.has_duplicates
      forms.add(typeof flag)
      expect(flag === true || flag === 1 || flag === "1", `order ${order.id}`).toBe(listed.certificates.length > 0)
    }
    expect(forms).toEqual(new Set(["boolean", "number", "string"]))
    expect(everything("listSubaccountOrders", ids).some((order) => "has_duplicates" in order)).toBe(false)
  })

  it("withDuplicates gives generated ids of which the share asked for have duplicates, ascending, each once", () => {
    const ids = Account.withDuplicates(7, 500, 0.1)
    expect(ids).toHaveLength(500)
    expect(new Set(ids).size).toBe(500)
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    expect(ids.filter((id) => Account.hasDuplicates(7, id))).toHaveLength(50)
    expect(ids.every((id) => (id - 100_001) % 7 === 0)).toBe(true)
  })

  it("the echo orders echo the primary certificate or repeat an entry, whatever the seed; no generated order does", () => {
    const ids = (seed: number, id: number, endpoint: "duplicates" | "reissues") =>
      (JSON.parse(OrderData.render(endpoint, seed, id, { showArchived: false, includeValidationStatus: false })) as {
        certificates: ReadonlyArray<{ id: number }>
      }).certificates.map((c) => c.id)
    for (const seed of [1, 2, 99]) {
      const [a, b, c, d] = OrderData.echoOrderIds.map((id) => ({
        own: (JSON.parse(
          OrderData.render("subaccountOrder", seed, id, { showArchived: false, includeValidationStatus: false })
        ) as {
          certificate: { id: number }
        }).certificate.id,
        duplicates: ids(seed, id, "duplicates"),
        reissues: ids(seed, id, "reissues")
      }))
      expect(a!.duplicates[0]).toBe(a!.own)
      expect(b!.duplicates.at(-1)).toBe(b!.duplicates[0])
      expect([c!.reissues[0], c!.reissues.at(-1)]).toEqual([c!.own, c!.reissues[1]])
      expect([d!.duplicates.at(-1), d!.reissues.at(-1)]).toEqual([d!.own, d!.own])
    }
    for (const id of Account.generatedIds(300)) {
      const all = [...ids(1, id, "duplicates"), ...ids(1, id, "reissues")]
      expect(new Set(all).size).toBe(all.length)
    }
  })
})
