/**
 * The CertCentral stand-in server: the `StandIn` handler served by a real HTTP server on loopback, on the live clock,
 * with the faults only a socket shows (a reset mid-body under a `Content-Length`, chunked bodies, a listening socket
 * that closes for a refused phase). Use it as an Effect service ({@link layer}) or from plain code ({@link start});
 * for tests that need no socket, `StandIn.layer` serves the same handler in memory.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Faults from "./Faults.js"
import * as server from "./internal/server.js"
import type * as OrderScript from "./OrderScript.js"
import type * as StandIn from "./StandIn.js"

/**
 * Server options: the stand-in's ({@link StandIn.Options}) and the socket's own; every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends StandIn.Options {
  /** Port to listen on (default 0: any free port). */
  readonly port?: number
  /** Address to listen on (default `127.0.0.1`). */
  readonly host?: string
  /**
   * Send bodies with `Transfer-Encoding: chunked` and no `Content-Length`, as many servers and proxies do (default
   * `false`: every body has a `Content-Length`). Faults about the length (`truncatedJson`, `resetDuringBody`,
   * `oversized`) keep their own framing.
   */
  readonly chunked?: boolean
}

/**
 * Which route a request hit.
 *
 * @since 0.1.0
 * @category models
 */
export type Route = StandIn.Route

/**
 * What the server saw since it started or since the last reset (see {@link StandIn.Stats}).
 *
 * @since 0.1.0
 * @category models
 */
export type Stats = StandIn.Stats

/**
 * A 429 storm: the next `requests` requests, and/or every request for `durationMs`, answer 429.
 *
 * @since 0.1.0
 * @category models
 */
export type Storm = StandIn.Storm

/**
 * How a hold holds (see {@link StandIn.HoldOptions}).
 *
 * @since 0.3.0
 * @category models
 */
export type HoldOptions = StandIn.HoldOptions

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
  /**
   * Hold requests: after the first `afterRequests` that arrive from now on (default 0), each request waits unanswered
   * until {@link Handle.release}; see `StandIn.Control.hold`.
   */
  readonly hold: (options?: HoldOptions) => void
  /** End the hold: every held request goes on, in arrival order, and no more are held. */
  readonly release: () => void
  readonly close: () => Promise<void>
}

/**
 * The server as an Effect service: the stand-in's {@link StandIn.Control} and the port. The server runs on the live
 * clock whatever clock the caller's fiber has.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends StandIn.Control {
  readonly port: number
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
      addForeignArrivals: (count) => Effect.sync(() => handle.addForeignArrivals(count)),
      hold: (options) => Effect.sync(() => handle.hold(options)),
      release: Effect.sync(handle.release)
    })
  )

/**
 * The server as a scoped layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<TestServer> => Layer.scoped(TestServer, make(options))
