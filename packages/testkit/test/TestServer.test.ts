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
        listStatusChanges: 0,
        unknown: 0
      })
      expect(stats.byStatus).toEqual({ "200": 3 })
      expect(stats.keys).toEqual({ valid: 3, invalid: 0, missing: 0 })
      expect(stats.requestTimes.length).toBe(3)
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
})

describe("TestServer on the live clock", () => {
  it.scoped("runs the handler on the live clock whatever clock the caller has: latency, storms, request times", () =>
    Effect.gen(function*() {
      // it.scoped runs under TestClock, frozen at 0: a server on that clock would never answer nor see a storm
      const server = yield* TestServer.make({ rateLimit: "off", latency: { meanMs: 200, jitterMs: 50 } })
      const url = `${server.baseUrl}/account/subaccount/order/1`
      const started = Date.now()
      expect((yield* Effect.promise(() => reply(url, server.apiKey))).status).toBe(200)
      // lower bound only: a slow machine may take longer, never shorter
      expect(Date.now() - started).toBeGreaterThanOrEqual(140)
      yield* server.rateLimitStorm({ durationMs: 60_000 })
      expect((yield* Effect.promise(() => reply(url, server.apiKey))).status).toBe(429)
      const stats = yield* server.stats
      // milliseconds since the epoch, not the TestClock's 0
      expect(Math.abs(stats.requestTimes[0]! - started)).toBeLessThan(60_000)
      expect(stats.byStatus).toEqual({ "200": 1, "429": 1 })
    }))
})

describe("TestServer hold", () => {
  it.scopedLive("holds answers over the socket until released (the Effect service)", () =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off" })
      const url = (id: number) => `${server.baseUrl}/account/subaccount/order/${id}`
      yield* server.hold({ afterRequests: 1 })
      expect((yield* Effect.promise(() => reply(url(1), server.apiKey))).status).toBe(200)
      let answered = false
      const held = reply(url(2), server.apiKey).finally(() => (answered = true))
      yield* server.stats.pipe(
        Effect.repeat({ until: (stats) => stats.held === 1, schedule: Schedule.spaced("5 millis") }),
        Effect.timeout("20 seconds")
      )
      expect(answered).toBe(false)
      const during = yield* server.stats
      expect([during.requests, during.inFlight]).toEqual([1, 1])
      yield* server.release
      const r = yield* Effect.promise(() => held)
      expect([r.status, JSON.parse(r.body).id]).toEqual([200, 2])
      const after = yield* server.stats
      expect([after.requests, after.held]).toEqual([2, 0])
    }))

  it("holds for plain code, and closing drops what it held", async () => {
    const handle = await TestServer.start({ rateLimit: "off" })
    handle.hold()
    const held = get(`${handle.baseUrl}/account/subaccount/order/1`, handle.apiKey)
    while (handle.stats().held === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(handle.stats().requests).toBe(0)
    await handle.close()
    expect(await held).toHaveProperty("error")
  })
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
