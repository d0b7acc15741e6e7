/**
 * Outage: the testkit goes away in the middle of an export (503 for 30 s, then resets for 30 s, from the 600th
 * request), with no rate limit on either side, so that only the client's circuit holds it back. Measured from the
 * server's arrival times: requests per minute during the outage (against the CLI's rate before it), and the time from
 * the API's return to the next success, against the pause the circuit was in (goal: at most one pause, that is the
 * first request after the return is the next probe and it succeeds). The export must still finish with every order.
 */
import type { Row } from "./harness.js"
import { check, cliSummary, lineCount, orderFile, outputFile, round, runCli, startServer } from "./harness.js"

export interface Options {
  readonly orders: number
  readonly concurrency: number
  readonly atRequest: number
  readonly unavailableMs: number
  readonly resetMs: number
}

export const defaults: Options = {
  orders: 1000,
  concurrency: 8,
  atRequest: 600,
  unavailableMs: 30_000,
  resetMs: 30_000
}

export const run = async (o: Options = defaults) => {
  const outageMs = o.unavailableMs + o.resetMs
  const server = await startServer({
    rateLimit: "off",
    outages: [{
      start: { atRequest: o.atRequest },
      phases: [
        { durationMs: o.unavailableMs, answer: { kind: "unavailable" } },
        { durationMs: o.resetMs, answer: { kind: "reset" } }
      ]
    }]
  })
  try {
    const output = outputFile("outage.csv")
    const result = await runCli({
      server,
      orders: orderFile(o.orders, 300_001),
      output,
      rateLimit: "off",
      concurrency: o.concurrency
    })
    check("CLI (outage)", result)
    const { stats } = await server.stats()
    const times = stats.requestTimes
    const start = times[o.atRequest - 1]!
    const end = start + outageMs
    const during = times.filter((t) => t >= start && t < end)
    const before = times.filter((t) => t < start)
    const beforePerMinute = before.length / ((start - before[0]!) / 60_000)
    const after = times.find((t) => t >= end)!
    const lastDuring = during[during.length - 1]!
    // the probes: requests in the outage more than 500 ms after the one before (the first burst is the requests in
    // flight when it began and their retries)
    const probeGaps = during.slice(1).map((t, i) => t - during[i]!).filter((gap) => gap >= 500)
    const pauseInForce = after - lastDuring
    const summary = cliSummary(result.stderr)
    const outages = /(\d+) outages? \(API unavailable for ([^ ]+) in all\)/.exec(result.stderr)
    return {
      orders: o.orders,
      concurrency: o.concurrency,
      outageMs,
      rows: lineCount(output) - 1,
      requests: stats.requests,
      requestsDuringOutage: during.length,
      servedByOutage: stats.outage,
      requestsPerMinuteDuring: round(during.length / (outageMs / 60_000), 1),
      requestsPerMinuteBefore: round(beforePerMinute),
      probeGapsMillis: probeGaps.map((g) => round(g)),
      recoveryMillis: round(after - end),
      pauseInForceMillis: round(pauseInForce),
      outagesReported: outages === null ? undefined : Number(outages[1]),
      outageTimeReported: outages?.[2],
      retries: summary?.retries,
      wallMillis: round(result.wallMillis)
    }
  } finally {
    await server.close()
  }
}

export const rows = (r: Awaited<ReturnType<typeof run>>): ReadonlyArray<Row> => [
  {
    benchmark: "outage",
    metric: `requests per minute during a ${r.outageMs / 1000} s outage`,
    value: `${r.requestsPerMinuteDuring} (${r.requestsDuringOutage} in all; ${r.requestsPerMinuteBefore}/min before)`,
    goal: "a handful per pause",
    met: r.requestsDuringOutage <= 3 * r.concurrency * 2 + r.probeGapsMillis.length + 5
  },
  {
    benchmark: "outage",
    metric: "API back -> next success",
    value: `${r.recoveryMillis} ms (the last pause: ${r.pauseInForceMillis} ms)`,
    goal: "<= one pause",
    // the request after the return came one pause after the last failed probe, with none in between
    met: r.pauseInForceMillis <= 72_000 && r.recoveryMillis <= r.pauseInForceMillis
  }
]
