/**
 * The CertCentral stand-in as an Effect program: one request handler over state that reads Effect's `Clock`
 * (latency is `Effect.sleep`; rolling windows, 429 storms, scripted outages and foreign load all count on the clock),
 * served in memory as an `HttpClient` (this module) or over a socket (`TestServer`). Under `TestClock` a test drives a
 * 20 s outage with `TestClock.adjust` and no request touches the network.
 *
 * @since 0.3.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Account from "./Account.js"
import type * as AccountHistory from "./AccountHistory.js"
import type * as Faults from "./Faults.js"
import * as Handler from "./internal/handler.js"
import type * as OrderData from "./OrderData.js"
import type * as OrderScript from "./OrderScript.js"
import type * as RateLimit from "./RateLimit.js"

/**
 * What the stand-in does; every field is optional. `TestServer.Options` adds the socket's own.
 *
 * @since 0.3.0
 * @category models
 */
export interface Options {
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
  /** Delay added to every answer: `meanMs` plus or minus up to `jitterMs` (uniform, seeded), on the Effect clock. */
  readonly latency?: { readonly meanMs: number; readonly jitterMs?: number }
  /** Orders that always answer an error, e.g. `{ 5: OrderScript.notFound, 6: OrderScript.missingPermission }`. */
  readonly orders?: { readonly [orderId: number]: OrderScript.Behaviour }
  /**
   * The orders the list endpoints list: a count (`Account.generatedIds(n)`) or the ids themselves (default
   * `Account.defaultOrderIds`: the three samples and 250 generated orders). Each order's data is generated as for the
   * per-order endpoints; `addOrders` adds more while the stand-in runs.
   */
  readonly account?: number | ReadonlyArray<number>
  /**
   * An account that changes over time: the listings, the three per-order endpoints and the status change list
   * (`GET /order/certificate/status-changes`) answer from it as of the handler's clock (`AccountHistory.answer`), in
   * place of `account`, `seed` and `orders`. Keys, rate limits, faults, scripts and outages apply as to every route.
   */
  readonly history?: AccountHistory.History
  /** How many request start times {@link Stats} keeps (the most recent; default 100,000). */
  readonly maxRequestTimes?: number
}

/**
 * Which route a request hit.
 *
 * @since 0.3.0
 * @category models
 */
export type Route = OrderData.Endpoint | Account.ListEndpoint | "listStatusChanges" | "unknown"

/**
 * What the stand-in saw since it started or since the last reset.
 *
 * @since 0.3.0
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
  /** Requests in flight now (held ones included). */
  inFlight: number
  /**
   * Requests waiting now for the end of a hold (see {@link Control.hold}); they are not yet in `requests`,
   * `byRoute` or `requestTimes`.
   */
  held: number
  /** Most requests in flight at once. */
  peakConcurrency: number
  /** Arrival times (ms since the epoch on the Effect clock), oldest first, at most `maxRequestTimes`. */
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
 * @since 0.3.0
 * @category models
 */
export interface Storm {
  readonly requests?: number
  readonly durationMs?: number
}

/**
 * How {@link Control.hold} holds: `afterRequests` requests arriving from the call on are still answered (default 0),
 * every later one waits.
 *
 * @since 0.3.0
 * @category models
 */
export interface HoldOptions {
  readonly afterRequests?: number
}

/**
 * Inspect and steer a running stand-in. Effects that read time (`rateLimitStorm`, `outage`, `addForeignArrivals`)
 * read the clock of the fiber that runs them.
 *
 * @since 0.3.0
 * @category models
 */
