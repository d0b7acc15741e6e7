import { CertCentralClient } from "@certcentral/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as AccountHistory from "../src/AccountHistory.js"
import * as Faults from "../src/Faults.js"
import * as OrderScript from "../src/OrderScript.js"
import * as Samples from "../src/Samples.js"
import * as StandIn from "../src/StandIn.js"

interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** One GET through the in-memory client, body read; `key: null` sends no key. */
const send = (path: string, key?: string | null) =>
  Effect.gen(function*() {
    const standIn = yield* StandIn.StandIn
    const client = yield* HttpClient.HttpClient
    const k = key === undefined ? standIn.apiKey : key
    const response = yield* client.get(`${standIn.baseUrl}/${path}`, {
      headers: k === null ? {} : { "x-dc-devkey": k }
    })
    const body = yield* response.text
    return { status: response.status, headers: response.headers, body } satisfies Reply
  })

const get = (path: string, key?: string | null) => Effect.orDie(send(path, key))

const errors = (body: string) => JSON.parse(body).errors as Array<{ code: string; message: string }>

const stats = Effect.flatMap(StandIn.StandIn, (s) => s.stats)

const withStandIn = (options: StandIn.Options) => Effect.provide(StandIn.layer(options))

describe("StandIn routes", () => {
  it.effect("serves the three endpoints as JSON and counts them on the Effect clock", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      expect(standIn.baseUrl).toBe("http://certcentral.test/services/v2")
      for (
        const path of ["order/certificate/42/duplicate", "order/certificate/42/reissue", "account/subaccount/order/42"]
      ) {
        const r = yield* get(path)
        expect(r.status).toBe(200)
        expect(r.headers["content-type"]).toBe("application/json")
        expect(() => JSON.parse(r.body)).not.toThrow()
        yield* TestClock.adjust("1 second")
      }
      const s = yield* stats
      expect(s.byRoute).toEqual({
        duplicates: 1,
        reissues: 1,
        subaccountOrder: 1,
        listOrders: 0,
        listSubaccountOrders: 0,
        listStatusChanges: 0,
        unknown: 0
      })
      expect(s.byStatus).toEqual({ "200": 3 })
      expect(s.keys).toEqual({ valid: 3, invalid: 0, missing: 0 })
      expect(s.requestTimes).toEqual([0, 1000, 2000])
      expect([s.inFlight, s.peakConcurrency]).toEqual([0, 1])
    }).pipe(withStandIn({ seed: 3, rateLimit: "off" })))

  it.effect("serves the documented samples byte for byte", () =>
    Effect.gen(function*() {
      const body = (path: string) => Effect.map(get(path), (r) => r.body)
      expect(yield* body(`account/subaccount/order/${Samples.pendingOrderId}`)).toBe(Samples.subaccountOrderPending)
      expect(yield* body(`account/subaccount/order/${Samples.issuedOrderId}`)).toBe(Samples.subaccountOrderIssued)
      const subSub = yield* body(`account/subaccount/order/${Samples.subSubaccountOrderId}`)
      expect(subSub).toBe(Samples.subaccountOrderSubSubaccount)
      for (const id of Samples.orderIds) {
        expect(yield* body(`order/certificate/${id}/duplicate`)).toBe(Samples.duplicates)
        expect(yield* body(`order/certificate/${id}/reissue?show_archived=true`)).toBe(Samples.reissues)
      }
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("is deterministic per seed and id", () =>
    Effect.gen(function*() {
      const body = (id: number) => Effect.map(get(`account/subaccount/order/${id}`), (r) => r.body)
      const first = yield* body(777)
      expect(yield* body(777)).toBe(first)
      expect(yield* body(778)).not.toBe(first)
      expect(yield* body(777).pipe(withStandIn({ seed: 3, rateLimit: "off" }))).toBe(first)
      expect(yield* body(777).pipe(withStandIn({ seed: 4, rateLimit: "off" }))).not.toBe(first)
    }).pipe(withStandIn({ seed: 3, rateLimit: "off" })))

  it.effect("honours show_archived and include_validation_status", () =>
    Effect.gen(function*() {
      let hidden = 0
      for (let id = 100; id < 400; id++) {
        const s = JSON.parse((yield* get(`order/certificate/${id}/duplicate?show_archived=true`)).body).certificates
        const l = JSON.parse((yield* get(`order/certificate/${id}/duplicate`)).body).certificates
        expect((l as Array<{ archived: string }>).every((c) => c.archived === "0")).toBe(true)
        hidden += s.length - l.length
      }
      expect(hidden).toBeGreaterThan(0)
      const plain = yield* get("account/subaccount/order/9")
      const validated = yield* get("account/subaccount/order/9?include_validation_status=true")
      expect(JSON.parse(plain.body)).not.toHaveProperty("subaccount_order_validations")
      const validations = JSON.parse(validated.body).subaccount_order_validations
      expect(typeof validations === "object" && validations !== null && !Array.isArray(validations)).toBe(true)
      expect(Object.keys(validations).length).toBeGreaterThan(0)
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("answers 401 invalid_api_key for a missing or wrong key and never keeps the key", () =>
    Effect.gen(function*() {
      const missing = yield* get("account/subaccount/order/5", null)
      const wrong = yield* get("account/subaccount/order/5", "s3cret-wrong")
      for (const r of [missing, wrong]) {
        expect(r.status).toBe(401)
        expect(r.headers["content-type"]).toBe("application/json")
        expect(errors(r.body)[0]!.code).toBe("invalid_api_key")
      }
      const s = yield* stats
      expect(s.keys).toEqual({ valid: 0, invalid: 1, missing: 1 })
      expect(s.byStatus).toEqual({ "401": 2 })
      expect(JSON.stringify(s)).not.toContain("s3cret-wrong")
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("answers 404 not_found|route and not_found|order", () =>
    Effect.gen(function*() {
      for (const path of ["order/certificate/5", "nope", "order/certificate/5/duplicates", "../v1/order/5"]) {
        const r = yield* get(path)
        expect(r.status).toBe(404)
        expect(errors(r.body)).toEqual([{ code: "not_found|route", message: expect.any(String) }])
      }
      for (const id of ["0", "-3", "abc", "1.5", "99999999999999999"]) {
        for (const path of [`order/certificate/${id}/duplicate`, `account/subaccount/order/${id}`]) {
          const r = yield* get(path)
          expect([r.status, r.headers["content-type"], errors(r.body)[0]!.code])
            .toEqual([404, "application/json", "not_found|order"])
        }
      }
      expect((yield* stats).byRoute.unknown).toBe(4)
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("answers scripted orders: 404 everywhere, 403 on the subaccount endpoint, any status", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.setOrder(5, OrderScript.notFound)
      yield* standIn.setOrder(6, OrderScript.missingPermission)
      yield* standIn.setOrder(7, OrderScript.answer("reissues", { status: 409, code: "conflict", retryAfter: 4 }))
      for (
        const path of ["order/certificate/5/duplicate", "order/certificate/5/reissue", "account/subaccount/order/5"]
      ) {
        const r = yield* get(path)
        expect([r.status, errors(r.body)[0]!.code]).toEqual([404, "not_found|order"])
      }
      const forbidden = yield* get("account/subaccount/order/6")
      expect([forbidden.status, errors(forbidden.body)[0]!.code]).toEqual([403, "access_denied|missing_permission"])
      expect((yield* get("order/certificate/6/duplicate")).status).toBe(200)
      const conflict = yield* get("order/certificate/7/reissue")
      expect([conflict.status, conflict.headers["retry-after"], errors(conflict.body)[0]!.code])
        .toEqual([409, "4", "conflict"])
      yield* standIn.setOrder(5, undefined)
      expect((yield* get("account/subaccount/order/5")).status).toBe(200)
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("fails a request to any other host as a refused connection", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const error = yield* Effect.flip(client.get("http://127.0.0.1:1/services/v2/order/certificate/1/duplicate"))
      expect(error).toBeInstanceOf(HttpClientError.RequestError)
      expect((error as HttpClientError.RequestError).reason).toBe("Transport")
      expect((yield* stats).requests).toBe(0)
    }).pipe(withStandIn({ rateLimit: "off" })))
})

describe("StandIn faults", () => {
  it.effect("applies a scripted queue per order and endpoint, then answers normally; resets fail the request", () =>
    Effect.gen(function*() {
      const path = "order/certificate/5/reissue"
      const first = yield* get(path)
      expect([first.status, errors(first.body)[0]!.code, first.headers["retry-after"]])
        .toEqual([503, "service_unavailable", undefined])
      // other endpoints and orders are not affected by the queue
      expect((yield* get("order/certificate/5/duplicate")).status).toBe(200)
      expect((yield* get(path)).status).toBe(503)
      const reset = yield* Effect.flip(send(path))
      expect(reset).toBeInstanceOf(HttpClientError.RequestError)
      expect((reset as HttpClientError.RequestError).reason).toBe("Transport")
      expect((yield* get(path)).status).toBe(200)
      const s = yield* stats
      expect(s.byStatus).toEqual({ "200": 2, "503": 2, reset: 1 })
      expect(s.faults).toEqual({ serverError: 2, resetBeforeBody: 1 })
      expect(s.inFlight).toBe(0)
    }).pipe(withStandIn({
      rateLimit: "off",
      script: [{
        orderId: 5,
        endpoint: "reissues",
        faults: [...Faults.times(2, Faults.serverError(503)), Faults.resetBeforeBody]
      }]
    })))

  it.effect("sends 5xx with Retry-After and HTML bodies as a proxy does", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.script({
        orderId: "*",
        faults: [
          Faults.serverError(502, { html: true }),
          Faults.serverError(500, { retryAfter: 2 }),
          Faults.serverError(504)
        ]
      })
      const html = yield* get("account/subaccount/order/11")
      expect([html.status, html.headers["content-type"]]).toEqual([502, "text/html"])
      expect(html.body).toContain("<h1>502 Bad Gateway</h1>")
      const withRetry = yield* get("account/subaccount/order/11")
      expect([withRetry.status, withRetry.headers["retry-after"]]).toEqual([500, "2"])
      expect(errors(withRetry.body)[0]!.code).toBe("internal_server_error")
      expect((yield* get("account/subaccount/order/11")).status).toBe(504)
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("resets mid-body: the headers arrive, reading the body fails after part of it", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${standIn.baseUrl}/account/subaccount/order/12`, {
        headers: { "x-dc-devkey": standIn.apiKey }
      })
      expect(response.status).toBe(200)
      const declared = Number(response.headers["content-length"])
      const parts: Array<Uint8Array> = []
      const error = yield* response.stream.pipe(
        Stream.runForEach((part) => Effect.sync(() => parts.push(part))),
        Effect.flip
      )
      expect(error).toBeInstanceOf(HttpClientError.ResponseError)
      const received = parts.reduce((n, part) => n + part.length, 0)
      expect(received).toBeGreaterThan(0)
      expect(received).toBeLessThan(declared)
      const s = yield* stats
      expect([s.byStatus, s.inFlight]).toEqual([{ reset: 1 }, 0])
    }).pipe(withStandIn({
      rateLimit: "off",
      script: [{ orderId: 12, endpoint: "subaccountOrder", faults: [Faults.resetDuringBody] }]
    })))

  it.effect("sends complete responses with truncated JSON", () =>
    Effect.gen(function*() {
      const r = yield* get("account/subaccount/order/12")
      expect(r.status).toBe(200)
      expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.body))
      expect(() => JSON.parse(r.body)).toThrow()
    }).pipe(withStandIn({ rateLimit: "off", script: [{ orderId: 12, faults: [Faults.truncatedJson] }] })))

  it.effect("delays headers and dribbles bodies on the clock, and still sends the right bytes", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const normal = yield* get("account/subaccount/order/13")
      yield* standIn.script({
        orderId: 13,
        faults: [{ kind: "slowHeaders", delayMs: 300 }, { kind: "slowBody", delayMs: 300 }]
      })
      for (let i = 0; i < 2; i++) {
        const fiber = yield* Effect.fork(get("account/subaccount/order/13"))
        yield* TestClock.adjust("250 millis")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("60 millis")
        expect((yield* Fiber.join(fiber)).body).toBe(normal.body)
      }
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("injects unknown fields and unknown status values into valid bodies", () =>
    Effect.gen(function*() {
      const path = `account/subaccount/order/${Samples.issuedOrderId}`
      const fields = JSON.parse((yield* get(path)).body)
      expect(fields).toHaveProperty("x_future_field")
      expect(fields.certificate).toHaveProperty("x_future_field")
      expect(fields.status).toBe("issued")
      expect(JSON.parse((yield* get(path)).body).status).toBe(Faults.unknownStatusValue)
      expect((yield* get(path)).body).toBe(Samples.subaccountOrderIssued)
    }).pipe(withStandIn({
      rateLimit: "off",
      script: [{ orderId: Samples.issuedOrderId, faults: [Faults.unknownFields, Faults.unknownStatus] }]
    })))

  it.effect("answers a raw status, body and content type exactly, once", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const html = "<html><body>Maintenance</body></html>"
      yield* standIn.script({ orderId: 14, endpoint: "duplicates", faults: [Faults.raw(200, html, "text/html")] })
      const r = yield* get("order/certificate/14/duplicate")
      expect([r.status, r.headers["content-type"], r.body]).toEqual([200, "text/html", html])
      yield* standIn.script({ orderId: 14, faults: [Faults.raw(418, "{\"__proto__\":{\"x\":1}}")] })
      const json = yield* get("order/certificate/14/reissue")
      expect([json.status, json.headers["content-type"], json.body])
        .toEqual([418, "application/json", "{\"__proto__\":{\"x\":1}}"])
      expect(JSON.parse((yield* get("order/certificate/14/duplicate")).body)).toHaveProperty("certificates")
      expect((yield* stats).faults.raw).toBe(2)
      // what a web Response cannot carry: no body on 204, no status below 200
      yield* standIn.script({ orderId: 14, faults: [Faults.raw(204, "ignored"), Faults.raw(102, "")] })
      expect(yield* get("order/certificate/14/reissue")).toMatchObject({ status: 204, body: "" })
      const informational = yield* Effect.flip(send("order/certificate/14/reissue"))
      expect(informational).toBeInstanceOf(HttpClientError.RequestError)
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("generates an oversized body as it is read, and stops when the reader lets go", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const client = yield* HttpClient.HttpClient
      const bytes = 3 * 1024 * 1024 + 7
      const declared = yield* get("order/certificate/15/reissue")
      expect([declared.status, declared.headers["content-length"], Buffer.byteLength(declared.body)])
        .toEqual([200, String(bytes), bytes])
      expect(declared.body.startsWith("{\"certificates\":[0,0,")).toBe(true)
      const undeclared = yield* get("order/certificate/15/reissue")
      expect(undeclared.headers["content-length"]).toBeUndefined()
      expect(undeclared.body).toBe(declared.body)
      // 2^53 bytes: only what is read is ever made
      yield* standIn.script({ orderId: 16, faults: [Faults.oversized(Number.MAX_SAFE_INTEGER)] })
      const endless = yield* client.get(`${standIn.baseUrl}/order/certificate/16/duplicate`, {
        headers: { "x-dc-devkey": standIn.apiKey }
      })
      const head = yield* endless.stream.pipe(Stream.take(40), Stream.runCollect)
      expect(Chunk.reduce(head, 0, (n, part) => n + part.length)).toBeGreaterThan(1024 * 1024)
      const s = yield* stats
      expect([s.inFlight, s.faults.oversized]).toEqual([0, 3])
      expect(JSON.parse((yield* get("order/certificate/16/duplicate")).body)).toHaveProperty("certificates")
    }).pipe(withStandIn({
      rateLimit: "off",
      script: [{
        orderId: 15,
        endpoint: "reissues",
        faults: [Faults.oversized(3 * 1024 * 1024 + 7), Faults.oversized(3 * 1024 * 1024 + 7, { declareLength: false })]
      }]
    })))

  it.effect("draws faults by probability from a seed, repeatably", () =>
    Effect.gen(function*() {
      const run = Effect.gen(function*() {
        const statuses: Array<string> = []
        for (let i = 0; i < 60; i++) {
          const r = yield* get(`order/certificate/${i + 1}/duplicate`)
          statuses.push(`${r.status}:${r.body.length}`)
        }
        return [statuses, yield* stats] as const
      }).pipe(withStandIn({
        rateLimit: "off",
        faults: { seed: 11, serverError: 0.2, truncatedJson: 0.1, unknownFields: 0.1, rateLimited: 0.1 }
      }))
      const [a, statsA] = yield* run
      const [b] = yield* run
      expect(a).toEqual(b)
      expect(statsA.faults.serverError).toBeGreaterThan(0)
      expect(statsA.rateLimited).toBe(statsA.faults.rateLimited ?? 0)
      expect(statsA.byStatus["200"]).toBeLessThan(60)
    }))

  it.effect("adds latency with jitter to every answer, on the clock", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(get("account/subaccount/order/1"))
      yield* TestClock.adjust("149 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      expect((yield* stats).inFlight).toBe(1)
      yield* TestClock.adjust("101 millis")
      expect((yield* Fiber.join(fiber)).status).toBe(200)
      expect((yield* stats).inFlight).toBe(0)
    }).pipe(withStandIn({ rateLimit: "off", latency: { meanMs: 200, jitterMs: 50 } })))

  it.effect("waits whole milliseconds, so the test clock can still tell the time in nanoseconds", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i + 1),
        (id) => Effect.zipRight(get(`order/certificate/${id}/duplicate`), Clock.currentTimeNanos)
      ))
      yield* TestClock.adjust("1 second")
      const times = yield* Fiber.join(fiber)
      expect(times.every((nanos) => nanos % 1_000_000n === 0n)).toBe(true)
      expect(new Set(times).size).toBeGreaterThan(10)
    }).pipe(withStandIn({ rateLimit: "off", latency: { meanMs: 3, jitterMs: 3 } })))

  it.effect("tracks peak concurrency", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const fiber = yield* Effect.fork(Effect.forEach(
        Array.from({ length: 6 }, (_, i) => i + 1),
        (id) => get(`account/subaccount/order/${id}`),
        { concurrency: "unbounded" }
      ))
      yield* TestClock.adjust("300 millis")
      yield* Fiber.join(fiber)
      const s = yield* stats
      expect([s.peakConcurrency, s.inFlight]).toEqual([6, 0])
      yield* standIn.resetStats
      expect((yield* stats).requests).toBe(0)
    }).pipe(withStandIn({ rateLimit: "off", latency: { meanMs: 300 } })))
})

describe("StandIn hold", () => {
  it.effect("holds requests after the first afterRequests until released, whatever the clock does", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.hold({ afterRequests: 2 })
      const fibers = yield* Effect.forEach([1, 2, 3, 4], (id) => Effect.fork(get(`account/subaccount/order/${id}`)))
      yield* TestClock.adjust("1 minute")
      const polled = yield* Effect.forEach(fibers, Fiber.poll)
      expect(polled.map(Option.isSome)).toEqual([true, true, false, false])
      const during = yield* stats
      expect([during.requests, during.held, during.inFlight]).toEqual([2, 2, 2])
      expect(during.requestTimes).toEqual([0, 0])

      yield* standIn.release
      const replies = yield* Effect.forEach(fibers, Fiber.join)
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200])
      expect(replies.map((r) => JSON.parse(r.body).id)).toEqual([1, 2, 3, 4])
      const after = yield* stats
      expect([after.requests, after.held, after.inFlight]).toEqual([4, 0, 0])
      // the held ones arrived, as far as the stand-in can tell, when they were released
      expect(after.requestTimes).toEqual([0, 0, 60_000, 60_000])
      // released: nothing is held any more
      expect((yield* get("account/subaccount/order/5")).status).toBe(200)
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("decides a held request's answer when it is released: the window it lands in is the release's", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.hold({ afterRequests: 1 })
      expect((yield* get("account/subaccount/order/1")).status).toBe(200)
      const held = yield* Effect.forEach([2, 3], (id) => Effect.fork(get(`account/subaccount/order/${id}`)))
      // the first request's slot rolls out of the window while the other two wait
      yield* TestClock.adjust("1 second")
      yield* standIn.release
      // had they been counted at their arrival, one of them would have been refused with the first
      expect((yield* Effect.forEach(held, Fiber.join)).map((r) => r.status)).toEqual([200, 200])
      expect((yield* get("account/subaccount/order/4")).status).toBe(429)
    }).pipe(withStandIn({ rateLimit: [{ limit: 2, windowMs: 1000 }] })))

  it.effect("lets an interrupted caller leave the queue; a new hold replaces the old one", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.hold()
      const gone = yield* Effect.fork(get("account/subaccount/order/1"))
      yield* TestClock.adjust("1 second")
      expect((yield* stats).held).toBe(1)
      yield* Fiber.interrupt(gone)
      const s = yield* stats
      expect([s.held, s.inFlight, s.requests]).toEqual([0, 0, 0])

      yield* standIn.hold({ afterRequests: 1 })
      expect((yield* get("account/subaccount/order/2")).status).toBe(200)
      const waiting = yield* Effect.fork(get("account/subaccount/order/3"))
      yield* TestClock.adjust("1 second")
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
      yield* standIn.release
      expect((yield* Fiber.join(waiting)).status).toBe(200)
      expect((yield* stats).requests).toBe(2)
    }).pipe(withStandIn({ rateLimit: "off" })))
})

describe("StandIn rate limits", () => {
  it.effect("answers 429 beyond the rolling window, with Retry-After when asked, and admits again as it rolls", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const statuses: Array<number> = []
      for (let i = 0; i < 8; i++) {
        const r = yield* get(`order/certificate/${i + 1}/duplicate`)
        statuses.push(r.status)
        if (r.status === 429) {
          expect(errors(r.body)[0]!.code).toBe("request_limit_exceeded")
          expect(r.headers["retry-after"]).toBe("3")
        }
        yield* TestClock.adjust("1 second")
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
      expect((yield* stats).rateLimited).toBe(3)
      // the first arrival (at 0) leaves the window at 10 s: one more is admitted, then 429 again
      yield* TestClock.adjust("2 seconds")
      expect((yield* get("account/subaccount/order/1")).status).toBe(200)
      expect((yield* get("account/subaccount/order/1")).status).toBe(429)
      yield* standIn.resetRateLimit
      expect((yield* get("account/subaccount/order/1")).status).toBe(200)
    }).pipe(withStandIn({ rateLimit: [{ limit: 5, windowMs: 10_000 }], retryAfter: 3 })))

  it.effect("sends no Retry-After by default, as DigiCert", () =>
    Effect.gen(function*() {
      yield* get("account/subaccount/order/1")
      const r = yield* get("account/subaccount/order/1")
      expect([r.status, r.headers["retry-after"]]).toEqual([429, undefined])
    }).pipe(withStandIn({ rateLimit: [{ limit: 1, windowMs: 600_000 }] })))

  it.effect("counts a second client sharing the key", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.addForeignArrivals(8)
      const statuses: Array<number> = []
      for (let i = 0; i < 4; i++) statuses.push((yield* get("account/subaccount/order/1")).status)
      expect(statuses).toEqual([200, 200, 429, 429])
      expect((yield* stats).foreign).toEqual({ admitted: 8, refused: 0 })
    }).pipe(withStandIn({ rateLimit: [{ limit: 10, windowMs: 600_000 }] })))

  it.effect("consumes budget at a steady foreign rate on the clock", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("50 millis")
      expect((yield* get("account/subaccount/order/1")).status).toBe(429)
      // arrivals at 0, 1, ... 50 ms: the first five fill the window
      expect((yield* stats).foreign).toEqual({ admitted: 5, refused: 46 })
    }).pipe(withStandIn({ rateLimit: [{ limit: 5, windowMs: 600_000 }], foreignLoad: { requestsPerSecond: 1000 } })))

  it.effect("serves 429 storms by count and by time", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const path = "account/subaccount/order/1"
      yield* standIn.rateLimitStorm({ requests: 3 })
      const statuses: Array<number> = []
      for (let i = 0; i < 4; i++) statuses.push((yield* get(path)).status)
      expect(statuses).toEqual([429, 429, 429, 200])
      yield* standIn.rateLimitStorm({ durationMs: 60_000 })
      expect((yield* get(path)).status).toBe(429)
      yield* TestClock.adjust("59999 millis")
      expect((yield* get(path)).status).toBe(429)
      yield* TestClock.adjust("1 milli")
      expect((yield* get(path)).status).toBe(200)
      expect((yield* stats).rateLimited).toBe(5)
    }).pipe(withStandIn({ rateLimit: "off" })))
})

describe("StandIn outages", () => {
  it.effect("answers 503 with and without Retry-After during the window, then normally", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.outage(Faults.outage({ atMs: 0 }, 20_000, { kind: "unavailable", retryAfter: 3 }))
      const during = yield* get("order/certificate/1/duplicate")
      expect([during.status, during.headers["retry-after"]]).toEqual([503, "3"])
      expect(JSON.parse(during.body)).toEqual({
        errors: [{ code: "service_unavailable", message: "The service is temporarily unavailable." }]
      })
      yield* TestClock.adjust("19999 millis")
      expect((yield* get("order/certificate/1/duplicate")).status).toBe(503)
      yield* TestClock.adjust("1 milli")
      expect((yield* get("order/certificate/1/duplicate")).status).toBe(200)
      yield* standIn.outage(Faults.outage({ atMs: 1000 }, 400, { kind: "unavailable" }))
      expect((yield* get("order/certificate/1/duplicate")).status).toBe(200)
      yield* TestClock.adjust("1 second")
      const plain = yield* get("order/certificate/1/duplicate")
      expect([plain.status, plain.headers["retry-after"]]).toEqual([503, undefined])
      expect((yield* stats).outage).toBe(3)
    }).pipe(withStandIn({ rateLimit: "off" })))

  it.effect("answers 502 with a proxy's HTML page, without checking the key", () =>
    Effect.gen(function*() {
      const r = yield* get("order/certificate/1/duplicate", null)
      expect([r.status, r.headers["content-type"]]).toEqual([502, "text/html"])
      expect(r.body).toContain("502 Bad Gateway")
    }).pipe(withStandIn({ outages: [Faults.outage({ atMs: 0 }, 60_000, { kind: "badGateway" })] })))

  it.effect("resets, then refuses, from a request number on, one phase after the other, as transport failures", () =>
    Effect.gen(function*() {
      const outcome = Effect.map(
        Effect.either(send("order/certificate/1/duplicate")),
        Either.match({
          onLeft: (error) => error._tag === "RequestError" ? error.reason : error._tag,
          onRight: (r) => r.status
        })
      )
      expect([yield* outcome, yield* outcome, yield* outcome]).toEqual([200, 200, "Transport"])
      yield* TestClock.adjust("300 millis")
      expect(yield* outcome).toBe("Transport")
      yield* TestClock.adjust("399 millis")
      expect(yield* outcome).toBe("Transport")
      yield* TestClock.adjust("1 milli")
      expect(yield* outcome).toBe(200)
      const s = yield* stats
      expect([s.byStatus.reset, s.outage]).toEqual([3, 3])
    }).pipe(withStandIn({
      rateLimit: "off",
      outages: [{
        start: { atRequest: 3 },
        phases: [{ durationMs: 300, answer: { kind: "reset" } }, { durationMs: 400, answer: { kind: "refused" } }]
      }]
    })))

  it.effect("leaves requests unanswered until the phase ends, past the client's timeout", () =>
    Effect.gen(function*() {
      const timedOut = yield* Effect.fork(Effect.timeout(get("order/certificate/1/duplicate"), "300 millis"))
      const waiting = yield* Effect.fork(Effect.either(send("order/certificate/1/duplicate")))
      yield* TestClock.adjust("300 millis")
      expect(Either.isLeft(yield* Effect.either(Fiber.join(timedOut)))).toBe(true)
      yield* TestClock.adjust("59 seconds")
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
      yield* TestClock.adjust("700 millis")
      const ended = yield* Fiber.join(waiting)
      expect(Either.isLeft(ended) && ended.left._tag).toBe("RequestError")
      const s = yield* stats
      expect([s.byStatus.hang, s.inFlight]).toEqual([2, 0])
    }).pipe(withStandIn({ outages: [Faults.outage({ atMs: 0 }, 60_000, { kind: "hang" })] })))

  it.effect("lets core's client ride out a 20 s outage moved by TestClock", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.outage(Faults.outage({ atMs: 0 }, 20_000, { kind: "unavailable" }))
      const certcentral = yield* CertCentralClient.CertCentralClient
      const fiber = yield* Effect.fork(certcentral.getSubaccountOrder(Samples.issuedOrderId))
      for (let i = 0; i < 60 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust("1 second")
      const order = yield* Fiber.join(fiber)
      expect(order.id).toBe(Samples.issuedOrderId)
      const s = yield* stats
      expect(s.outage).toBeGreaterThan(1)
      expect(s.byStatus["200"]).toBe(1)
      expect(s.requestTimes.at(-1)).toBeGreaterThanOrEqual(20_000)
    }).pipe(
      Effect.provide(
        CertCentralClient.layer({ apiKey: Redacted.make("test-api-key"), baseUrl: StandIn.baseUrl }).pipe(
          Layer.provideMerge(StandIn.layer({ rateLimit: "off" }))
        )
      )
    ))
})

describe("StandIn account listing", () => {
  it.effect("serves both list endpoints over the configured account, counts them, adds orders, and rate-limits them", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      const list = (path: string) => Effect.map(get(path), (r) => ({ status: r.status, json: JSON.parse(r.body) }))
      const first = yield* list("order/certificate?sort=id&offset=1000&limit=1000")
      expect(first.status).toBe(200)
      expect(first.json.page).toEqual({ total: 1001, limit: 1000, offset: 1000 })
      yield* standIn.addOrders([5])
      expect((yield* standIn.orderIds)[0]).toBe(5)
      const sub = yield* list("account/subaccount/order?limit=1")
      expect([sub.json.orders[0].id, sub.json.page.total]).toEqual([5, 1002])
      expect((yield* list("order/certificate?filters[nope]=1")).status).toBe(429)
      expect((yield* stats).byRoute).toMatchObject({ listOrders: 2, listSubaccountOrders: 1 })
      yield* TestClock.adjust("60 seconds")
      yield* standIn.script({ orderId: "*", endpoint: "listOrders", faults: [Faults.serverError(503)] })
      expect((yield* list("order/certificate")).status).toBe(503)
      const rejected = yield* list("order/certificate?filters[nope]=1")
      expect([rejected.status, rejected.json.errors[0].code]).toEqual([400, "invalid_filter"])
      expect(Exit.isFailure(yield* Effect.exit(standIn.addOrders([0])))).toBe(true)
    }).pipe(withStandIn({ rateLimit: [{ limit: 2, windowMs: 60_000 }], account: 1001 })))
})

describe("StandIn with a history", () => {
  const history = AccountHistory.make(5, [1001, 1002, 1003], [
    { _tag: "Revoked", orderId: 1002, at: 60_000 },
    { _tag: "Placed", orderId: 1004, at: 120_000 },
    { _tag: "Removed", orderId: 1001, at: 120_000 }
  ])
  const listed = (body: string) => (JSON.parse(body).orders as Array<{ id: number }>).map((o) => o.id)

  it.effect("answers the listings, the orders and the status change list as of the clock", () =>
    Effect.gen(function*() {
      expect(listed((yield* get("order/certificate")).body)).toEqual([1001, 1002, 1003])
      expect((yield* get("order/certificate/status-changes?minutes=10")).body).toBe("{\"orders\":[]}")
      yield* TestClock.adjust("3 minutes")
      expect(listed((yield* get("order/certificate")).body)).toEqual([1002, 1003, 1004])
      expect(JSON.parse((yield* get("account/subaccount/order/1002")).body).status).toBe("revoked")
      expect((yield* get("account/subaccount/order/1001")).status).toBe(404)
      const changes = JSON.parse((yield* get("order/certificate/status-changes?minutes=10")).body).orders as Array<
        { order_id: number; status: string }
      >
      expect(changes.map((c) => [c.order_id, c.status])).toEqual([[1002, "revoked"], [1004, expect.any(String)]])
      expect((yield* stats).byRoute).toMatchObject({ listOrders: 2, listStatusChanges: 2, subaccountOrder: 2 })
    }).pipe(withStandIn({ history, rateLimit: "off" })))

  it.effect("scripts faults on the status change list and checks the key there as everywhere", () =>
    Effect.gen(function*() {
      const standIn = yield* StandIn.StandIn
      yield* standIn.script({ orderId: "*", endpoint: "listStatusChanges", faults: [Faults.serverError(503)] })
      expect((yield* get("order/certificate/status-changes?minutes=10")).status).toBe(503)
      expect((yield* get("order/certificate/status-changes?minutes=10")).status).toBe(200)
      expect((yield* get("order/certificate/status-changes?minutes=10", "wrong")).status).toBe(401)
      expect((yield* get("order/certificate/status-changes?days=3")).status).toBe(400)
    }).pipe(withStandIn({ history, rateLimit: "off" })))

  it.effect("without a history the status change list is a 400, not an order", () =>
    Effect.gen(function*() {
      const r = yield* get("order/certificate/status-changes?minutes=10")
      expect(r.status).toBe(400)
      expect((yield* stats).byRoute.listStatusChanges).toBe(1)
      expect((yield* stats).byRoute.subaccountOrder).toBe(0)
    }).pipe(withStandIn({ rateLimit: "off" })))
})
