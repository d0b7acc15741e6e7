/**
 * The core client embedded in a small Effect HTTP service: one client layer, so one rolling-window rate limiter
 * shared by every request the service handles. It starts on a free port, calls itself a few times, prints the
 * answers and exits. Runs against the testkit's stand-in server.
 *
 *   pnpm example:embed
 */
import { CertCentralClient } from "@certcentral/core"
import { TestServer } from "@certcentral/testkit"
import { HttpClient, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Redacted, Schema } from "effect"
import { createServer } from "node:http"

// GET /orders/:id → a summary of the order and how many duplicates and reissues it has
const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/orders/:id",
    Effect.gen(function*() {
      const { id } = yield* HttpRouter.schemaPathParams(Schema.Struct({ id: Schema.NumberFromString }))
      const client = yield* CertCentralClient.CertCentralClient
      const [order, duplicates, reissues] = yield* Effect.all([
        client.getSubaccountOrder(id),
        client.listDuplicates(id),
        client.listReissues(id)
      ], { concurrency: "unbounded" })
      return yield* HttpServerResponse.json({
        order_id: id,
        status: order.status,
        product: order.product?.name ?? null,
        common_name: order.certificate?.common_name ?? null,
        duplicates: duplicates.length,
        reissues: reissues.length
      })
    }).pipe(
      Effect.catchTags({
        NotFoundError: () => HttpServerResponse.json({ error: "no such order" }, { status: 404 }),
        ParseError: () => HttpServerResponse.json({ error: "order id must be a number" }, { status: 400 })
      }),
      Effect.catchAll((error) =>
        HttpServerResponse.json({ error: "_tag" in error ? error._tag : "error" }, { status: 502 })
      )
    )
  ),
  HttpRouter.get(
    "/stats",
    Effect.flatMap(CertCentralClient.CertCentralClient, (client) => client.stats).pipe(
      Effect.flatMap((stats) => HttpServerResponse.json(stats))
    )
  )
)

const ClientLive = Layer.unwrapEffect(
  Effect.map(TestServer.TestServer, (server) =>
    CertCentralClient.layer({
      apiKey: Redacted.make(server.apiKey),
      baseUrl: server.baseUrl,
      // one limiter for the whole service: every handler fiber queues behind the same windows
      rateLimit: [{ limit: 10, window: "1 second" }]
    }))
).pipe(Layer.provide(NodeHttpClient.layerUndici))

// the service: the router on a Node HTTP server on a free loopback port, its client talking to the testkit server
const AppLive = HttpServer.serve(router).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
  Layer.provide(ClientLive),
  Layer.provide(TestServer.layer({ seed: 5 }))
)

// calls the service a few times, concurrently, then prints the shared client's stats
const selfTest = Effect.gen(function*() {
  const address = yield* HttpServer.addressFormattedWith((url) => Effect.succeed(url))
  yield* Console.log(`service listening on ${address}`)
  const http = yield* HttpClient.HttpClient
  const get = (path: string) =>
    http.get(`${address}${path}`).pipe(
      Effect.flatMap((res) => Effect.map(res.json, (body) => `${res.status} ${JSON.stringify(body)}`)),
      Effect.flatMap((line) => Console.log(`GET ${path} -> ${line}`))
    )
  yield* Effect.forEach(
    ["/orders/123456", "/orders/12345678", "/orders/1234567", "/orders/42", "/orders/abc"],
    get,
    { concurrency: "unbounded", discard: true }
  )
  yield* get("/stats")
})

selfTest.pipe(
  Effect.provide(AppLive),
  Effect.provide(NodeHttpClient.layerUndici),
  NodeRuntime.runMain
)