export interface Control {
  /** e.g. `http://certcentral.test/services/v2` in memory, `http://127.0.0.1:PORT/services/v2` over a socket. */
  readonly baseUrl: string
  readonly apiKey: string
  readonly stats: Effect.Effect<Stats>
  readonly resetStats: Effect.Effect<void>
  /** Forget every arrival the limiter counted. */
  readonly resetRateLimit: Effect.Effect<void>
  /** Add faults to the queue of an order (or `"*"`) and endpoint. */
  readonly script: (entry: Faults.ScriptEntry) => Effect.Effect<void>
  /** Drop every scripted fault queue. */
  readonly clearScript: Effect.Effect<void>
  /** Make an order always answer an error, or (with `undefined`) answer normally again. */
  readonly setOrder: (orderId: number, behaviour: OrderScript.Behaviour | undefined) => Effect.Effect<void>
  /** Start a 429 storm; it replaces any storm under way. */
  readonly rateLimitStorm: (storm: Storm) => Effect.Effect<void>
  /** Schedule an outage; an `atMs` start counts from now. */
  readonly outage: (outage: Faults.Outage) => Effect.Effect<void>
  /** Add orders to the account the list endpoints list (for example between two pages of a listing). */
  readonly addOrders: (orderIds: ReadonlyArray<number>) => Effect.Effect<void>
  /** The ids of the account's orders, ascending. */
  readonly orderIds: Effect.Effect<ReadonlyArray<number>>
  /** Count `count` arrivals of another client sharing the key, now. */
  readonly addForeignArrivals: (count: number) => Effect.Effect<void>
  /**
   * Hold requests: from now on, after the first `afterRequests` that arrive (default 0), each request waits
   * unanswered until {@link Control.release}, however long that is and whatever the clock does; `stats.held` counts
   * them. A held request reaches the stand-in when it is released, as if it arrived then: it is counted, timed,
   * rate-limited and given its latency, fault or outage answer at that moment. For a client kept mid-run for as long as
   * a test needs (a second process refused meanwhile, a signal that surely lands mid-export), without a slow server.
   * A hold already on is replaced (its held requests stay held). In memory a held caller that is interrupted leaves
   * the queue; over a socket a held request stays until the release even when its client has gone.
   */
  readonly hold: (options?: HoldOptions) => Effect.Effect<void>
  /** End the hold: every held request goes on, in arrival order, and no more are held. */
  readonly release: Effect.Effect<void>
}

/**
 * An in-memory stand-in: its control and the `HttpClient` that reaches it.
 *
 * @since 0.3.0
 * @category models
 */
export interface InMemory extends Control {
  readonly client: HttpClient.HttpClient
}

/**
 * The control of the in-memory stand-in provided by {@link layer}.
 *
 * @since 0.3.0
 * @category tags
 */
export class StandIn extends Context.Tag("@certcentral/testkit/StandIn")<StandIn, Control>() {}

/**
 * The host the in-memory client answers for; a request to any other host fails as a refused connection would.
 *
 * @since 0.3.0
 * @category constants
 */
export const host = "certcentral.test"

/**
 * The base URL of the in-memory stand-in.
 *
 * @since 0.3.0
 * @category constants
 */
export const baseUrl = `http://${host}${Handler.BASE_PATH}`

const control = (handler: Handler.Handler, url: string): Control => ({
  baseUrl: url,
  apiKey: handler.apiKey,
  stats: Effect.sync(handler.stats),
  resetStats: Effect.sync(handler.resetStats),
  resetRateLimit: Effect.sync(handler.resetRateLimit),
  script: (entry) => Effect.sync(() => handler.script(entry)),
  clearScript: Effect.sync(handler.clearScript),
  setOrder: (orderId, behaviour) => Effect.sync(() => handler.setOrder(orderId, behaviour)),
  rateLimitStorm: handler.rateLimitStorm,
  outage: handler.outage,
  addOrders: (orderIds) => Effect.sync(() => handler.addOrders(orderIds)),
  orderIds: Effect.sync(handler.orderIds),
  addForeignArrivals: handler.addForeignArrivals,
  hold: (options) => Effect.sync(() => handler.hold(options)),
  release: Effect.sync(handler.release)
})

const transport = (request: HttpClientRequest.HttpClientRequest, description: string) =>
  new HttpClientError.RequestError({ request, reason: "Transport", description, cause: new Error(description) })

const oversizedChunk = new TextEncoder().encode("0,".repeat(32 * 1024))
const oversizedHead = new TextEncoder().encode("{\"certificates\":[")

/** `{"certificates":[` then `0,` repeated, generated chunk by chunk as it is read. */
const oversizedBody = (bytes: number): Stream.Stream<Uint8Array> =>
  Stream.unfold(bytes, (left) => {
    if (left <= 0) return Option.none()
    const source = left === bytes ? oversizedHead : oversizedChunk
    const chunk = source.length > left ? source.subarray(0, left) : source
    return Option.some([chunk, left - chunk.length] as const)
  })

const streaming = (reply: Handler.Reply): boolean => reply._tag !== "Respond" && reply._tag !== "Reset"

