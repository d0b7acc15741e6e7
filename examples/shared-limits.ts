/**
 * Several workers on one API key, each with its own client and its own Redis connection, as separate processes
 * would have: first each keeping its limits alone (together they break the key's windows and meet 429s), then all
 * sharing them through Redis with `layerShared`: the rolling windows, the 429 pause and the circuit (no 429s). Runs against the testkit's stand-in server, enforcing scaled-down windows.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 pnpm example:shared-limits
 */
import { CertCentralClient, ClientHealth, RollingWindowLimiter } from "@certcentral/core"
import * as RedisLimiter from "@certcentral/core/RollingWindowLimiter/Redis"
import { TestServer } from "@certcentral/testkit"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Layer, Redacted } from "effect"

// DigiCert's windows scaled down 10 times, so that the example takes seconds: the server enforces them too
const windows: ReadonlyArray<RollingWindowLimiter.Window> = [
  { limit: 10, window: "500 millis" },
  { limit: 100, window: "18 seconds" }
]
const WORKERS = 3
const ORDERS_PER_WORKER = 30

// One worker: its own client (and so its own retries), fetching its orders eight at a time. The client takes its
// limiter and its health (the 429 pause and the circuit) from the context when there is one.
const worker = (server: TestServer.Service, n: number) =>
  Effect.gen(function*() {
    const client = yield* CertCentralClient.make({ apiKey: Redacted.make(server.apiKey), baseUrl: server.baseUrl })
    const ids = Array.from({ length: ORDERS_PER_WORKER }, (_, i) => 100_000 + n * 1000 + i)
    yield* Effect.forEach(ids, (id) => client.getSubaccountOrder(id), { concurrency: 8, discard: true })
    return (yield* client.stats).pauses
  })

type Sharing = Layer.Layer<
  RollingWindowLimiter.RollingWindowLimiter | ClientHealth.ClientHealth,
  RedisLimiter.RedisSetupError
>

const run = (label: string, sharing: (server: TestServer.Service) => Sharing) =>
  Effect.gen(function*() {
    const server = yield* TestServer.make({
      rateLimit: [{ limit: 10, windowMs: 500 }, { limit: 100, windowMs: 18_000 }],
      latency: { meanMs: 20, jitterMs: 15 }
    })
    const started = Date.now()
    // each worker builds its own layer: its own limiter, health and Redis connections, as a process of its own would
    const pauses = yield* Effect.forEach(
      Array.from({ length: WORKERS }, (_, n) => n),
      (n) => worker(server, n).pipe(Effect.provide(sharing(server))),
      { concurrency: "unbounded" }
    )
    const stats = yield* server.stats
    yield* Console.log(
      `${label}: ${stats.requests} requests, ${stats.rateLimited} answered 429, 429 pauses seen per worker ${
        pauses.join("/")
      }, ${((Date.now() - started) / 1000).toFixed(1)} s`
    )
  }).pipe(Effect.scoped)

const program = Effect.gen(function*() {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
  yield* run("each worker alone    ", () =>
    Layer.merge(
      Layer.effect(RollingWindowLimiter.RollingWindowLimiter, RollingWindowLimiter.make(windows)),
      ClientHealth.layer()
    ))
  // the yardstick: one process, one in-memory limiter and one health for all three workers
  const one = Layer.succeedContext(
    Context.make(RollingWindowLimiter.RollingWindowLimiter, yield* RollingWindowLimiter.make(windows)).pipe(
      Context.add(ClientHealth.ClientHealth, yield* ClientHealth.make())
    )
  )
  yield* run("one in-memory limiter", () => one)
  // a limiter and a health per worker, as in separate processes: only Redis is shared
  yield* run(
    "shared through Redis ",
    (server) => RedisLimiter.layerShared({ url, apiKey: Redacted.make(server.apiKey), windows, name: "example" })
  )
})

program.pipe(
  Effect.catchTag("RedisSetupError", (error) => Console.error(`${error.message} (set REDIS_URL)`)),
  Effect.provide(NodeHttpClient.layerUndici),
  NodeRuntime.runMain
)
