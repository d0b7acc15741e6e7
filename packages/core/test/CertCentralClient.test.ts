import { CertCentralClient, CertCentralError, RollingWindowLimiter } from "@certcentral/core"
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  ConfigProvider,
  Effect,
  Exit,
  Fiber,
  Inspectable,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Redacted,
  Schedule,
  TestClock,
  Tracer
} from "effect"

const API_KEY = "k3y-that-must-never-leak-0123456789"

interface Sent {
  readonly request: HttpClientRequest.HttpClientRequest
  readonly url: URL
  readonly at: number
}

type Reply =
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | "connection-error"
  | "hang"

/** A scripted HttpClient: answers each request from `script` (by call number), recording what was sent. */
const scripted = (script: (n: number, url: URL) => Reply) => {
  const sent: Array<Sent> = []
  const client = HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      // A log line of the request, rendered by Effect's own logger, shows what any log of it would contain.
      yield* Effect.logDebug(request)
      sent.push({ request, url, at })
      const reply = script(sent.length, url)
      if (reply === "hang") return yield* Effect.never
      if (reply === "connection-error") {
        return yield* Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNRESET") })
        )
      }
      return HttpClientResponse.fromWeb(
        request,
        new Response(reply.body ?? "", {
          status: reply.status,
          headers: { "content-type": "application/json", ...reply.headers }
        })
      )
    })
  )
  return { sent, client }
}

const clientLayer = (
  client: HttpClient.HttpClient,
  options: Partial<CertCentralClient.Options> = {}
) =>
  CertCentralClient.layer({
    apiKey: Redacted.make(API_KEY),
    baseUrl: "http://certcentral.test/services/v2",
    rateLimit: "off",
    ...options
  }).pipe(Layer.orDie, Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))

interface EndedSpan {
  readonly name: string
  /** The parent span's name, when the parent is a span of this tracer's. */
  readonly parent: string | undefined
  readonly attributes: ReadonlyMap<string, unknown>
}