/** The in-memory face: a reply rendered as a web `Response` whose body streams on the caller's runtime. */
const respond = (
  handler: Handler.Handler,
  request: HttpClientRequest.HttpClientRequest,
  url: URL
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.gen(function*() {
    if (url.host !== host) return yield* Effect.fail(transport(request, `connect ECONNREFUSED ${url.host}`))
    const runtime = yield* Effect.runtime<never>()
    const reply = yield* Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        Effect.sync(handler.enter),
        restore(handler.handle({
          method: request.method,
          url: `${url.pathname}${url.search}`,
          key: Option.getOrUndefined(Headers.get(request.headers, "x-dc-devkey"))
        })).pipe(
          Effect.onExit((exit) =>
            Exit.isSuccess(exit) && streaming(exit.value) ? Effect.void : Effect.sync(handler.leave)
          )
        )
      )
    )
    const web = (body: Stream.Stream<Uint8Array, Error>, status: number, headers: Record<string, string>) =>
      new Response(
        Stream.toReadableStreamRuntime(Stream.ensuring(body, Effect.sync(handler.leave)), runtime),
        { status, headers }
      )
    switch (reply._tag) {
      case "Reset":
        return yield* Effect.fail(transport(request, "socket hang up (the stand-in reset the connection)"))
      case "Respond": {
        const { body, headers, status } = reply
        // a web Response takes statuses 200 to 599 only, and no body on 204, 205 and 304
        if (status < 200 || status > 599) {
          return yield* Effect.fail(transport(request, `status ${status} cannot be answered in memory`))
        }
        const empty = body.length === 0 || status === 204 || status === 205 || status === 304
        return HttpClientResponse.fromWeb(
          request,
          new Response(empty ? null : body, {
            status,
            headers: { ...headers, "content-length": String(empty ? 0 : body.length) }
          })
        )
      }
      case "Dribble":
        return HttpClientResponse.fromWeb(
          request,
          web(
            Stream.fromIterable(reply.chunks).pipe(
              Stream.zipWithIndex,
              Stream.mapEffect(([chunk, i]) =>
                i === 0 ? Effect.succeed(chunk) : Effect.as(Effect.sleep(reply.delayMs), chunk)
              )
            ),
            reply.status,
            { ...reply.headers }
          )
        )
      case "ResetDuringBody":
        return HttpClientResponse.fromWeb(
          request,
          web(
            Stream.concat(
              Stream.succeed(reply.partial),
              Stream.fail(new Error("other side closed (the stand-in reset the connection mid-body)"))
            ),
            200,
            { ...reply.headers }
          )
        )
      case "Oversized":
        return HttpClientResponse.fromWeb(
          request,
          web(
            oversizedBody(reply.bytes),
            200,
            reply.declareLength
              ? { "content-type": "application/json", "content-length": String(reply.bytes) }
              : { "content-type": "application/json" }
          )
        )
    }
  })

/**
 * An in-memory stand-in: no socket, every request answered by the handler in the calling fiber, so latency,
 * windows, storms and outages follow that fiber's clock (`TestClock` in `it.effect`).
 *
 * Faults in memory: `resetBeforeBody` and the outage answers `reset` and `refused` fail the request with a
 * `RequestError` (reason `Transport`); `resetDuringBody` sends the headers and half the body, then the body stream
 * fails (the client sees a `ResponseError` when it reads the body, as from a real reset); `slowHeaders`, `slowBody`
 * and `hang` wait on the clock; `oversized` streams its bytes as they are read; a `raw` status outside 200 to 599
 * fails the request (a web `Response` cannot carry it). Only the server's framing
 * (`chunked`, a body shorter than its `Content-Length` on the wire) and a listening socket that really closes are
 * `TestServer`'s alone.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<InMemory> =>
  Effect.map(Handler.make(options), (handler) => ({
    ...control(handler, baseUrl),
    client: HttpClient.make((request, url) => respond(handler, request, url))
  }))

/**
 * The in-memory stand-in as a layer: an `HttpClient` to provide where `NodeHttpClient.layerUndici` would go, and its
 * {@link StandIn} control.
 *
 * @example
 * ```ts
 * import { CertCentralClient } from "@certcentral/core"
 * import { StandIn } from "@certcentral/testkit"
 * import { Layer, Redacted } from "effect"
 *
 * const client = CertCentralClient.layer({ apiKey: Redacted.make("test-api-key"), baseUrl: StandIn.baseUrl }).pipe(
 *   Layer.provideMerge(StandIn.layer({ rateLimit: "off" }))
 * )
 * ```
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<HttpClient.HttpClient | StandIn> =>
  Layer.effectContext(
    Effect.map(make(options), (standIn) =>
      Context.make(StandIn, standIn as Control).pipe(Context.add(HttpClient.HttpClient, standIn.client)))
  )
