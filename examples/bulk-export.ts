/**
 * The main job: export a few hundred orders to `out/` as CSV and NDJSON, with live progress, through the
 * `certcentral-export` CLI code.
 *
 * - Without `DIGICERT_API_KEY`: starts the testkit's stand-in server in-process (rate limits scaled down on both
 *   sides, so the run finishes in well under a minute) and exports 300 generated order ids plus the documented
 *   sample ids.
 * - With `DIGICERT_API_KEY`: runs against the real API (or `DIGICERT_BASE_URL`), reading order ids from
 *   `--orders <path>` or the `CERTCENTRAL_ORDERS` environment variable. Other flags are passed to the CLI.
 *
 *   pnpm demo
 *   DIGICERT_API_KEY=... pnpm demo --orders my-orders.csv
 */
import { Cli } from "@certcentral/export"
import { Samples, TestServer } from "@certcentral/testkit"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { ConfigProvider, Effect, Layer } from "effect"
import * as fs from "node:fs"

const OUT = "out"
// 100 requests per 2 s and 1000 per 72 s: DigiCert's windows at 2.5 times the speed
const SERVER_WINDOWS = [{ limit: 100, windowMs: 2_000 }, { limit: 1000, windowMs: 72_000 }]
const CLIENT_WINDOWS = "100/2s,1000/72s"

const argv = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name)
  return i === -1 ? undefined : argv[i + 1]
}
const without = (name: string): Array<string> => {
  const i = argv.indexOf(name)
  return i === -1 ? argv : [...argv.slice(0, i), ...argv.slice(i + 2)]
}

const exportTo = (
  env: Record<string, string | undefined>,
  orders: string,
  extra: ReadonlyArray<string>,
  between: Effect.Effect<void> = Effect.void
) =>
  Effect.gen(function*() {
    let worst = 0
    for (const output of [`${OUT}/certificates.csv`, `${OUT}/certificates.ndjson`]) {
      if (output.endsWith(".ndjson")) yield* between
      process.stderr.write(`\nexporting to ${output}\n`)
      const code = yield* Cli.run(["node", "certcentral-export", "--orders", orders, "--output", output, ...extra])
        .pipe(
          Effect.withConfigProvider(
            ConfigProvider.fromMap(new Map(Object.entries(env).flatMap(([k, v]) => v === undefined ? [] : [[k, v]])))
          ),
          Effect.provide(Layer.merge(Cli.layerTerminal, NodeHttpClient.layerUndici)),
          Effect.as(0),
          Effect.catchTag("ExitError", (error) => Effect.succeed(error.code))
        )
      worst = Math.max(worst, code)
    }
    return worst
  })

const demo = Effect.gen(function*() {
  fs.mkdirSync(OUT, { recursive: true })
  const key = process.env["DIGICERT_API_KEY"]
  if (key !== undefined && key !== "") {
    const orders = flag("--orders") ?? process.env["CERTCENTRAL_ORDERS"]
    if (orders === undefined) {
      process.stderr.write("with DIGICERT_API_KEY set, give the order ids: --orders <path> or CERTCENTRAL_ORDERS\n")
      return 2
    }
    return yield* exportTo(process.env, orders, without("--orders"))
  }
  const server = yield* Effect.acquireRelease(
    Effect.promise(() => TestServer.start({ seed: 7, rateLimit: SERVER_WINDOWS })),
    (handle) => Effect.promise(handle.close)
  )
  process.stderr.write(`no DIGICERT_API_KEY: using the testkit server at ${server.baseUrl}\n`)
  const ids = [...Samples.orderIds, ...Array.from({ length: 300 }, (_, i) => 100_001 + i * 7)]
  const orders = `${OUT}/orders.txt`
  fs.writeFileSync(orders, ids.join("\n") + "\n")
  const started = Date.now()
  const code = yield* exportTo(
    { DIGICERT_API_KEY: server.apiKey, DIGICERT_BASE_URL: server.baseUrl },
    orders,
    ["--rate-limit", CLIENT_WINDOWS, ...argv],
    // each export is a client of its own: let the stand-in forget the first one's requests, as DigiCert's windows
    // would a few minutes later, instead of the second export meeting a full window it cannot know about
    Effect.sync(() => server.resetRateLimit())
  )
  const stats = server.stats()
  process.stderr.write(
    `\nserver saw ${stats.requests} requests, ${stats.rateLimited} answered 429; ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s in all. Files in ${OUT}/\n`
  )
  return code
})

demo.pipe(
  Effect.scoped,
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    teardown: (exit, onExit) => onExit(exit._tag === "Success" ? Number(exit.value) : 1)
  })
)
