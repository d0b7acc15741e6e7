/**
 * The CertCentral stand-in server: a real HTTP server on loopback speaking the three endpoints as DigiCert documents
 * them, with rate limits, scripted orders, fault injection and counters. Use it as an Effect service
 * ({@link layer}) or from plain code ({@link start}).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Account from "./Account.js"
import type * as Faults from "./Faults.js"
import * as server from "./internal/server.js"
import type * as OrderData from "./OrderData.js"
import type * as OrderScript from "./OrderScript.js"
import type * as RateLimit from "./RateLimit.js"

/**
 * Server options; every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Port to listen on (default 0: any free port). */
  readonly port?: number
  /** Address to listen on (default `127.0.0.1`). */
  readonly host?: string
  /** The one valid `X-DC-DEVKEY` (default `test-api-key`). */
  readonly apiKey?: string
  /** Seed for generated order data, probabilistic faults and latency jitter (default 1). */
  readonly seed?: number
  /** Rolling windows per key, or `"off"` (default DigiCert's 100 per 5 s and 1000 per 3 min). */
  readonly rateLimit?: RateLimit.Setting
  /** `Retry-After` seconds on 429s from the limiter and storms, or `false` for none as DigiCert does (default). */
  readonly retryAfter?: false | number
  /** Another client sharing the key: phantom arrivals at this steady rate consume the rate-limit budget. */
  readonly foreignLoad?: { readonly requestsPerSecond: number }
  /** Faults drawn by probability for requests to the three endpoints. */
  readonly faults?: Faults.Probabilities
  /** Scripted outages (times count from start-up), see `Faults.Outage`. */
  readonly outages?: ReadonlyArray<Faults.Outage>
  /** Fault queues per order and endpoint, consumed one fault per matching request, before any probabilistic draw. */
  readonly script?: ReadonlyArray<Faults.ScriptEntry>
  /** Delay added to every answer: `meanMs` plus or minus up to `jitterMs` (uniform, seeded). */
  readonly latency?: { readonly meanMs: number; readonly jitterMs?: number }
  /** Orders that always answer an error, e.g. `{ 5: OrderScript.notFound, 6: OrderScript.missingPermission }`. */
  readonly orders?: { readonly [orderId: number]: OrderScript.Behaviour }
  /**
   * The orders the list endpoints list: a count (`Account.generatedIds(n)`) or the ids themselves (default
   * `Account.defaultOrderIds`: the three samples and 250 generated orders). Each order's data is generated as for the
   * per-order endpoints; `Handle.addOrders` adds more while the server runs.
   */
  readonly account?: number | ReadonlyArray<number>
  /**
   * Send bodies with `Transfer-Encoding: chunked` and no `Content-Length`, as many servers and proxies do (default
   * `false`: every body has a `Content-Length`). Faults about the length (`truncatedJson`, `resetDuringBody`,
   * `oversized`) keep their own framing.
   */
  readonly chunked?: boolean
  /** How many request start times {@link Stats} keeps (the most recent; default 100,000). */
  readonly maxRequestTimes?: number
}

/**
 * Which route a request hit.
 *
 * @since 0.1.0
 * @category models
 */
export type Route = OrderData.Endpoint | Account.ListEndpoint | "unknown"

/**
 * What the server saw since it started or since the last reset.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Requests received. */
  requests: number
  /** Requests per route (`unknown`: any other path or method). */
  readonly byRoute: Record<Route, number>
  /**
   * Answers per HTTP status (`"200"`, `"429"` ...), `"reset"` for connections destroyed on purpose and `"hang"` for
   * requests left unanswered by an outage.
   */
  readonly byStatus: Record<string, number>
  /** 429 answers served, whatever caused them. */
  rateLimited: number
  /** Faults applied, per kind. */
  readonly faults: Partial<Record<Faults.Kind, number>>
  /** Requests in flight now. */
  inFlight: number
  /** Most requests in flight at once. */
  peakConcurrency: number
  /** Arrival times (ms since the epoch), oldest first, at most `maxRequestTimes`. */
  readonly requestTimes: Array<number>
  /** Requests answered by a scripted outage (503, 502, reset, refused, hang). */
  outage: number
  /** Requests by the key they carried: the right one, a wrong one, none. The key itself is never kept. */
  readonly keys: { valid: number; invalid: number; missing: number }
  /** Phantom arrivals of the foreign client, admitted or refused by the limiter. */
  readonly foreign: { admitted: number; refused: number }
}

/**
 * A 429 storm: the next `requests` requests, and/or every request for `durationMs`, answer 429.
 *
 * @since 0.1.0
 * @category models
 */
