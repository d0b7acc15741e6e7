/**
 * The ETA's error on a windowed run: an in-process export (the CLI's Progress, the real HTTP client) of a testkit
 * account's orders under scaled windows (20/1s, 200/20s: the issue's example, DigiCert's shape at about a ninth of
 * the time), reading the ETA every 500 ms of wall time; the error is the predicted end against the real one from 15%
 * to 85% done, as a share of the run (and, stricter, of the time that was left).
 */
import { CertCentralClient } from "@certcentral/core"
import { Export, OrderIds, Progress } from "@certcentral/export"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import type { Row } from "./harness.js"
import { now, outputFile, round, sleep, startServer } from "./harness.js"

export interface Options {
  readonly orders: number
  readonly concurrency: number
  readonly windows: ReadonlyArray<{ readonly limit: number; readonly windowMs: number }>
}

export const defaults: Options = {
  orders: 200,
  concurrency: 8,
  windows: [{ limit: 20, windowMs: 1000 }, { limit: 200, windowMs: 20_000 }]
}

export const run = async (o: Options = defaults) => {
  const server = await startServer({ rateLimit: o.windows })
  try {
    const windows = o.windows.map((w) => ({ limit: w.limit, window: w.windowMs }))
    const tracker = await Effect.runPromise(Progress.makeWith({ windows, requestsPerOrder: 3 }))
    await Effect.runPromise(tracker.setTotal(o.orders))
    const client = CertCentralClient.layer({
      apiKey: Redacted.make(server.apiKey),
      baseUrl: server.baseUrl,
      rateLimit: windows
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    const ids = Array.from({ length: o.orders }, (_, i) => 100_001 + i)
    const started = now()
    let running = true
    const exported = Effect.runPromise(
      Export.toFiles(OrderIds.fromIterable(ids), {
        output: outputFile("eta.csv"),
        progress: tracker,
        concurrency: o.concurrency
      }).pipe(Effect.provide(Layer.merge(client, NodeFileSystem.layer)))
    ).finally(() => void (running = false))
    const seen: Array<{ readonly at: number; readonly done: number; readonly eta: number | undefined }> = []
    while (running) {
      await sleep(500)
      const snap = await Effect.runPromise(tracker.snapshot)
      seen.push({ at: now() - started, done: snap.ordersDone / o.orders, eta: snap.etaMillis })
    }
    await exported
    const end = now() - started
    const inRange = seen.filter((s) => s.done >= 0.15 && s.done <= 0.85)
    const ofRun = inRange.map((s) => s.eta === undefined ? Infinity : Math.abs(s.at + s.eta - end) / end)
    const ofLeft = inRange.map((s) => s.eta === undefined ? Infinity : Math.abs(s.at + s.eta - end) / (end - s.at))
    const { stats } = await server.stats()
    const results = {
      orders: o.orders,
      windows: o.windows,
      wallMillis: round(end),
      readings: inRange.length,
      worstErrorOfRun: round(Math.max(...ofRun), 4),
      medianErrorOfRun: round([...ofRun].sort((a, b) => a - b)[Math.floor(ofRun.length / 2)] ?? NaN, 4),
      worstErrorOfTimeLeft: round(Math.max(...ofLeft), 4),
      served429: stats.rateLimited
    }
    console.log(
      `  ${o.orders} orders at ${o.windows.map((w) => `${w.limit}/${w.windowMs}ms`).join(",")} in ${
        round(end / 1000, 1)
      } s: ETA error from 15% to 85% done at most ${round(results.worstErrorOfRun * 100, 1)}% of the run ` +
        `(median ${round(results.medianErrorOfRun * 100, 1)}%; ${round(results.worstErrorOfTimeLeft * 100, 1)}% ` +
        `of the time left), ${inRange.length} readings`
    )
    const rows: ReadonlyArray<Row> = [{
      benchmark: "eta",
      metric: `ETA error 15%..85% done (${o.orders} orders, 20/1s,200/20s), share of the run`,
      value: `${round(results.worstErrorOfRun * 100, 1)}% worst, ${round(results.medianErrorOfRun * 100, 1)}% median`,
      goal: "< 25% (aim 10%)",
      met: results.worstErrorOfRun < 0.25
    }]
    return { results, rows }
  } finally {
    await server.close()
  }
}
