import { describe, expect, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Http from "node:http"
import * as Faults from "../src/Faults.js"
import * as OrderScript from "../src/OrderScript.js"
import * as Samples from "../src/Samples.js"
import * as TestServer from "../src/TestServer.js"

interface Reply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** GET over node:http so resets and short bodies are observable: resolves a reply or an error string. */
const get = (url: string, key?: string): Promise<Reply | { readonly error: string; readonly partial?: string }> =>
  new Promise((resolve) => {
    const request = Http.get(url, { headers: key === undefined ? {} : { "X-DC-DEVKEY": key }, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on(
        "end",
        () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() })
      )
      res.on("error", (e) => resolve({ error: e.message, partial: Buffer.concat(chunks).toString() }))
      res.on("aborted", () => resolve({ error: "aborted", partial: Buffer.concat(chunks).toString() }))
    })
    request.on("error", (e) => resolve({ error: e.message }))
  })

const reply = async (url: string, key?: string): Promise<Reply> => {
  const r = await get(url, key)
  if ("error" in r) throw new Error(`unexpected ${r.error}`)
  return r
}

const errors = (body: string) => JSON.parse(body).errors as Array<{ code: string; message: string }>

layer(TestServer.layer({ seed: 3, rateLimit: "off" }))("TestServer (Effect layer)", (it) => {
  it.effect("serves the three endpoints as JSON", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.TestServer
      yield* server.resetStats
      expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\/v2$/)
      for (
        const path of ["order/certificate/42/duplicate", "order/certificate/42/reissue", "account/subaccount/order/42"]
      ) {
        const r = yield* Effect.promise(() => reply(`${server.baseUrl}/${path}`, server.apiKey))
        expect(r.status).toBe(200)
        expect(r.headers["content-type"]).toBe("application/json")
        expect(() => JSON.parse(r.body)).not.toThrow()
      }
      const stats = yield* server.stats
      expect(stats.byRoute).toEqual({
        duplicates: 1,
        reissues: 1,
        subaccountOrder: 1,
        listOrders: 0,
        listSubaccountOrders: 0,
        unknown: 0
      })
      expect(stats.byStatus).toEqual({ "200": 3 })
      expect(stats.keys).toEqual({ valid: 3, invalid: 0, missing: 0 })
      expect(stats.requestTimes.length).toBe(3)
    }))

  it.effect("serves the documented samples byte for byte", () =>
    Effect.gen(function*() {
      const { apiKey, baseUrl } = yield* TestServer.TestServer
      const body = (path: string) => Effect.promise(() => reply(`${baseUrl}/${path}`, apiKey).then((r) => r.body))
      expect(yield* body(`account/subaccount/order/${Samples.pendingOrderId}`)).toBe(Samples.subaccountOrderPending)
      expect(yield* body(`account/subaccount/order/${Samples.issuedOrderId}`)).toBe(Samples.subaccountOrderIssued)
      const subSub = yield* body(`account/subaccount/order/${Samples.subSubaccountOrderId}`)
      expect(subSub).toBe(Samples.subaccountOrderSubSubaccount)
      expect(subSub).toContain("\"name_id\": \"ssl_plus\"")
      for (const id of Samples.orderIds) {
        const duplicates = yield* body(`order/certificate/${id}/duplicate`)
        expect(duplicates).toBe(Samples.duplicates)
        expect(duplicates).toContain("\"firstname\": \"Jill\"")
        const reissues = yield* body(`order/certificate/${id}/reissue?show_archived=true`)
        expect(reissues).toBe(Samples.reissues)
        expect(reissues).toContain("\"purchased_wildcard_names\":\"1\"")
      }
    }))

  it.effect("is deterministic per seed and id", () =>
    Effect.gen(function*() {
      const { apiKey, baseUrl } = yield* TestServer.TestServer
      const body = (id: number) =>
        Effect.promise(() => reply(`${baseUrl}/account/subaccount/order/${id}`, apiKey).then((r) => r.body))
      expect(yield* body(777)).toBe(yield* body(777))
      expect(yield* body(777)).not.toBe(yield* body(778))
      const other = yield* Effect.acquireRelease(
        Effect.promise(() => TestServer.start({ seed: 3, rateLimit: "off" })),
        (h) => Effect.promise(h.close)
      )
      const again = yield* Effect.promise(() => reply(`${other.baseUrl}/account/subaccount/order/777`, apiKey))
      expect(again.body).toBe(yield* body(777))
    }).pipe(Effect.scoped))

  it.effect("honours show_archived and include_validation_status", () =>
    Effect.gen(function*() {
      const { apiKey, baseUrl } = yield* TestServer.TestServer
      let hidden = 0
      for (let id = 100; id < 400; id++) {
        const shown = yield* Effect.promise(() =>
          reply(`${baseUrl}/order/certificate/${id}/duplicate?show_archived=true`, apiKey)
        )
        const listed = yield* Effect.promise(() => reply(`${baseUrl}/order/certificate/${id}/duplicate`, apiKey))
        const s = JSON.parse(shown.body).certificates as Array<any>
        const l = JSON.parse(listed.body).certificates as Array<any>
        expect(l.every((c) => c.archived === "0")).toBe(true)
        hidden += s.length - l.length
      }
      expect(hidden).toBeGreaterThan(0)
      const plain = yield* Effect.promise(() => reply(`${baseUrl}/account/subaccount/order/9`, apiKey))
      const validated = yield* Effect.promise(() =>
        reply(`${baseUrl}/account/subaccount/order/9?include_validation_status=true`, apiKey)
      )
      expect(JSON.parse(plain.body)).not.toHaveProperty("subaccount_order_validations")
      const validations = JSON.parse(validated.body).subaccount_order_validations
      expect(typeof validations === "object" && validations !== null && !Array.isArray(validations)).toBe(true)
      expect(Object.keys(validations).length).toBeGreaterThan(0)
    }))

  it.effect("answers 401 invalid_api_key for a missing or wrong key and never keeps the key", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.TestServer
      yield* server.resetStats
      const missing = yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/5`))
      const wrong = yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/5`, "s3cret-wrong"))
      for (const r of [missing, wrong]) {
        expect(r.status).toBe(401)
        expect(r.headers["content-type"]).toBe("application/json")
        expect(errors(r.body)[0].code).toBe("invalid_api_key")
      }
      const stats = yield* server.stats
      expect(stats.keys).toEqual({ valid: 0, invalid: 1, missing: 1 })
      expect(stats.byStatus).toEqual({ "401": 2 })
      expect(JSON.stringify(stats)).not.toContain("s3cret-wrong")
    }))

  it.effect("answers 404 not_found|route and not_found|order", () =>
    Effect.gen(function*() {
      const { apiKey, baseUrl } = yield* TestServer.TestServer
      for (const path of ["order/certificate/5", "nope", "order/certificate/5/duplicates", "../v1/order/5"]) {
        const r = yield* Effect.promise(() => reply(`${baseUrl}/${path}`, apiKey))
        expect(r.status).toBe(404)
        expect(errors(r.body)).toEqual([{ code: "not_found|route", message: expect.any(String) }])
      }
      for (const id of ["0", "-3", "abc", "1.5", "99999999999999999"]) {
        for (const path of [`order/certificate/${id}/duplicate`, `account/subaccount/order/${id}`]) {
          const r = yield* Effect.promise(() => reply(`${baseUrl}/${path}`, apiKey))
          expect(r.status).toBe(404)
          expect(r.headers["content-type"]).toBe("application/json")
          expect(errors(r.body)[0].code).toBe("not_found|order")
        }
      }
    }))

  it.effect("answers scripted orders: 404 everywhere, 403 on the subaccount endpoint, any status", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.TestServer
      yield* server.setOrder(5, OrderScript.notFound)
      yield* server.setOrder(6, OrderScript.missingPermission)
      yield* server.setOrder(7, OrderScript.answer("reissues", { status: 409, code: "conflict", retryAfter: 4 }))
      const status = (path: string) => Effect.promise(() => reply(`${server.baseUrl}/${path}`, server.apiKey))
      for (
        const path of ["order/certificate/5/duplicate", "order/certificate/5/reissue", "account/subaccount/order/5"]
      ) {
        const r = yield* status(path)
        expect([r.status, errors(r.body)[0].code]).toEqual([404, "not_found|order"])
      }
      const forbidden = yield* status("account/subaccount/order/6")
      expect([forbidden.status, errors(forbidden.body)[0].code]).toEqual([403, "access_denied|missing_permission"])
      expect((yield* status("order/certificate/6/duplicate")).status).toBe(200)
      const conflict = yield* status("order/certificate/7/reissue")
      expect([conflict.status, conflict.headers["retry-after"], errors(conflict.body)[0].code]).toEqual([
        409,
        "4",
        "conflict"
      ])
      yield* server.setOrder(5, undefined)
      expect((yield* status("account/subaccount/order/5")).status).toBe(200)
    }))
})

