/**
 * Several workers on one API key, each with its own client and its own Redis connection, as separate processes
 * would have: first each keeping its limits alone (together they break the key's windows and meet 429s), then all
 * sharing them through Redis (no 429s). Runs against the testkit's stand-in server, enforcing scaled-down windows.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 pnpm example:shared-limits
 */
import { CertCentralClient, RollingWindowLimiter } from "@certcentral/core"
import * as RedisLimiter from "@certcentral/core/RollingWindowLimiter/Redis"
import { TestServer } from "@certcentral/testkit"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Redacted } from "effect"
import type * as Scope from "effect/Scope"

// DigiCert's windows scaled down 10 times, so that the example takes seconds: the server enforces them too
const windows: ReadonlyArray<RollingWindowLimiter.Window> = [
  { limit: 10, window: "500 millis" },
  { limit: 100, window: "18 seconds" }
]
const WORKERS = 3
const ORDERS_PER_WORKER = 30

// One worker: its own client (and so its own pause and retries), fetching its orders eight at a time.
const worker = (server: TestServer.Service, n: number, rateLimit: Limits) =>
  Effect.gen(function*() {
    const client = yield* CertCentralClient.make({
      apiKey: Redacted.make(server.apiKey),
      baseUrl: server.baseUrl,
      rateLimit
    })
    const ids = Array.from({ length: ORDERS_PER_WORKER }, (_, i) => 100_000 + n * 1000 + i)
    yield* Effect.forEach(ids, (id) => client.getSubaccountOrder(id), { concurrency: 8, discard: true })
  })

type Limits = RollingWindowLimiter.RollingWindowLimiter | ReadonlyArray<RollingWindowLimiter.Window>

const run = (
  label: string,
  limitsOf: (n: number) => Effect.Effect<Limits, RedisLimiter.RedisSetupError, Scope.Scope>
) =>
  Effect.gen(function*() {
    const server = yield* TestServer.make({
      rateLimit: [{ limit: 10, windowMs: 500 }, { limit: 100, windowMs: 18_000 }],
      latency: { meanMs: 20, jitterMs: 15 }
    })
    const started = Date.now()
    yield* Effect.forEach(
      Array.from({ length: WORKERS }, (_, n) => n),
      (n) => Effect.flatMap(limitsOf(n), (limits) => worker(server, n, limits)),
      { concurrency: "unbounded", discard: true }
    )
    const stats = yield* server.stats
    yield* Console.log(
      `${label}: ${stats.requests} requests, ${stats.rateLimited} answered 429, ${
        ((Date.now() - started) / 1000).toFixed(1)
      } s`
    )
  }).pipe(Effect.scoped)

const program = Effect.gen(function*() {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
  const apiKey = Redacted.make("test-api-key")
  yield* run("each worker alone   ", () => Effect.succeed(windows))
  // the yardstick: one process, one in-memory limiter for all three workers
  const one = yield* RollingWindowLimiter.make(windows)
  yield* run("one in-memory limiter", () => Effect.succeed(one))
  // a separate limiter (and connection) per worker, as in separate processes: only Redis is shared
  yield* run("shared through Redis ", () => RedisLimiter.make({ url, apiKey, windows, name: "example" }))
})

program.pipe(
  Effect.catchTag("RedisSetupError", (error) => Console.error(`${error.message} (set REDIS_URL)`)),
  Effect.provide(NodeHttpClient.layerUndici),
  NodeRuntime.runMain
)
