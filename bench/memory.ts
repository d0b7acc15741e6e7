/**
 * Goal 3, flat memory. Peak RSS (VmHWM, polled from /proc) of the CLI for a small and a ten times larger export,
 * rate limits off: the ratio must be at most 1.25 and both under 250 MB. And time to first row: the output holds a
 * row long before the last order is fetched (its size is polled; the server's request times give the fetch span).
 */
import { RowEncoder } from "@certcentral/export"
import type { Row } from "./harness.js"
import { check, lineCount, orderFile, outputFile, round, runCli, startServer } from "./harness.js"

export interface Options {
  readonly small: number
  readonly large: number
  readonly concurrency: number
  /** The old-generation limit of the third run, MB. */
  readonly heapLimitMB: number
}

export const defaults: Options = {
  small: 3_000,
  large: Number(process.env["BENCH_LARGE_ORDERS"] ?? 30_000),
  concurrency: 16,
  heapLimitMB: 160
}

export const run = async (o: Options = defaults) => {
  const server = await startServer({ rateLimit: "off", maxRequestTimes: 3 * Math.max(o.small, o.large) + 10 })
  try {
    const measure = async (orders: number, nodeOptions?: string) => {
      await server.reset()
      const output = outputFile(`memory-${orders}.csv`)
      const result = await runCli({
        ...(nodeOptions === undefined ? {} : { env: { NODE_OPTIONS: nodeOptions } }),
        server,
        orders: orderFile(orders),
        output,
        rateLimit: "off",
        concurrency: o.concurrency,
        headerBytes: RowEncoder.csv.header.length
      })
      check(`CLI (${orders} orders)`, result)
      const { stats } = await server.stats()
      const times = stats.requestTimes
      const firstRequest = times[0]!
      const lastRequest = times[times.length - 1]!
      const firstRowAt = result.firstRowAt!
      console.log(
        `  ${orders} orders${nodeOptions === undefined ? "" : ` (NODE_OPTIONS=${nodeOptions})`}: ${
          round(result.wallMillis)
        } ms, peak RSS ${round(result.peakRssKb! / 1024, 1)} MB`
      )
      return {
        orders,
        nodeOptions: nodeOptions ?? null,
        requests: stats.requests,
        rows: lineCount(output) - 1,
        wallMillis: round(result.wallMillis),
        ordersPerSecond: round(orders / (result.wallMillis / 1000), 1),
        peakRssMB: round(result.peakRssKb! / 1024, 1),
        firstRowMillis: round(result.firstRowMillis!),
        firstRequestMillis: round(firstRequest - result.startedAt),
        lastRequestMillis: round(lastRequest - result.startedAt),
        /** When the first row was on disk, as a share of the span from the first to the last request. */
        firstRowShareOfFetch: round((firstRowAt - firstRequest) / (lastRequest - firstRequest), 4)
      }
    }
    const small = await measure(o.small)
    const large = await measure(o.large)
    // V8 lets the old generation grow far past the live set (about 60 MB after a full collection) while collection
    // is cheap relative to the work; a heap limit makes it collect sooner. Measured to show what that costs.
    const capped = await measure(o.large, `--max-old-space-size=${o.heapLimitMB}`)
    const ratio = large.peakRssMB / small.peakRssMB
    const rows: Array<Row> = [
      {
        benchmark: "memory",
        metric: `peak RSS, ${o.large} / ${o.small} orders`,
        value: `${large.peakRssMB} / ${small.peakRssMB} MB = ${round(ratio, 2)}`,
        goal: "<= 1.25",
        met: ratio <= 1.25
      },
      {
        benchmark: "memory",
        metric: "peak RSS, largest",
        value: `${Math.max(large.peakRssMB, small.peakRssMB)} MB`,
        goal: "< 250 MB",
        met: Math.max(large.peakRssMB, small.peakRssMB) < 250
      },
      {
        benchmark: "memory",
        metric: `first row on disk (${o.large} orders)`,
        value: `${large.firstRowMillis} ms after spawn, ${
          round(large.firstRowMillis - large.firstRequestMillis)
        } ms after the 1st request; last request at ${large.lastRequestMillis} ms`,
        goal: "< 5% of fetch span",
        met: large.firstRowShareOfFetch < 0.05
      },
      {
        benchmark: "memory",
        metric: `peak RSS, ${o.large} orders, NODE_OPTIONS=--max-old-space-size=${o.heapLimitMB}`,
        value: `${capped.peakRssMB} MB in ${capped.wallMillis} ms (${capped.ordersPerSecond} orders/s)`,
        goal: "",
        met: undefined
      },
      {
        benchmark: "memory",
        metric: `wall time, ${o.small} / ${o.large} orders`,
        value:
          `${small.wallMillis} / ${large.wallMillis} ms (${small.ordersPerSecond} / ${large.ordersPerSecond} orders/s)`,
        goal: "",
        met: undefined
      }
    ]
    return { results: { concurrency: o.concurrency, small, large, capped, ratio: round(ratio, 3) }, rows }
  } finally {
    await server.close()
  }
}
