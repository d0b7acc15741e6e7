/**
 * Goal 2, throughput against the script a user would write instead (`baseline.mjs`). Both run as child processes
 * against one testkit server (a third process), alternately, on the same orders with the same concurrency and rate
 * limits off. The ratio of median wall times (ours / baseline) must be at most 1.0.
 *
 * Wall time includes process start-up (module loading), a larger share of ours (Effect and its platform packages)
 * than of the baseline; a one-order run of each measures that start-up so that it can be told apart from the steady
 * rate.
 */
import { RowEncoder } from "@certcentral/export"
import type { Row, RunResult } from "./harness.js"
import { check, lineCount, median, orderFile, outputFile, round, runBaseline, runCli, startServer } from "./harness.js"

export interface Options {
  readonly orders: number
  readonly concurrency: number
  /** Runs of each, alternating. */
  readonly rounds: number
  /** Server latency per response (mean and jitter, ms); none by default: the loopback server answers at once. */
  readonly latency?: { readonly meanMs: number; readonly jitterMs: number } | undefined
}

export const defaults: Options = { orders: 3000, concurrency: 16, rounds: 3 }

/** The same comparison with the latency of a remote API (about 40 ms per response), where waiting dominates. */
export const withLatency: Options = { orders: 2000, concurrency: 16, rounds: 2, latency: { meanMs: 40, jitterMs: 20 } }

interface Side {
  readonly wallMillis: ReadonlyArray<number>
  readonly medianMillis: number
  readonly startupMillis: number
  readonly ordersPerSecond: number
  readonly requestsPerSecond: number
  /** Orders per second once started: orders / (wall - start-up). */
  readonly steadyOrdersPerSecond: number
  readonly serverCpuMillis: number
  readonly rows: number
}

export const run = async (o: Options = defaults) => {
  const server = await startServer({ rateLimit: "off", ...(o.latency === undefined ? {} : { latency: o.latency }) })
  const name = o.latency === undefined ? "throughput" : `throughput, ${o.latency.meanMs} ms latency`
  try {
    const orders = orderFile(o.orders)
    const one = orderFile(1)
    const common = { server, concurrency: o.concurrency, headerBytes: RowEncoder.csv.header.length }
    const ours = (file: string, output: string) => runCli({ ...common, orders: file, output, rateLimit: "off" })
    const theirs = (file: string, output: string) => runBaseline({ ...common, orders: file, output })

    // start-up: one order each (the server answers it in about a millisecond)
    const startup = { ours: [] as Array<number>, baseline: [] as Array<number> }
    for (let i = 0; i < 2; i++) {
      const a = await theirs(one, outputFile("startup-baseline.csv"))
      check("baseline (1 order)", a)
      startup.baseline.push(a.wallMillis)
      const b = await ours(one, outputFile("startup-cli.csv"))
      check("CLI (1 order)", b)
      startup.ours.push(b.wallMillis)
    }

    const runs = { ours: [] as Array<RunResult>, baseline: [] as Array<RunResult> }
    const serverCpu = { ours: 0, baseline: 0 }
    let requests = 0
    for (let i = 0; i < o.rounds; i++) {
      for (const side of ["baseline", "ours"] as const) {
        await server.reset()
        const output = outputFile(`throughput-${side}.csv`)
        const result = side === "ours" ? await ours(orders, output) : await theirs(orders, output)
        check(side === "ours" ? "CLI" : "baseline", result)
        runs[side].push(result)
        const { cpuMillis, stats } = await server.stats()
        serverCpu[side] += cpuMillis
        requests = stats.requests
        console.log(`  ${side.padEnd(8)} ${o.orders} orders in ${round(result.wallMillis)} ms`)
      }
    }
    const rowsOurs = lineCount(outputFile("throughput-ours.csv")) - 1
    const rowsBaseline = lineCount(outputFile("throughput-baseline.csv")) - 1

    const side = (name: "ours" | "baseline", rows: number): Side => {
      const walls = runs[name].map((r) => r.wallMillis)
      const m = median(walls)
      const s = median(startup[name])
      return {
        wallMillis: walls.map((w) => round(w)),
        medianMillis: round(m),
        startupMillis: round(s),
        ordersPerSecond: round(o.orders / (m / 1000), 1),
        requestsPerSecond: round(requests / (m / 1000), 1),
        steadyOrdersPerSecond: round(o.orders / ((m - s) / 1000), 1),
        serverCpuMillis: round(serverCpu[name] / o.rounds),
        rows
      }
    }
    const us = side("ours", rowsOurs)
    const them = side("baseline", rowsBaseline)
    const ratio = us.medianMillis / them.medianMillis
    const steadyRatio = them.steadyOrdersPerSecond / us.steadyOrdersPerSecond
    const results = {
      orders: o.orders,
      requests,
      concurrency: o.concurrency,
      rounds: o.rounds,
      ours: us,
      baseline: them,
      latency: o.latency ?? null,
      ratio: round(ratio, 3),
      steadyRatio: round(steadyRatio, 3)
    }
    const rows: Array<Row> = [
      {
        benchmark: name,
        metric: `wall, ours / baseline (${o.orders} orders, c=${o.concurrency}, median of ${o.rounds})`,
        value: `${us.medianMillis} / ${them.medianMillis} ms = ${round(ratio, 2)}`,
        goal: "<= 1.0",
        met: ratio <= 1.0
      },
      {
        benchmark: name,
        metric: "orders/s (requests/s), ours",
        value: `${us.ordersPerSecond} (${us.requestsPerSecond})`,
        goal: "",
        met: undefined
      },
      {
        benchmark: name,
        metric: "orders/s (requests/s), baseline",
        value: `${them.ordersPerSecond} (${them.requestsPerSecond})`,
        goal: "",
        met: undefined
      },
      {
        benchmark: name,
        metric: "start-up (1 order), ours / baseline",
        value: `${us.startupMillis} / ${them.startupMillis} ms`,
        goal: "",
        met: undefined
      },
      {
        benchmark: name,
        metric: "steady orders/s without start-up, ours / baseline",
        value: `${us.steadyOrdersPerSecond} / ${them.steadyOrdersPerSecond} (time ratio ${round(steadyRatio, 2)})`,
        goal: "",
        met: undefined
      },
      {
        benchmark: name,
        metric: "rows written, ours / baseline",
        value: `${us.rows} / ${them.rows}`,
        goal: "equal",
        met: us.rows === them.rows
      }
    ]
    return { results, rows }
  } finally {
    await server.close()
  }
}
