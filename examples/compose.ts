/**
 * The client composed in an ordinary Effect program: every certificate across some orders (the orders' own,
 * duplicates and reissues) that expires within 30 days by DigiCert's `days_remaining`, soonest first. Runs against
 * the testkit's stand-in server.
 *
 *   pnpm example:compose
 */
import { CertCentralClient } from "@certcentral/core"
import { TestServer } from "@certcentral/testkit"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Array as Arr, Console, Effect, Layer, Order, Redacted } from "effect"

interface Expiring {
  readonly orderId: number
  readonly source: "order" | "duplicate" | "reissue"
  readonly certificateId: number
  readonly commonName: string
  readonly daysRemaining: number
}

const certificatesOf = (orderId: number) =>
  Effect.gen(function*() {
    const client = yield* CertCentralClient.CertCentralClient
    const [order, duplicates, reissues] = yield* Effect.all([
      client.getSubaccountOrder(orderId),
      client.listDuplicates(orderId),
      client.listReissues(orderId)
    ], { concurrency: "unbounded" })
    const found: Array<Expiring> = []
    const add = (source: Expiring["source"], cert: { id: number; common_name: string; days_remaining?: number }) => {
      if (cert.days_remaining !== undefined) {
        found.push({
          orderId,
          source,
          certificateId: cert.id,
          commonName: cert.common_name,
          daysRemaining: cert.days_remaining
        })
      }
    }
    if (order.certificate !== undefined) add("order", order.certificate)
    duplicates.forEach((cert) => add("duplicate", cert))
    reissues.forEach((cert) => add("reissue", cert))
    return found
  })

const program = Effect.gen(function*() {
  const orderIds = Arr.range(1, 120)
  const all = yield* Effect.forEach(
    orderIds,
    (id) => certificatesOf(id).pipe(Effect.catchTag("NotFoundError", () => Effect.succeed([]))),
    { concurrency: 8 }
  )
  const expiring = Arr.flatten(all).filter((c) => c.daysRemaining >= 0 && c.daysRemaining <= 30)
  const sorted = Arr.sort(
    expiring,
    Order.combine(
      Order.mapInput(Order.number, (c: Expiring) => c.daysRemaining),
      Order.mapInput(Order.number, (c: Expiring) => c.orderId)
    )
  )
  yield* Console.log(`${sorted.length} certificates across ${orderIds.length} orders expire within 30 days:`)
  for (const c of sorted) {
    yield* Console.log(
      `  ${String(c.daysRemaining).padStart(2)} days  order ${c.orderId}  ${
        c.source.padEnd(9)
      } #${c.certificateId}  ${c.commonName}`
    )
  }
  const stats = yield* Effect.flatMap(CertCentralClient.CertCentralClient, (client) => client.stats)
  yield* Console.log(`${stats.requests} requests, ${stats.retries} retries, ${stats.rateLimited} 429s`)
})

// The client, configured from the running test server.
const ClientLive = Layer.unwrapEffect(
  Effect.map(
    TestServer.TestServer,
    (server) => CertCentralClient.layer({ apiKey: Redacted.make(server.apiKey), baseUrl: server.baseUrl })
  )
).pipe(Layer.provide(NodeHttpClient.layerUndici))

program.pipe(
  Effect.provide(ClientLive.pipe(Layer.provideMerge(TestServer.layer({ seed: 3 })))),
  NodeRuntime.runMain
)