describe("TestServer faults", () => {
  it.scoped("applies a scripted queue per order and endpoint, then answers normally", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({
        rateLimit: "off",
        script: [{
          orderId: 5,
          endpoint: "reissues",
          faults: [...Faults.times(2, Faults.serverError(503)), Faults.resetBeforeBody]
        }]
      })
      const url = `${server.baseUrl}/order/certificate/5/reissue`
      const first = yield* Effect.promise(() => reply(url, server.apiKey))
      expect([first.status, errors(first.body)[0].code]).toEqual([503, "service_unavailable"])
      expect(first.headers["retry-after"]).toBeUndefined()
      // other endpoints and orders are not affected by the queue
      expect(
        (yield* Effect.promise(() => reply(`${server.baseUrl}/order/certificate/5/duplicate`, server.apiKey))).status
      )
        .toBe(200)
      expect((yield* Effect.promise(() => reply(url, server.apiKey))).status).toBe(503)
      const reset = yield* Effect.promise(() => get(url, server.apiKey))
      expect(reset).toHaveProperty("error")
      expect((yield* Effect.promise(() => reply(url, server.apiKey))).status).toBe(200)
      const stats = yield* server.stats
      expect(stats.byStatus).toEqual({ "200": 2, "503": 2, reset: 1 })
      expect(stats.faults).toEqual({ serverError: 2, resetBeforeBody: 1 })
    }))

  it.scoped("sends 5xx with Retry-After and HTML bodies as a proxy does", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      yield* server.script({
        orderId: "*",
        faults: [
          Faults.serverError(502, { html: true }),
          Faults.serverError(500, { retryAfter: 2 }),
          Faults.serverError(504)
        ]
      })
      const url = `${server.baseUrl}/account/subaccount/order/11`
      const html = yield* Effect.promise(() => reply(url, server.apiKey))
      expect(html.status).toBe(502)
      expect(html.headers["content-type"]).toBe("text/html")
      expect(html.body).toContain("<h1>502 Bad Gateway</h1>")
      const withRetry = yield* Effect.promise(() => reply(url, server.apiKey))
      expect([withRetry.status, withRetry.headers["retry-after"]]).toEqual([500, "2"])
      expect(errors(withRetry.body)[0].code).toBeTypeOf("string")
      expect((yield* Effect.promise(() => reply(url, server.apiKey))).status).toBe(504)
    }))

  it.scoped("resets mid-body with a Content-Length larger than what was sent", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      yield* server.script({ orderId: 12, endpoint: "subaccountOrder", faults: [Faults.resetDuringBody] })
      const r = yield* Effect.promise(() => get(`${server.baseUrl}/account/subaccount/order/12`, server.apiKey))
      expect(r).toHaveProperty("error")
      const partial = (r as { partial?: string }).partial ?? ""
      expect(partial.length).toBeGreaterThan(0)
      expect(() => JSON.parse(partial)).toThrow()
    }))

  it.scoped("sends complete responses with truncated JSON", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      yield* server.script({ orderId: 12, faults: [Faults.truncatedJson] })
      const r = yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/12`, server.apiKey))
      expect(r.status).toBe(200)
      expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.body))
      expect(() => JSON.parse(r.body)).toThrow()
    }))

  it.scoped("delays headers and dribbles bodies, and still sends the right bytes", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      const url = `${server.baseUrl}/account/subaccount/order/13`
      const normal = yield* Effect.promise(() => reply(url, server.apiKey))
      yield* server.script({
        orderId: 13,
        faults: [{ kind: "slowHeaders", delayMs: 300 }, { kind: "slowBody", delayMs: 300 }]
      })
      for (let i = 0; i < 2; i++) {
        const started = Date.now()
        const r = yield* Effect.promise(() => reply(url, server.apiKey))
        expect(r.body).toBe(normal.body)
        // lower bound only: a slow machine may take longer, never shorter
        expect(Date.now() - started).toBeGreaterThanOrEqual(250)
      }
    }))

  it.scoped("injects unknown fields and unknown status values into valid bodies", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      yield* server.script({ orderId: Samples.issuedOrderId, faults: [Faults.unknownFields, Faults.unknownStatus] })
      const url = `${server.baseUrl}/account/subaccount/order/${Samples.issuedOrderId}`
      const fields = JSON.parse((yield* Effect.promise(() => reply(url, server.apiKey))).body)
      expect(fields).toHaveProperty("x_future_field")
      expect(fields.certificate).toHaveProperty("x_future_field")
      expect(fields.status).toBe("issued")
      const status = JSON.parse((yield* Effect.promise(() => reply(url, server.apiKey))).body)
      expect(status.status).toBe(Faults.unknownStatusValue)
      const back = yield* Effect.promise(() => reply(url, server.apiKey))
      expect(back.body).toBe(Samples.subaccountOrderIssued)
    }))

  it.scoped("answers a raw status, body and content type exactly, once", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      const html = "<html><body>Maintenance</body></html>"
      yield* server.script({ orderId: 14, endpoint: "duplicates", faults: [Faults.raw(200, html, "text/html")] })
      const url = `${server.baseUrl}/order/certificate/14/duplicate`
      const r = yield* Effect.promise(() => reply(url, server.apiKey))
      expect([r.status, r.headers["content-type"], r.body]).toEqual([200, "text/html", html])
      expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(html))
      yield* server.script({ orderId: 14, faults: [Faults.raw(418, "{\"__proto__\":{\"x\":1}}")] })
      const json = yield* Effect.promise(() => reply(`${server.baseUrl}/order/certificate/14/reissue`, server.apiKey))
      expect([json.status, json.headers["content-type"], json.body]).toEqual([
        418,
        "application/json",
        "{\"__proto__\":{\"x\":1}}"
      ])
      expect(JSON.parse((yield* Effect.promise(() => reply(url, server.apiKey))).body)).toHaveProperty("certificates")
      expect((yield* server.stats).faults.raw).toBe(2)
    }))

  it.scoped("generates an oversized body as it sends it, with or without a Content-Length", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      const bytes = 3 * 1024 * 1024 + 7
      yield* server.script({
        orderId: 15,
        endpoint: "reissues",
        faults: [Faults.oversized(bytes), Faults.oversized(bytes, { declareLength: false })]
      })
      const url = `${server.baseUrl}/order/certificate/15/reissue`
      const declared = yield* Effect.promise(() => reply(url, server.apiKey))
      expect(declared.status).toBe(200)
      expect(declared.headers["content-length"]).toBe(String(bytes))
      expect(Buffer.byteLength(declared.body)).toBe(bytes)
      expect(declared.body.startsWith("{\"certificates\":[0,0,")).toBe(true)
      const chunked = yield* Effect.promise(() => reply(url, server.apiKey))
      expect(chunked.headers["content-length"]).toBeUndefined()
      expect(chunked.headers["transfer-encoding"]).toBe("chunked")
      expect(chunked.body).toBe(declared.body)
      expect(() => Faults.oversized(0)).toThrow(RangeError)
    }))

  it.scoped("with chunked, sends the same answers without a Content-Length; length faults keep theirs", () =>
    Effect.gen(function*() {
      const lengthServer = yield* TestServer.make({ rateLimit: "off", orders: { 21: OrderScript.notFound } })
      const chunkedServer = yield* TestServer.make({
        rateLimit: "off",
        orders: { 21: OrderScript.notFound },
        chunked: true
      })
      const paths = [
        "order/certificate/20/duplicate",
        "order/certificate/20/reissue",
        `account/subaccount/order/${Samples.issuedOrderId}`,
        "account/subaccount/order/21",
        "no/such/route"
      ]
      for (const [path, key] of [...paths.map((p) => [p, "ok"] as const), [paths[0]!, "wrong"] as const]) {
        const fromLength = yield* Effect.promise(() =>
          reply(`${lengthServer.baseUrl}/${path}`, key === "ok" ? lengthServer.apiKey : key)
        )
        const fromChunked = yield* Effect.promise(() =>
          reply(`${chunkedServer.baseUrl}/${path}`, key === "ok" ? chunkedServer.apiKey : key)
        )
        expect(fromLength.headers["content-length"]).toBe(String(Buffer.byteLength(fromLength.body)))
        expect([fromChunked.headers["content-length"], fromChunked.headers["transfer-encoding"]]).toEqual([
          undefined,
          "chunked"
        ])
        expect([fromChunked.status, fromChunked.headers["content-type"], fromChunked.body]).toEqual([
          fromLength.status,
          fromLength.headers["content-type"],
          fromLength.body
        ])
      }
      yield* chunkedServer.script({
        orderId: 22,
        faults: [Faults.serverError(503, { retryAfter: 4 }), Faults.truncatedJson]
      })
      const url = `${chunkedServer.baseUrl}/account/subaccount/order/22`
      const unavailable = yield* Effect.promise(() => reply(url, chunkedServer.apiKey))
      expect([unavailable.status, unavailable.headers["retry-after"], unavailable.headers["transfer-encoding"]])
        .toEqual([503, "4", "chunked"])
      const truncated = yield* Effect.promise(() => reply(url, chunkedServer.apiKey))
      expect(Number(truncated.headers["content-length"])).toBe(Buffer.byteLength(truncated.body))
      expect(() => JSON.parse(truncated.body)).toThrow()
    }))

  it.scopedLive("stops an endless oversized body when the client hangs up and goes on serving", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      yield* server.script({ orderId: 16, faults: [Faults.oversized(Number.MAX_SAFE_INTEGER)] })
      const received = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          let seen = 0
          const request = Http.get(
            `${server.baseUrl}/order/certificate/16/duplicate`,
            { headers: { "X-DC-DEVKEY": server.apiKey }, agent: false },
            (res) => {
              res.on("data", (c: Buffer) => {
                seen += c.length
                if (seen > 1024 * 1024) request.destroy()
              })
              res.on("close", () => resolve(seen))
            }
          )
          request.on("error", () => resolve(seen))
        })
      )
      expect(received).toBeGreaterThan(1024 * 1024)
      // the server notices the hang-up and the request leaves its in-flight count
      yield* server.stats.pipe(
        Effect.repeat({ until: (stats) => stats.inFlight === 0, schedule: Schedule.spaced("10 millis") }),
        Effect.timeout("20 seconds")
      )
      const stats = yield* server.stats
      expect(stats.inFlight).toBe(0)
      expect(stats.faults.oversized).toBe(1)
      // and goes on serving: a body of 2^53 bytes did not tie it up
      const next = yield* Effect.promise(() => reply(`${server.baseUrl}/order/certificate/16/duplicate`, server.apiKey))
      expect(JSON.parse(next.body)).toHaveProperty("certificates")
    }))

  it.scoped("draws faults by probability from a seed, repeatably", () =>
    Effect.gen(function*() {
      const run = Effect.gen(function*() {
        const server = yield* TestServer.make({
          rateLimit: "off",
          faults: { seed: 11, serverError: 0.2, truncatedJson: 0.1, unknownFields: 0.1, rateLimited: 0.1 }
        })
        const statuses: Array<string> = []
        for (let i = 0; i < 60; i++) {
          const r = yield* Effect.promise(() =>
            reply(`${server.baseUrl}/order/certificate/${i + 1}/duplicate`, server.apiKey)
          )
          statuses.push(`${r.status}:${r.body.length}`)
        }
        return [statuses, yield* server.stats] as const
      }).pipe(Effect.scoped)
      const [a, statsA] = yield* run
      const [b] = yield* run
      expect(a).toEqual(b)
      expect(statsA.faults.serverError).toBeGreaterThan(0)
      expect(statsA.rateLimited).toBe(statsA.faults.rateLimited ?? 0)
      expect(statsA.byStatus["200"]).toBeLessThan(60)
    }))

  it.scoped("adds latency with jitter to every answer", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off", latency: { meanMs: 200, jitterMs: 50 } })
      const started = Date.now()
      const r = yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/1`, server.apiKey))
      expect(r.status).toBe(200)
      expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    }))
})

