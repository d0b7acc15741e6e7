/**
 * The HTTP client on its own: 18,000 GETs, 48 in flight, JSON bodies read, against the testkit on loopback (limits
 * off), for undici's `request()` without Effect and Effect's `HttpClient` over `NodeHttpClient.layerUndici` (traced and
 * untraced); each with bodies that carry a `Content-Length` and with chunked bodies. Each
 * variant runs in a process of its own and reports the wall and CPU time of its request loop (start-up excluded).
 */
import * as path from "node:path"
import type { Row } from "./harness.js"
import { benchDir, median, round, runNode, startServer } from "./harness.js"

export interface Options {
  readonly requests: number
  readonly concurrency: number
  readonly rounds: number
}

export const defaults: Options = { requests: 18_000, concurrency: 48, rounds: 2 }

const variants = ["undici-request", "layer-undici", "layer-undici-untraced"] as const

export const run = async (o: Options = defaults) => {
  const results: Record<string, unknown> = {}
  const rows: Array<Row> = []
  for (const chunked of [false, true]) {
    const framing = chunked ? "chunked" : "content-length"
    const server = await startServer({ rateLimit: "off", chunked })
    try {
      const times: Record<string, { wall: Array<number>; cpu: Array<number> }> = {}
      for (let i = 0; i < o.rounds; i++) {
        for (const variant of variants) {
          let out = ""
          const result = await runNode(
            path.join(benchDir, "http-client-child.ts"),
            [variant, server.baseUrl, server.apiKey, String(o.requests), String(o.concurrency)],
            { onStdout: (text) => (out += text) }
          )
          if (result.exitCode !== 0) throw new Error(`${variant} exited ${result.exitCode}: ${result.stderr}`)
          const { cpuMillis, wallMillis } = JSON.parse(out) as { wallMillis: number; cpuMillis: number }
          const t = (times[variant] ??= { wall: [], cpu: [] })
          t.wall.push(wallMillis)
          t.cpu.push(cpuMillis)
          console.log(`  ${framing} ${variant.padEnd(15)} ${round(wallMillis)} ms wall, ${round(cpuMillis)} ms CPU`)
        }
      }
      const summary = Object.fromEntries(variants.map((v) => {
        const t = times[v]!
        return [v, {
          wallMillis: round(median(t.wall)),
          cpuMillis: round(median(t.cpu)),
          cpuMicrosPerRequest: round((median(t.cpu) * 1000) / o.requests, 1)
        }]
      }))
      results[framing] = summary
      const base = summary["undici-request"]!
      for (const v of variants) {
        const s = summary[v]!
        rows.push({
          benchmark: `http client, ${framing}`,
          metric: `${v}: wall, CPU (${o.requests} GETs, ${o.concurrency} in flight, median of ${o.rounds})`,
          value: `${s.wallMillis} ms, ${s.cpuMillis} ms (${s.cpuMicrosPerRequest} µs/request; ${
            round(s.cpuMillis / base.cpuMillis, 2)
          }x request())`,
          goal: "",
          met: undefined
        })
      }
    } finally {
      await server.close()
    }
  }
  return { results: { ...o, ...results }, rows }
}
