// A program outside the repository: the packed @certcentral/core, /export and /testkit from their tarballs, with
// effect, @effect/platform and @effect/platform-node from the npm registry. It embeds CertCentralClient.layer in its
// own Layer graph and runs it against the testkit's stand-in server on 127.0.0.1.
import { CertCentralClient, type CertCentralError } from "@certcentral/core"
import * as RollingWindowLimiter from "@certcentral/core/RollingWindowLimiter"
import { CertificateRow, Export } from "@certcentral/export"
import { OrderScript, TestServer } from "@certcentral/testkit"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, Context, Effect, Layer, Redacted, Stream } from "effect"
import * as assert from "node:assert/strict"

// The consumer's own service, built on the client.
class Inventory extends Context.Tag("consumer/Inventory")<Inventory, {
  readonly certificatesOf: (orderId: number) => Effect.Effect<number, CertCentralError.CertCentralError>
}>() {}

const InventoryLive = Layer.effect(
  Inventory,
  Effect.gen(function*() {
    const client = yield* CertCentralClient.CertCentralClient
    return {
      certificatesOf: (orderId: number) =>
        Effect.all([client.getSubaccountOrder(orderId), client.listDuplicates(orderId), client.listReissues(orderId)])
          .pipe(
            Effect.map(([order, duplicates, reissues]) =>
              (order.certificate === undefined ? 0 : 1) + duplicates.length + reissues.length
            )
          )
    }
  })
)

const ClientLive = Layer.unwrapEffect(
  Effect.map(TestServer.TestServer, (server) =>
    CertCentralClient.layer({
      apiKey: Redacted.make(server.apiKey),
      baseUrl: server.baseUrl,
      rateLimit: RollingWindowLimiter.digicertDefault
    }))
)

const AppLive = InventoryLive.pipe(
  Layer.provideMerge(ClientLive),
  Layer.provide(NodeHttpClient.layerUndici),
  Layer.provideMerge(TestServer.layer({ orders: { 404: OrderScript.notFound } }))
)

const program = Effect.gen(function*() {
  const inventory = yield* Inventory
  const certificates = yield* inventory.certificatesOf(12345)
  assert.ok(certificates >= 1, "order 12345 has at least its own certificate")

  const missing = yield* inventory.certificatesOf(404).pipe(
    Effect.as("found"),
    Effect.catchTag("NotFoundError", (error) => Effect.succeed(`${error._tag} ${error.status} ${error.errors[0]?.raw}`))
  )
  assert.equal(missing, "NotFoundError 404 not_found|order")

  const rows = Chunk.toReadonlyArray(yield* Stream.runCollect(Export.rows(Stream.make(12345, 1001, 1002))))
  assert.deepEqual([...new Set(rows.map((row) => row.order_id))], [12345, 1001, 1002])
  assert.equal(rows[0]!.source, "order")
  assert.equal(CertificateRow.columns[0], "order_id")

  const stats = yield* Effect.flatMap(TestServer.TestServer, (server) => server.stats)
  assert.equal(stats.keys.invalid + stats.keys.missing, 0)
  return { certificates, missing, rows: rows.length, requests: stats.requests }
})

const result = await Effect.runPromise(Effect.provide(program, AppLive))

// The exports map hides internals: "./internal/*" is null.
const internalPath = "@certcentral/core/internal/client"
const hidden = await import(internalPath).then(() => "importable", (error: NodeJS.ErrnoException) => error.code)
assert.equal(hidden, "ERR_PACKAGE_PATH_NOT_EXPORTED")

console.log(`consumer program ok: ${JSON.stringify({ ...result, internal: hidden })}`)