export interface Storm {
  readonly requests?: number
  readonly durationMs?: number
}

/**
 * A running server for plain (non-Effect) code.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  readonly port: number
  /** e.g. `http://127.0.0.1:PORT/services/v2` */
  readonly baseUrl: string
  readonly apiKey: string
  readonly stats: () => Stats
  readonly resetStats: () => void
  /** Forget every arrival the limiter counted. */
  readonly resetRateLimit: () => void
  /** Add faults to the queue of an order (or `"*"`) and endpoint. */
  readonly script: (entry: Faults.ScriptEntry) => void
  /** Drop every scripted fault queue. */
  readonly clearScript: () => void
  /** Make an order always answer an error, or (with `undefined`) answer normally again. */
  readonly setOrder: (orderId: number, behaviour: OrderScript.Behaviour | undefined) => void
  /** Start a 429 storm; it replaces any storm under way. */
  readonly rateLimitStorm: (storm: Storm) => void
  /** Schedule an outage; an `atMs` start counts from now. */
  readonly outage: (outage: Faults.Outage) => void
  /** Add orders to the account the list endpoints list (for example between two pages of a listing). */
  readonly addOrders: (orderIds: ReadonlyArray<number>) => void
  /** The ids of the account's orders, ascending. */
  readonly orderIds: () => ReadonlyArray<number>
  /** Count `count` arrivals of another client sharing the key, now. */
  readonly addForeignArrivals: (count: number) => void
  readonly close: () => Promise<void>
}

/**
 * The server as an Effect service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** e.g. `http://127.0.0.1:PORT/services/v2` */
  readonly baseUrl: string
  readonly apiKey: string
  readonly port: number
  readonly stats: Effect.Effect<Stats>
  readonly resetStats: Effect.Effect<void>
  readonly resetRateLimit: Effect.Effect<void>
  readonly script: (entry: Faults.ScriptEntry) => Effect.Effect<void>
  readonly clearScript: Effect.Effect<void>
  readonly setOrder: (orderId: number, behaviour: OrderScript.Behaviour | undefined) => Effect.Effect<void>
  readonly rateLimitStorm: (storm: Storm) => Effect.Effect<void>
  /** Schedule an outage; an `atMs` start counts from now. */
  readonly outage: (outage: Faults.Outage) => Effect.Effect<void>
  readonly addOrders: (orderIds: ReadonlyArray<number>) => Effect.Effect<void>
  readonly orderIds: Effect.Effect<ReadonlyArray<number>>
  readonly addForeignArrivals: (count: number) => Effect.Effect<void>
}

/**
 * The service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class TestServer extends Context.Tag("@certcentral/testkit/TestServer")<TestServer, Service>() {}

/**
 * Start a server for plain code; call `close()` when done.
 *
 * @example
 * ```ts
 * import { OrderScript, TestServer } from "@certcentral/testkit"
 *
 * const server = await TestServer.start({ rateLimit: "off", orders: { 7: OrderScript.notFound } })
 * const get = (path: string) => fetch(`${server.baseUrl}${path}`, { headers: { "X-DC-DEVKEY": server.apiKey } })
 *
 * assert.strictEqual((await get("/order/certificate/12345/duplicate")).status, 200)
 * assert.strictEqual((await get("/account/subaccount/order/7")).status, 404)
 * assert.strictEqual(server.stats().requests, 2)
 * await server.close()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options?: Options): Promise<Handle> => server.start(options)

/**
 * Start a server that closes when the scope closes. A failure to listen (port in use) is a defect.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(Effect.promise(() => server.start(options)), (handle) => Effect.promise(handle.close)),
    (handle): Service => ({
      baseUrl: handle.baseUrl,
      apiKey: handle.apiKey,
      port: handle.port,
      stats: Effect.sync(handle.stats),
      resetStats: Effect.sync(handle.resetStats),
      resetRateLimit: Effect.sync(handle.resetRateLimit),
      script: (entry) => Effect.sync(() => handle.script(entry)),
      clearScript: Effect.sync(handle.clearScript),
      setOrder: (orderId, behaviour) => Effect.sync(() => handle.setOrder(orderId, behaviour)),
      rateLimitStorm: (storm) => Effect.sync(() => handle.rateLimitStorm(storm)),
      outage: (outage) => Effect.sync(() => handle.outage(outage)),
      addOrders: (orderIds) => Effect.sync(() => handle.addOrders(orderIds)),
      orderIds: Effect.sync(handle.orderIds),
      addForeignArrivals: (count) => Effect.sync(() => handle.addForeignArrivals(count))
    })
  )

/**
 * The server as a scoped layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<TestServer> => Layer.scoped(TestServer, make(options))
