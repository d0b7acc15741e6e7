/**
 * Issue 18: three `certcentral-export` processes on one API key against the testkit enforcing scaled windows (10 per
 * 500 ms and 100 per 10 s; `--rate-limit` the same on every process), each keeping its limits alone and then all
 * sharing them through Redis (`--share-limits`): the 429s the server served, the combined utilization (the fastest
 * span the windows allow for the requests it answered, over the span it saw) and Redis round trips per request
 * (script calls counted by Redis' `INFO commandstats`). Needs `redis-server` on the PATH (or `REDIS_SERVER`).
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import { redisServer, unavailable } from "../packages/core/test/fixtures/redisServer.js"
import { fastestSpanMillis } from "./fastestSpan.js"
import type { Row } from "./harness.js"
import { check, cliSummary, orderFile, outputFile, round, runCli, startServer } from "./harness.js"

const serverWindows = [{ limit: 10, windowMs: 500 }, { limit: 100, windowMs: 10_000 }]
const clientWindows = serverWindows.map((w) => ({ limit: w.limit, window: `${w.windowMs} millis` as const }))
const spec = "10/500ms,100/10s"
const PROCESSES = 3
const ORDERS = 30

// script calls so far (each one round trip)
const scriptCalls = async (url: string): Promise<number> => {
  const client = new Redis(url)
  try {
    const info = await client.info("commandstats")
    let calls = 0
    for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(m[2])
    return calls
  } finally {
    client.disconnect()
  }
}

const once = async (redisUrl: string | undefined) => {
  const server = await startServer({ rateLimit: serverWindows })
  try {
    const before = redisUrl === undefined ? 0 : await scriptCalls(redisUrl)
    const runs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) =>
        runCli({
          server,
          orders: orderFile(ORDERS, 300_001 + i * 1000),
          output: outputFile(`shared-limits-${redisUrl === undefined ? "alone" : "redis"}-${i}.csv`),
          rateLimit: spec,
          concurrency: 8,
          ...(redisUrl === undefined ? {} : { args: ["--share-limits", redisUrl] })
        }))
    )
    runs.forEach((r, i) => check(`CLI ${i} (${redisUrl === undefined ? "alone" : "shared"})`, r))
    const calls = redisUrl === undefined ? 0 : (await scriptCalls(redisUrl)) - before
    const { stats } = await server.stats()
    const times = stats.requestTimes
    const spanMillis = times[times.length - 1]! - times[0]!
    const answered = stats.requests - stats.rateLimited
    const idealMillis = fastestSpanMillis(clientWindows, answered)
    return {
      processes: PROCESSES,
      orders: PROCESSES * ORDERS,
      requests: stats.requests,
      rateLimited: stats.rateLimited,
      retries: runs.reduce((n, r) => n + (cliSummary(r.stderr)?.retries ?? 0), 0),
      spanMillis,
      idealMillis,
      utilization: round(idealMillis / spanMillis, 3),
      redisRoundTripsPerRequest: redisUrl === undefined ? undefined : round(calls / stats.requests, 2)
    }
  } finally {
    await server.close()
  }
}

export const run = async () => {
  if (unavailable !== undefined) throw new Error(unavailable)
  const scope = Effect.runSync(Scope.make())
  try {
    const redis = await Effect.runPromise(Scope.extend(redisServer, scope))
    const alone = await once(undefined)
    const shared = await once(redis.url)
    const rows: Array<Row> = [
      {
        benchmark: "shared-limits",
        metric: `${PROCESSES} processes alone on one key: 429s`,
        value: `${alone.rateLimited} of ${alone.requests}; utilization ${alone.utilization}`,
        goal: "(the problem)",
        met: undefined
      },
      {
        benchmark: "shared-limits",
        metric: `${PROCESSES} processes, --share-limits: 429s`,
        value: `${shared.rateLimited} of ${shared.requests}`,
        goal: "0",
        met: shared.rateLimited === 0
      },
      {
        benchmark: "shared-limits",
        metric: "--share-limits: combined utilization (fastest / span)",
        value: `${shared.idealMillis} / ${round(shared.spanMillis)} ms = ${shared.utilization}`,
        goal: ">= 0.9",
        met: shared.utilization >= 0.9
      },
      {
        benchmark: "shared-limits",
        metric: "--share-limits: Redis round trips per request",
        value: String(shared.redisRoundTripsPerRequest),
        goal: "(cost)",
        met: undefined
      }
    ]
    return { results: { windows: spec, alone, shared }, rows }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