/** A tracer whose spans report their events and, when they end, their name, parent and attributes. */
const recordingTracer = (sink: {
  readonly end: (span: EndedSpan) => void
  readonly event?: (name: string, attributes: Record<string, unknown> | undefined) => void
}): Tracer.Tracer => {
  let made = 0
  return Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const attributes = new Map<string, unknown>()
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${made++}`,
        traceId: "trace",
        parent,
        context,
        links,
        sampled: true,
        kind,
        status: { _tag: "Started", startTime },
        attributes,
        attribute: (key, value) => void attributes.set(key, value),
        event: (eventName, _time, attrs) => sink.event?.(eventName, attrs),
        addLinks: () => {},
        end: () =>
          sink.end({
            name,
            parent: parent._tag === "Some" && parent.value._tag === "Span" ? parent.value.name : undefined,
            attributes
          })
      }
      return span
    },
    context: (f) => f()
  })
}

const errorBody = (code: string, message: string) => JSON.stringify({ errors: [{ code, message }] })
const EMPTY_LIST = JSON.stringify({ certificates: [] })
const ORDER = JSON.stringify({
  id: 77,
  status: "issued",
  date_created: "2020-10-14T15:18:50+00:00",
  product: { name_id: "ssl_basic", name: "Basic OV", type: "ssl_certificate" }
})

// Runs `effect` with the scripted client while moving the TestClock forward until it completes.
const runWithClock = <A, E>(
  effect: Effect.Effect<A, E, CertCentralClient.CertCentralClient>,
  layer: Layer.Layer<CertCentralClient.CertCentralClient>
) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.provide(effect, layer))
    for (let i = 0; i < 600 && fiber.unsafePoll() === null; i++) yield* TestClock.adjust("1 second")
    return yield* Fiber.await(fiber)
  })

const failureOf = <A>(exit: Exit.Exit<A, CertCentralError.CertCentralError>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure === undefined) throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return failure
}

describe("CertCentralClient", () => {
  describe("requests", () => {
    it.effect("sends the key, JSON headers and a user agent to the endpoint's path", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((_, url) => ({
          status: 200,
          body: url.pathname.includes("subaccount") ? ORDER : EMPTY_LIST
        }))
        const program = Effect.gen(function*() {
          const cc = yield* CertCentralClient.CertCentralClient
          yield* cc.listDuplicates(12345)
          yield* cc.listReissues(12345, { showArchived: true })
          yield* cc.getSubaccountOrder(77, { includeValidationStatus: true })
        })
        yield* Effect.provide(program, clientLayer(client))
        expect(sent.map((s) => s.url.pathname + s.url.search)).toEqual([
          "/services/v2/order/certificate/12345/duplicate",
          "/services/v2/order/certificate/12345/reissue?show_archived=true",
          "/services/v2/account/subaccount/order/77?include_validation_status=true"
        ])
        const headers = sent[0]!.request.headers
        expect(headers["x-dc-devkey"]).toBe(API_KEY)
        expect(headers["content-type"]).toBe("application/json")
        expect(headers["accept"]).toBe("application/json")
        expect(headers["user-agent"]).toMatch(/^certcentral-effect\/\d+\.\d+\.\d+/)
        expect(headers["traceparent"]).toBeUndefined()
      }))

    it.effect("uses the region's base URL when none is given", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({ status: 200, body: EMPTY_LIST }))
        const layer = CertCentralClient.layer({ apiKey: Redacted.make(API_KEY), region: "eu", rateLimit: "off" }).pipe(
          Layer.orDie,
          Layer.provide(Layer.succeed(HttpClient.HttpClient, client))
        )
        yield* Effect.provide(Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)), layer)
        expect(sent[0]!.url.href).toBe("https://certcentral.digicert.eu/services/v2/order/certificate/1/duplicate")
      }))

    it.effect("rejects invalid order ids before any request", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({ status: 200, body: EMPTY_LIST }))
        const cc = yield* Effect.provide(CertCentralClient.CertCentralClient, clientLayer(client))
        for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53, "12/../x" as unknown as number]) {
          const error = failureOf(yield* Effect.exit(cc.listDuplicates(bad)))
          expect(error._tag).toBe("InvalidOrderIdError")
        }
        expect(sent).toHaveLength(0)
        expect(yield* Effect.exit(cc.listDuplicates(Number.MAX_SAFE_INTEGER))).toStrictEqual(Exit.succeed([]))
      }))
  })

  describe("errors", () => {
    const cases = [
      [401, "invalid_api_key", "AuthenticationError"],
      [403, "access_denied|missing_permission", "PermissionError"],
      [404, "not_found|order", "NotFoundError"],
      [400, "invalid_input", "BadRequestError"],
      [422, "invalid_input|show_archived", "BadRequestError"]
    ] as const
    for (const [status, code, tag] of cases) {
      it.effect(`maps ${status} to ${tag} with DigiCert's parsed errors, without retrying`, () =>
        Effect.gen(function*() {
          const { client, sent } = scripted(() => ({ status, body: errorBody(code, "Nope.") }))
          const exit = yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listReissues(42)),
            clientLayer(client)
          )
          const error = failureOf(exit)
          expect(error._tag).toBe(tag)
          expect(sent).toHaveLength(1)
          if (!("errors" in error)) {
            throw new Error("unexpected")
          }
          expect(error.endpoint).toBe("listReissues")
          expect(error.orderId).toBe(42)
          expect(error.status).toBe(status)
          const [entry] = error.errors
          expect(entry!.raw).toBe(code)
          expect(entry!.code).toBe(code.split("|")[0])
          expect(entry!.qualifier).toBe(code.split("|")[1])
          expect(entry!.message).toBe("Nope.")
        }))
    }

    it.effect("keeps going when an error body is not DigiCert's (an HTML page from a proxy)", () =>
      Effect.gen(function*() {
        const { client } = scripted(() => ({ status: 403, body: "<html>Forbidden</html>" }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client)
          )
        )
        expect(error._tag).toBe("PermissionError")
        expect(error.message).toBe("HTTP 403")
      }))

    it.effect("reports a 2xx body that is not JSON as a decode error, not retried", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({ status: 200, body: "{\"certificates\": [" }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client)
          )
        )
        expect(error._tag).toBe("DecodeError")
        expect(error.message).toMatch(/not JSON/)
        expect(sent).toHaveLength(1)
      }))

    it.effect("reports where a body does not fit the schema", () =>
      Effect.gen(function*() {
        const body = JSON.stringify({
          certificates: [{ id: 1, common_name: "a", status: "issued", date_created: "2020-01-01T00:00:00+00:00" }, {
            id: "two",
            common_name: "b",
            status: "issued",
            date_created: "2020-01-01T00:00:00+00:00"
          }]
        })
        const { client, sent } = scripted(() => ({ status: 200, body }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client)
          )
        )
        expect(error._tag).toBe("DecodeError")
        if (error._tag !== "DecodeError") return
        expect(error.path).toBe("certificates.1.id")
        expect(sent).toHaveLength(1)
      }))

    it.effect("refuses a body larger than the limit without holding it all", () =>
      Effect.gen(function*() {
        const { client } = scripted(() => ({
          status: 200,
          body: JSON.stringify({ certificates: [], pad: "x".repeat(5000) })
        }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client, { maxResponseBytes: 1000 })
          )
        )
        expect(error._tag).toBe("DecodeError")
        expect(error.message).toMatch(/larger than 1000 bytes/)
      }))

    it.effect("refuses a declared Content-Length over the limit before reading the body, without retrying", () =>
      Effect.gen(function*() {
        let pulled = 0
        const sent: Array<URL> = []
        const client = HttpClient.make((request, url) =>
          Effect.sync(() => {
            sent.push(url)
            const body = new ReadableStream<Uint8Array>({
              pull: (controller) => {
                pulled++
                controller.enqueue(new TextEncoder().encode("{\"certificates\":[]}"))
                controller.close()
              }
            }, { highWaterMark: 0 })
            return HttpClientResponse.fromWeb(
              request,
              new Response(body, { status: 200, headers: { "content-length": "2000000" } })
            )
          })
        )
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client, { maxResponseBytes: 1000 })
          )
        )
        expect(error._tag).toBe("DecodeError")
        expect(error.message).toMatch(/larger than 1000 bytes/)
        expect(pulled).toBe(0)
        expect(sent).toHaveLength(1)
      }))

    // a declared length of 5 (the body is longer) and of 500 (the body is cut short)
    for (const [length, which] of [["5", "longer"], ["500", "shorter"]] as const) {
      it.effect(`treats a body ${which} than its Content-Length as a transport failure and retries it`, () =>
        Effect.gen(function*() {
          const { client, sent } = scripted((n) =>
            n === 1
              ? { status: 200, body: "{\"certificates\":[]}", headers: { "content-length": length } }
              : { status: 200, body: EMPTY_LIST }
          )
          const exit = yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client)
          )
          expect(exit).toStrictEqual(Exit.succeed([]))
          expect(sent).toHaveLength(2)
        }))
    }
  })

  describe("retries", () => {
    it.effect("backs off exponentially with jitter, then gives up carrying the last error (maxOutage 0: fail fast)", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({ status: 503, body: errorBody("server_error", "down") }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client, { retry: { maxAttempts: 5, baseDelay: "1 second", budget: false, maxOutage: 0 } })
          )
        )
        // the fifth failure opens the circuit and maxOutage 0 gives up at once: the typed give-up, with the 503
        expect(error._tag).toBe("UnavailableError")
        if (error._tag === "UnavailableError") expect(error.lastError._tag).toBe("ServerError")
        expect(sent).toHaveLength(5)
        const gaps = sent.slice(1).map((s, i) => s.at - sent[i]!.at)
        // 1 s, 2 s, 4 s, 8 s, each jittered by ±20 % (whole seconds here, since the test moves the clock a second at a time).
        const expected = [1000, 2000, 4000, 8000]
        gaps.forEach((gap, i) => {
          expect(gap).toBeGreaterThanOrEqual(expected[i]! * 0.8 - 1000)
          expect(gap).toBeLessThanOrEqual(expected[i]! * 1.2 + 1000)
        })
        expect(gaps[3]!).toBeGreaterThan(gaps[0]!)
      }))

    it.effect("retries connection errors and timeouts, counting requests and retries", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((n) =>
          n === 1 ? "connection-error" : n === 2 ? "hang" : { status: 200, body: EMPTY_LIST }
        )
        const before = yield* Metric.value(CertCentralClient.metrics.retries)
        const program = Effect.flatMap(
          CertCentralClient.CertCentralClient,
          (cc) => Effect.zipRight(cc.listDuplicates(1), cc.stats)
        )
        const exit = yield* runWithClock(program, clientLayer(client, { timeout: "5 seconds" }))
        expect(exit).toStrictEqual(Exit.succeed({
          requests: 3,
          retries: 2,
          rateLimited: 0,
          pauses: 0,
          circuit: "closed",
          unavailableSince: undefined,
          nextProbeAt: undefined,
          outages: 0,
          outageMillis: 0,
          gaveUp: false
        }))
        expect(sent).toHaveLength(3)
        const after = yield* Metric.value(CertCentralClient.metrics.retries)
        expect(after.count - before.count).toBe(2)
      }))

    it.effect("reports a timeout as a transport error once retries are spent", () =>
      Effect.gen(function*() {
        const { client } = scripted(() => "hang")
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client, { timeout: "2 seconds", retry: { maxAttempts: 2 } })
          )
        )
        expect(error._tag).toBe("TransportError")
        if (error._tag === "TransportError") expect(error.reason).toBe("timeout")
      }))

    it.effect("honours Retry-After in seconds and as an HTTP date, clamped", () =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const date = new Date(start + 9000).toUTCString()
        const { client, sent } = scripted((n) =>
          n === 1
            ? { status: 503, body: "", headers: { "retry-after": "7" } }
            : n === 2
            ? { status: 503, body: "", headers: { "retry-after": date } }
            : n === 3
            ? { status: 503, body: "", headers: { "retry-after": "3600" } }
            : { status: 200, body: EMPTY_LIST }
        )
        const exit = yield* runWithClock(
          Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
          clientLayer(client, { retry: { baseDelay: "10 millis", maxRetryAfter: "30 seconds", budget: false } })
        )
        expect(exit).toStrictEqual(Exit.succeed([]))
        const gaps = sent.slice(1).map((s, i) => s.at - sent[i]!.at)
        expect(gaps[0]).toBeGreaterThanOrEqual(7000)
        expect(gaps[1]).toBeGreaterThanOrEqual(9000 - 7000 - 1000) // the date counts from when the 2nd reply came
        expect(gaps[2]).toBeGreaterThanOrEqual(30_000)
        expect(gaps[2]).toBeLessThan(32_000)
      }))

    it.effect("lets a caller's Schedule decide, still honouring Retry-After", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((n) =>
          n < 3 ? { status: 502, body: "<html>Bad gateway</html>", headers: { "retry-after": "4" } } : {
            status: 200,
            body: EMPTY_LIST
          }
        )
        const exit = yield* runWithClock(
          Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
          clientLayer(client, { retry: { schedule: Schedule.spaced("1 second") } })
        )
        expect(exit).toStrictEqual(Exit.succeed([]))
        expect(sent.slice(1).map((s, i) => s.at - sent[i]!.at)).toEqual([4000, 4000])

        const none = scripted(() => ({ status: 500, body: "" }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(none.client, { retry: { schedule: Schedule.stop } })
          )
        )
        expect(error._tag).toBe("ServerError")
        expect(none.sent).toHaveLength(1)
      }))

    // The old budget dropped every retry once spent (the bug of issue 13): now it opens the circuit instead.
    it.effect("a spent retry budget opens the circuit instead of dropping the retry, and starts full again", () =>
      Effect.gen(function*() {
        let healthy = false
        const { client, sent } = scripted(() => (healthy ? { status: 200, body: EMPTY_LIST } : { status: 500 }))
        const layer = clientLayer(client, {
          retry: {
            maxAttempts: 10,
            baseDelay: "10 millis",
            budget: { capacity: 10, retryCost: 5 },
            circuit: { failureThreshold: 100 }
          }
        })
        const program = Effect.gen(function*() {
          const cc = yield* CertCentralClient.CertCentralClient
          const call = yield* Effect.fork(cc.listDuplicates(1))
          // Two retries spend the budget; the third failure opens the circuit: one probe per pause, nothing else.
          yield* TestClock.adjust("100 millis")
          expect(sent).toHaveLength(3)
          const open = yield* cc.stats
          expect(open.circuit).toBe("open")
          expect(open.outages).toBe(1)
          yield* TestClock.adjust("10 seconds")
          const probes = sent.length
          expect(probes).toBeGreaterThan(3)
          expect(probes).toBeLessThanOrEqual(3 + 3) // pauses of about 1 s, 2 s, 4 s
          healthy = true
          yield* TestClock.adjust("20 seconds")
          expect(yield* Fiber.join(call)).toEqual([])
          return yield* cc.stats
        })
        const stats = yield* Effect.provide(program, layer)
        expect(stats.circuit).toBe("closed")
        expect(stats.gaveUp).toBe(false)
        expect(stats.unavailableSince).toBeUndefined()
        expect(stats.outages).toBe(1)
        expect(stats.outageMillis).toBeGreaterThan(10_000)
      }))
  })

  describe("429", () => {
    it.effect("waits out a full 3-minute window without Retry-After before giving up", () =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const { client, sent } = scripted(() => ({ status: 429, body: errorBody("request_limit_exceeded", "x") }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client)
          )
        )
        expect(error._tag).toBe("RateLimitedError")
        expect(sent).toHaveLength(15)
        // Fourteen capped, jittered backoffs add up to more than DigiCert's longest window.
        expect(sent[14]!.at - start).toBeGreaterThanOrEqual(180_000)
      }))

    it.effect("pauses every request of the client, simultaneous 429s make one pause and lower the share once", () =>
      Effect.gen(function*() {
        let limited = true
        const { client, sent } = scripted(() =>
          limited
            ? { status: 429, body: errorBody("request_limit_exceeded", "slow down"), headers: { "retry-after": "5" } }
            : { status: 200, body: EMPTY_LIST }
        )
        const limiter = yield* RollingWindowLimiter.make([{ limit: 1000, window: "3 minutes" }])
        const layer = clientLayer(client, { retry: { baseDelay: "10 millis" }, rateLimit: limiter })
        const program = Effect.gen(function*() {
          const cc = yield* CertCentralClient.CertCentralClient
          // Ten fibers hit the limit together.
          const burst = yield* Effect.fork(
            Effect.forEach(Array.from({ length: 10 }, (_, i) => i + 1), (id) => cc.listDuplicates(id), {
              concurrency: "unbounded"
            })
          )
          yield* TestClock.adjust("1 second")
          limited = false
          // A request started during the pause waits for it too.
          const late = yield* Effect.fork(cc.listDuplicates(100))
          yield* TestClock.adjust("10 seconds")
          yield* Fiber.join(burst)
          yield* Fiber.join(late)
          return yield* cc.stats
        })
        const stats = yield* Effect.provide(program, layer)
        expect(stats.rateLimited).toBe(10)
        expect(stats.pauses).toBe(1)
        // someone else uses the key: the client keeps a quarter below its limits, and wins it back over time
        expect(yield* limiter.share).toBeCloseTo(0.75 + (0.1 * 11_000) / 180_000, 6)
        const after = sent.slice(10)
        expect(after).toHaveLength(11)
        for (const s of after) expect(s.at).toBeGreaterThanOrEqual(5000)
      }))

    it.effect("after a pause, sends one probe and holds the others until it gets through", () =>
      Effect.gen(function*() {
        // The server's window stays full for 6 s and its 429s carry no Retry-After, as DigiCert's do.
        const { client, sent } = scripted(() => ({ status: 200, body: EMPTY_LIST }))
        const statuses: Array<number> = []
        const windowFull = HttpClient.make((request) =>
          Effect.gen(function*() {
            // Answers take a while, as over a network: fibers that go together are all in flight before any 429.
            yield* Effect.sleep("50 millis")
            const now = yield* Clock.currentTimeMillis
            if (now < 6000) {
              statuses.push(429)
              return HttpClientResponse.fromWeb(
                request,
                new Response(errorBody("request_limit_exceeded", "full"), { status: 429 })
              )
            }
            statuses.push(200)
            return yield* client.execute(request)
          })
        )
        const program = Effect.flatMap(CertCentralClient.CertCentralClient, (cc) =>
          Effect.zipRight(
            Effect.forEach(Array.from({ length: 10 }, (_, i) => i + 1), (id) => cc.listDuplicates(id), {
              concurrency: "unbounded"
            }),
            cc.stats
          ))
        const exit = yield* runWithClock(program, clientLayer(windowFull, { retry: { baseDelay: "500 millis" } }))
        if (Exit.isFailure(exit)) throw new Error(`unexpected failure: ${String(exit.cause)}`)
        expect(sent).toHaveLength(10)
        // The first burst of ten, then one probe per pause until the window clears: not ten 429s per pause.
        const after = statuses.slice(10)
        expect(after.filter((s) => s === 429).length).toBeLessThanOrEqual(6)
        expect(exit.value.rateLimited).toBe(statuses.filter((s) => s === 429).length)
      }))

    it.effect("gives up with RateLimitedError after the allowed attempts", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({ status: 429, body: errorBody("request_limit_exceeded", "no") }))
        const error = failureOf(
          yield* runWithClock(
            Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(1)),
            clientLayer(client, { retry: { maxAttempts: 2, maxRateLimitedAttempts: 3, baseDelay: "100 millis" } })
          )
        )
        expect(error._tag).toBe("RateLimitedError")
        expect(sent).toHaveLength(3)
        if (error._tag === "RateLimitedError") expect(error.errors[0]!.code).toBe("request_limit_exceeded")
      }))
  })

  describe("secrets", () => {
    it.effect("never shows the key in errors, the service, log lines or spans", () =>
      Effect.gen(function*() {
        const { client } = scripted((n) =>
          n === 1 ? { status: 401, body: errorBody("invalid_api_key", "bad key") } : "connection-error"
        )
        const lines: Array<string> = []
        const spans: Array<string> = []
        const capture = Logger.make((options) => {
          lines.push(Logger.logfmtLogger.log(options), Logger.jsonLogger.log(options))
        })
        const tracer = recordingTracer({
          end: (span) => void spans.push(span.name + JSON.stringify(Object.fromEntries(span.attributes))),
          event: (name, attributes) => void spans.push(name + JSON.stringify(attributes ?? {}))
        })
        const layer = Layer.mergeAll(
          clientLayer(client, { retry: { maxAttempts: 1 } }),
          Logger.replace(Logger.defaultLogger, capture),
          Logger.minimumLogLevel(LogLevel.All),
          Layer.setTracer(tracer)
        )
        const program = Effect.gen(function*() {
          const cc = yield* CertCentralClient.CertCentralClient
          const errors = [yield* Effect.flip(cc.listDuplicates(1)), yield* Effect.flip(cc.listReissues(2))]
          for (const e of errors) yield* Effect.logError("call failed", e)
          return { cc, errors }
        })
        const { cc, errors } = yield* Effect.provide(program, layer)
        expect(lines.length).toBeGreaterThanOrEqual(4)
        expect(spans.some((s) => s.startsWith("CertCentral.listDuplicates"))).toBe(true)
        expect(spans.some((s) => s.includes("http.request.header.x-dc-devkey"))).toBe(true)
        const shown = [
          ...errors.flatMap((e) => [String(e), JSON.stringify(e), Inspectable.format(e), e.message, e.stack ?? ""]),
          JSON.stringify(cc),
          String(cc),
          ...lines,
          ...spans
        ]
        for (const text of shown) expect(text).not.toContain(API_KEY)
        expect(lines.join("\n")).toContain("<redacted>")
        expect(spans.join("\n")).toContain("<redacted>")
      }))
  })

  describe("tracing", () => {
    it.effect("under an installed tracer: a span per call with its attempts, the platform's per request, no trace headers", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((n) => (n === 1 ? "connection-error" : { status: 200, body: EMPTY_LIST }))
        const ended: Array<EndedSpan> = []
        const tracer = recordingTracer({ end: (span) => void ended.push(span) })
        const fiber = yield* Effect.fork(Effect.provide(
          Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(7)),
          Layer.merge(clientLayer(client), Layer.setTracer(tracer))
        ))
        yield* TestClock.adjust("1 minute")
        expect(yield* Fiber.join(fiber)).toEqual([])
        const call = ended.find((s) => s.name === "CertCentral.listDuplicates")
        expect(call?.attributes.get("certcentral.attempts")).toBe(2)
        expect(call?.attributes.get("certcentral.order_id")).toBe(7)
        expect(call?.attributes.get("http.response.status_code")).toBe(200)
        const requests = ended.filter((s) => s.parent === "CertCentral.listDuplicates" && s.name !== call?.name)
        expect(requests).toHaveLength(2)
        expect(requests[1]!.attributes.get("http.response.status_code")).toBe(200)
        for (const { request } of sent) {
          expect(Object.keys(request.headers)).not.toContain("traceparent")
          expect(Object.keys(request.headers)).not.toContain("b3")
        }
      }))

    it.effect("under Effect's own tracer (none installed): the call works untraced and leaves the caller's span alone", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((n) => (n === 1 ? "connection-error" : { status: 200, body: EMPTY_LIST }))
        const fiber = yield* Effect.fork(Effect.provide(
          Effect.gen(function*() {
            const cc = yield* CertCentralClient.CertCentralClient
            const list = yield* cc.listDuplicates(7)
            const caller = yield* Effect.currentSpan
            return { list, caller }
          }).pipe(Effect.withSpan("caller")),
          clientLayer(client)
        ))
        yield* TestClock.adjust("1 minute")
        const { caller, list } = yield* Fiber.join(fiber)
        expect(list).toEqual([])
        expect(sent).toHaveLength(2)
        expect(caller.name).toBe("caller")
        expect([...caller.attributes.keys()]).toEqual([])
        for (const { request } of sent) expect(Object.keys(request.headers)).not.toContain("traceparent")
      }))
  })

  describe("layerConfig", () => {
    it.effect("reads the key and base URL from the environment", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({ status: 200, body: EMPTY_LIST }))
        const layer = CertCentralClient.layerConfig({ rateLimit: "off" }).pipe(
          Layer.orDie,
          Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromMap(
                new Map([["DIGICERT_API_KEY", API_KEY], ["DIGICERT_BASE_URL", "http://127.0.0.1:9/services/v2/"]])
              )
            )
          )
        )
        yield* Effect.provide(Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listDuplicates(5)), layer)
        expect(sent[0]!.url.href).toBe("http://127.0.0.1:9/services/v2/order/certificate/5/duplicate")
        expect(sent[0]!.request.headers["x-dc-devkey"]).toBe(API_KEY)

        const missing = CertCentralClient.layerConfig().pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
        )
        const exit = yield* Effect.exit(Effect.provide(CertCentralClient.CertCentralClient, missing))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(String(exit)).toMatch(/DIGICERT_API_KEY/)

        const badUrl = CertCentralClient.layerConfig().pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromMap(new Map([["DIGICERT_API_KEY", API_KEY], ["DIGICERT_BASE_URL", "ftp://x"]]))
            )
          )
        )
        const badExit = yield* Effect.exit(Effect.provide(CertCentralClient.CertCentralClient, badUrl))
        expect(String(badExit)).toMatch(/DIGICERT_BASE_URL/)
        expect(String(badExit)).not.toContain(API_KEY)
      }))
  })

  it.effect("waits for the rate limiter before sending", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted(() => ({ status: 200, body: EMPTY_LIST }))
      const program = Effect.flatMap(
        CertCentralClient.CertCentralClient,
        (cc) =>
          Effect.forEach(Array.from({ length: 7 }, (_, i) => i + 1), (id) => cc.listDuplicates(id), {
            concurrency: "unbounded"
          })
      )
      yield* runWithClock(program, clientLayer(client, { rateLimit: [{ limit: 3, window: "2 seconds" }] }))
      expect(sent.map((s) => s.at)).toEqual([0, 0, 0, 2000, 2000, 2000, 4000])
    }))
})