describe("TestServer rate limits", () => {
  it.scoped("answers 429 request_limit_exceeded beyond the rolling window, with Retry-After when asked", () =>
    Effect.gen(function*() {
      // a window far longer than the test, so timing cannot matter
      const server = yield* TestServer.make({ rateLimit: [{ limit: 5, windowMs: 600_000 }], retryAfter: 3 })
      const results = []
      for (let i = 0; i < 8; i++) {
        results.push(
          yield* Effect.promise(() => reply(`${server.baseUrl}/order/certificate/${i + 1}/duplicate`, server.apiKey))
        )
      }
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
      expect(errors(results[5].body)[0].code).toBe("request_limit_exceeded")
      expect(results[5].headers["retry-after"]).toBe("3")
      expect((yield* server.stats).rateLimited).toBe(3)
      yield* server.resetRateLimit
      expect((yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/1`, server.apiKey))).status)
        .toBe(200)
    }))

  it.scoped("sends no Retry-After by default, as DigiCert", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: [{ limit: 1, windowMs: 600_000 }] })
      yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/1`, server.apiKey))
      const r = yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/1`, server.apiKey))
      expect(r.status).toBe(429)
      expect(r.headers["retry-after"]).toBeUndefined()
    }))

  it.scoped("counts a second client sharing the key", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: [{ limit: 10, windowMs: 600_000 }] })
      yield* server.addForeignArrivals(8)
      const statuses = []
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/1`, server.apiKey))).status
        )
      }
      expect(statuses).toEqual([200, 200, 429, 429])
      expect((yield* server.stats).foreign).toEqual({ admitted: 8, refused: 0 })
    }))

  it.scoped("consumes budget at a steady foreign rate", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({
        rateLimit: [{ limit: 5, windowMs: 600_000 }],
        foreignLoad: { requestsPerSecond: 1000 }
      })
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      const r = yield* Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/1`, server.apiKey))
      expect(r.status).toBe(429)
      expect((yield* server.stats).foreign.admitted).toBe(5)
    }))

  it.scoped("serves 429 storms by count and by time", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      const url = `${server.baseUrl}/account/subaccount/order/1`
      yield* server.rateLimitStorm({ requests: 3 })
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((yield* Effect.promise(() => reply(url, server.apiKey))).status)
      expect(statuses).toEqual([429, 429, 429, 200])
      yield* server.rateLimitStorm({ durationMs: 60_000 })
      expect((yield* Effect.promise(() => reply(url, server.apiKey))).status).toBe(429)
      yield* server.rateLimitStorm({ durationMs: 0 })
      expect((yield* Effect.promise(() => reply(url, server.apiKey))).status).toBe(200)
      expect((yield* server.stats).rateLimited).toBe(4)
    }))

  it.scoped("tracks peak concurrency", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off", latency: { meanMs: 300 } })
      yield* Effect.forEach(
        Array.from({ length: 6 }, (_, i) => i + 1),
        (id) => Effect.promise(() => reply(`${server.baseUrl}/account/subaccount/order/${id}`, server.apiKey)),
        { concurrency: "unbounded" }
      )
      const stats = yield* server.stats
      expect(stats.peakConcurrency).toBeGreaterThanOrEqual(2)
      expect(stats.peakConcurrency).toBeLessThanOrEqual(6)
      yield* server.resetStats
      expect((yield* server.stats).requests).toBe(0)
    }))
})

describe("TestServer.start", () => {
  it("runs for plain code and closes", async () => {
    const handle = await TestServer.start({ apiKey: "k", rateLimit: "off" })
    const r = await fetch(`${handle.baseUrl}/account/subaccount/order/${Samples.issuedOrderId}`, {
      headers: { "X-DC-DEVKEY": "k" }
    })
    expect(r.headers.get("content-type")).toBe("application/json")
    expect(await r.text()).toBe(Samples.subaccountOrderIssued)
    expect(handle.stats().keys.valid).toBe(1)
    await handle.close()
    await expect(fetch(`${handle.baseUrl}/account/subaccount/order/1`)).rejects.toThrow()
  })
})
