/**
 * Goal 1, rate-limit utilization. The testkit enforces scaled-down rolling windows and the CLI keeps to the same
 * windows: the span from the first to the last request the server saw, over the fastest span those windows allow for
 * that many requests (`fastestSpanMillis`), must be at most 1.05, with no 429. Then another client shares the key
 * (`foreignLoad`): the 429s must stay few and spread out, and the CLI's throughput must come back to what the
 * windows leave it.
 */
import { fastestSpanMillis } from "./fastestSpan.js"
import type { Row } from "./harness.js"
import { check, cliSummary, orderFile, outputFile, round, runCli, startServer } from "./harness.js"

const serverWindows = [{ limit: 10, windowMs: 500 }, { limit: 100, windowMs: 10_000 }]
const clientWindows = serverWindows.map((w) => ({ limit: w.limit, window: `${w.windowMs} millis` as const }))
const spec = "10/500ms,100/10s"

export interface Options {
  /** Orders of the first run (3 requests each). */
  readonly orders: number
  /** Orders of the run with another client on the key. */
  readonly sharedOrders: number
  /** The other client's steady rate, requests per second. */
  readonly foreignPerSecond: number
  readonly concurrency: number
}

export const defaults: Options = { orders: 100, sharedOrders: 80, foreignPerSecond: 3, concurrency: 8 }

/** Alone on the key. */
export const alone = async (o: Options = defaults) => {
  const server = await startServer({ rateLimit: serverWindows })
  try {
    const result = await runCli({
      server,
      orders: orderFile(o.orders),
      output: outputFile("rate-limit.csv"),
      rateLimit: spec,
      concurrency: o.concurrency
    })
    check("CLI (rate limit)", result)
    const { stats } = await server.stats()
    const times = stats.requestTimes
    const spanMillis = times[times.length - 1]! - times[0]!
    const idealMillis = fastestSpanMillis(clientWindows, stats.requests)
    return {
      windows: spec,
      orders: o.orders,
      concurrency: o.concurrency,
      requests: stats.requests,
      rateLimited: stats.rateLimited,
      spanMillis,
      idealMillis,
      ratio: spanMillis / idealMillis,
      wallMillis: round(result.wallMillis)
    }
  } finally {
    await server.close()
  }
}

/** Another client on the same key. */
export const shared = async (o: Options = defaults) => {
  const server = await startServer({
    rateLimit: serverWindows,
    foreignLoad: { requestsPerSecond: o.foreignPerSecond }
  }, true)
  try {
    const result = await runCli({
      server,
      orders: orderFile(o.sharedOrders, 200_001),
      output: outputFile("rate-limit-shared.csv"),
      rateLimit: spec,
      concurrency: o.concurrency
    })
    check("CLI (shared key)", result)
    const { stats, timeline } = await server.stats()
    const summary = cliSummary(result.stderr)
    const times = stats.requestTimes
    const first = times[0]!
    const last = times[times.length - 1]!
    // 429s in any one second, from the server's 250 ms samples
    let peak429PerSecond = 0
    for (let i = 4; i < timeline.length; i++) {
      peak429PerSecond = Math.max(peak429PerSecond, timeline[i]!.rateLimited - timeline[i - 4]!.rateLimited)
    }
    // throughput over the second half of the run: answered (non-429) requests per second, against what the
    // longest window leaves after the other client's admitted requests
    const half = timeline.filter((s) => s.t >= first + (last - first) / 2 && s.t <= last + 250)
    const a = half[0]!
    const b = half[half.length - 1]!
    const seconds = (b.t - a.t) / 1000
    const longest = serverWindows[serverWindows.length - 1]!
    const budgetPerSecond = longest.limit / (longest.windowMs / 1000)
    const foreignPerSecond = (b.foreignAdmitted - a.foreignAdmitted) / seconds
    const servedPerSecond = (b.requests - a.requests - (b.rateLimited - a.rateLimited)) / seconds
    const availablePerSecond = budgetPerSecond - foreignPerSecond
    // per second from the first request: requests the server saw and the 429s among them
    const perSecond: Array<{ requests: number; rateLimited: number }> = []
    for (let i = 1; i < timeline.length; i++) {
      const s = Math.floor((timeline[i]!.t - first) / 1000)
      if (s < 0) continue
      perSecond[s] ??= { requests: 0, rateLimited: 0 }
      perSecond[s].requests += timeline[i]!.requests - timeline[i - 1]!.requests
      perSecond[s].rateLimited += timeline[i]!.rateLimited - timeline[i - 1]!.rateLimited
    }
    return {
      windows: spec,
      foreignRequestsPerSecond: o.foreignPerSecond,
      orders: o.sharedOrders,
      requests: stats.requests,
      rateLimited: stats.rateLimited,
      rateLimitedShare: stats.rateLimited / stats.requests,
      retries: summary?.retries,
      peak429PerSecond,
      foreign: stats.foreign,
      secondHalf: {
        servedPerSecond: round(servedPerSecond, 2),
        foreignAdmittedPerSecond: round(foreignPerSecond, 2),
        availablePerSecond: round(availablePerSecond, 2),
        utilization: round(servedPerSecond / availablePerSecond, 3)
      },
      wallMillis: round(result.wallMillis),
      perSecond: perSecond.map((x) => x ?? { requests: 0, rateLimited: 0 })
    }
  } finally {
    await server.close()
  }
}

export const run = async (o: Options = defaults) => {
  const solo = await alone(o)
  const withForeign = await shared(o)
  const rows: Array<Row> = [
    {
      benchmark: "rate-limit",
      metric: `span / ideal (${solo.requests} req, ${spec})`,
      value: `${round(solo.spanMillis)} / ${solo.idealMillis} ms = ${round(solo.ratio, 3)}`,
      goal: "<= 1.05",
      met: solo.ratio <= 1.05
    },
    {
      benchmark: "rate-limit",
      metric: "429s, alone on the key",
      value: String(solo.rateLimited),
      goal: "0",
      met: solo.rateLimited === 0
    },
    {
      benchmark: "rate-limit",
      metric: `shared key (+${o.foreignPerSecond} req/s): 429s`,
      value: `${withForeign.rateLimited} of ${withForeign.requests} (${round(withForeign.rateLimitedShare * 100, 1)}%)`,
      goal: "<= 10%",
      met: withForeign.rateLimitedShare <= 0.1
    },
    {
      benchmark: "rate-limit",
      metric: "shared key: peak 429s in any second",
      value: String(withForeign.peak429PerSecond),
      goal: "<= 3 (no storm)",
      met: withForeign.peak429PerSecond <= 3
    },
    {
      benchmark: "rate-limit",
      metric: "shared key: 2nd-half throughput / budget left",
      value:
        `${withForeign.secondHalf.servedPerSecond} / ${withForeign.secondHalf.availablePerSecond} req/s = ${withForeign.secondHalf.utilization}`,
      goal: ">= 0.8 (recovers)",
      met: withForeign.secondHalf.utilization >= 0.8
    }
  ]
  return { results: { solo, shared: withForeign }, rows }
}
