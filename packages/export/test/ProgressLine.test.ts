import { describe, expect, it } from "@effect/vitest"
import { Progress, ProgressLine } from "../src/index.js"

const snapshot = (overrides: Partial<Progress.Snapshot> = {}): Progress.Snapshot => ({
  total: 20_000,
  ordersDone: 4_321,
  ordersExported: 4_300,
  ordersFailed: 17,
  badLines: 4,
  rows: 12_345,
  requests: 12_999,
  retries: 3,
  rateLimited: 12,
  elapsedMillis: 2_400_000,
  ordersPerSecond: 1.8,
  requestsPerSecond: 5.4,
  etaMillis: 8_580_000,
  requestsPerOrder: 3,
  windowUse: 0.97,
  windows: "100/5s,1000/3m",
  resumedOrders: 0,
  circuit: "closed",
  unavailableMillis: undefined,
  nextProbeInMillis: undefined,
  outages: 0,
  outageMillis: 0,
  listing: undefined,
  finished: false,
  ...overrides
})

const states: Record<string, Progress.Snapshot> = {
  running: snapshot(),
  outage: snapshot({ circuit: "open", unavailableMillis: 40_000, nextProbeInMillis: 16_000 }),
  noTotal: snapshot({ total: undefined, etaMillis: undefined }),
  huge: snapshot({ total: 123_456_789, ordersDone: 98_765_432, rows: 987_654_321, rateLimited: 123_456 }),
  listing: snapshot({ listing: { pages: 123, ids: 123_000, total: 250_000, done: false } })
}

describe("ProgressLine", () => {
  for (const columns of [20, 40, 80, 200]) {
    it(`never writes a line wider than a ${columns}-column terminal, whatever the state`, () => {
      for (const [name, s] of Object.entries(states)) {
        const line = ProgressLine.render(s, columns)
        expect(line.length, name).toBeLessThan(columns)
        expect(line, name).not.toContain("\n")
      }
    })
  }

  it("keeps the orders and the ETA at 40 columns, and shows everything with a full bar at 200", () => {
    const narrow = ProgressLine.render(states.running!, 40)
    expect(narrow).toMatch(/4321\/20000 orders/)
    expect(narrow).toMatch(/ETA 2h23m$/)
    const wide = ProgressLine.render(states.running!, 200)
    expect(wide).toMatch(
      /^\[#{9}\.{31}\] 4321\/20000 orders · 12345 rows · 21 failed · 5\.4 req\/s · 12×429 · ETA 2h23m$/
    )
    const standard = ProgressLine.render(states.outage!, 80)
    expect(standard).toContain("4321/20000")
    expect(standard).toContain("ETA 2h23m")
    expect(ProgressLine.render(states.outage!, 200)).toContain("API unavailable for 40s, next try in 16s")
    expect(ProgressLine.render(states.listing!, 200)).toBe(
      "listing orders: 123 pages, 123000/250000 ids · 5.4 req/s · 12×429"
    )
    expect(ProgressLine.render(states.listing!, 30)).toBe("listing: 123000/250000 ids")
  })

  it("drops the least useful parts first: rows and rate before failures", () => {
    const line = ProgressLine.render(states.running!, 60)
    expect(line).toContain("21 failed")
    expect(line).not.toContain("rows")
  })

  it("erases every row the previous line wraps onto after the terminal narrowed", () => {
    const previous = "x".repeat(79)
    expect(ProgressLine.redraw(previous, "new", 80)).toBe("\r\u001b[2Knew")
    // 79 characters on a 40-column terminal take two rows: clear this one, go up, clear that one
    expect(ProgressLine.redraw(previous, "new", 40)).toBe("\r\u001b[2K\u001b[1A\u001b[2Knew")
    expect(ProgressLine.redraw("", "new", 40)).toBe("\r\u001b[2Knew")
  })

  it("sums up requests per order and the share of the rate limits used", () => {
    expect(Progress.renderSummary(states.running!, "Done")).toContain(
      "12999 requests (3.00 per order, 97% of the rate limits (100/5s,1000/3m) used), 3 retries"
    )
    expect(Progress.renderSummary(snapshot({ windowUse: undefined, windows: undefined }), "Done")).toContain(
      "12999 requests (3.00 per order), 3 retries"
    )
  })
})
