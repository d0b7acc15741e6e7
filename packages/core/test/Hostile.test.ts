import { CertCentralClient } from "@certcentral/core"
import type { CertCentralError } from "@certcentral/core"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

// A server that answers whatever the test scripts for a path, as a hostile or broken API might.
type Answer = (res: Http.ServerResponse) => void

const hostileServer = (answers: Record<string, Answer>) =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; baseUrl: string }>((resume) => {
      const server = Http.createServer((req, res) => {
        const path = new URL(req.url ?? "/", "http://x").pathname.replace(/^\/services\/v2/, "")
        const answer = answers[path]
        if (answer === undefined) {
          res.writeHead(404, { "content-type": "application/json" }).end(
            "{\"errors\":[{\"code\":\"not_found|route\"}]}"
          )
        } else answer(res)
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({ server, baseUrl: `http://127.0.0.1:${port}/services/v2` }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const json = (body: string, status = 200, contentType = "application/json"): Answer => (res) =>
  res.writeHead(status, { "content-type": contentType }).end(body)

const call = (
  baseUrl: string,
  f: (cc: CertCentralClient.Service) => Effect.Effect<unknown, CertCentralError.CertCentralError>,
  options: Partial<CertCentralClient.Options> = {}
) =>
  Effect.flatMap(CertCentralClient.CertCentralClient, f).pipe(
    Effect.provide(
      CertCentralClient.layer({
        apiKey: Redacted.make("hostile-test-key"),
        baseUrl,
        rateLimit: "off",
        retry: { maxAttempts: 2, baseDelay: "10 millis" },
        ...options
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    ),
    Effect.flip
  )

const cert = { id: 1, common_name: "a.example", status: "issued", date_created: "2020-01-01T00:00:00+00:00" }

describe("hostile and malformed responses", () => {
  it.scopedLive("stops reading an endless body at the size limit", () =>
    Effect.gen(function*() {
      let written = 0
      const { baseUrl } = yield* hostileServer({
        "/order/certificate/1/duplicate": (res) => {
          res.writeHead(200, { "content-type": "application/json" })
          res.write("{\"certificates\":[")
          const chunk = Buffer.alloc(64 * 1024, " ")
          const pump = () => {
            // Stops by itself after 1 GiB, far past the limit, so a broken client cannot hang the test forever.
            while (written < 1024 ** 3 && res.write(chunk)) written += chunk.length
            if (written < 1024 ** 3) res.once("drain", pump)
            else res.end()
          }
          res.on("close", () => {
            written = Number.POSITIVE_INFINITY
          })
          pump()
        }
      })
      const rssBefore = process.memoryUsage().rss
      const error = yield* call(baseUrl, (cc) => cc.listDuplicates(1), { maxResponseBytes: 4 * 1024 * 1024 })
      expect(error._tag).toBe("DecodeError")
      expect(error.message).toMatch(/larger than 4194304 bytes/)
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024)
    }))

  it.scopedLive("turns each malformed body into a typed error for that call only", () =>
    Effect.gen(function*() {
      const deep = "[".repeat(200_000) + "]".repeat(200_000)
      const { baseUrl } = yield* hostileServer({
        "/order/certificate/1/duplicate": json("<html><body>Maintenance</body></html>", 200, "text/html"),
        "/order/certificate/2/duplicate": json(`{"certificates":${deep}}`),
        "/order/certificate/3/duplicate": json(JSON.stringify({ certificates: [{ ...cert, id: "1" }] })),
        "/order/certificate/4/duplicate": json(JSON.stringify({ certificates: [{ ...cert, common_name: 42 }] })),
        "/order/certificate/5/duplicate": json(JSON.stringify({ certificates: {} })),
        "/order/certificate/6/duplicate": json("null"),
        "/order/certificate/7/duplicate": json(""),
        "/order/certificate/8/duplicate": json(JSON.stringify({ certificates: [{ ...cert, date_created: 1 }] })),
        "/order/certificate/9/duplicate": json(JSON.stringify({ certificates: [cert] }))
      })
      const results = yield* Effect.forEach(
        [1, 2, 3, 4, 5, 6, 7, 8],
        (id) => call(baseUrl, (cc) => cc.listDuplicates(id)),
        { concurrency: "unbounded" }
      )
      for (const error of results) {
        expect(error._tag).toBe("DecodeError")
      }
      expect(results.map((e) => (e._tag === "DecodeError" ? e.path : "?"))).toEqual([
        "",
        "",
        "certificates.0.id",
        "certificates.0.common_name",
        "certificates",
        "",
        "",
        "certificates.0.date_created"
      ])
      // A good order next to them still decodes.
      const good = yield* Effect.flip(call(baseUrl, (cc) => cc.listDuplicates(9)))
      expect(good).toHaveLength(1)
    }))

  it.scopedLive("refuses a 2xx body that is not declared as JSON, and accepts JSON types with parameters or none", () =>
    Effect.gen(function*() {
      const body = JSON.stringify({ certificates: [cert] })
      const { baseUrl } = yield* hostileServer({
        "/order/certificate/1/duplicate": json(body, 200, "text/html"),
        "/order/certificate/2/duplicate": json(body, 200, "text/plain; charset=utf-8"),
        "/order/certificate/3/duplicate": json(body, 200, "application/json; charset=utf-8"),
        "/order/certificate/4/duplicate": json(body, 200, "Application/Problem+JSON"),
        "/order/certificate/5/duplicate": (res) => res.writeHead(200).end(body)
      })
      const refused = yield* Effect.forEach([1, 2], (id) => call(baseUrl, (cc) => cc.listDuplicates(id)))
      expect(refused.map((e) => [e._tag, e.message])).toEqual([
        ["DecodeError", "expected a JSON response, got Content-Type \"text/html\""],
        ["DecodeError", "expected a JSON response, got Content-Type \"text/plain; charset=utf-8\""]
      ])
      for (const id of [3, 4, 5]) {
        const certs = yield* Effect.flip(call(baseUrl, (cc) => cc.listDuplicates(id)))
        expect(certs).toHaveLength(1)
      }
    }))

  it.scopedLive("does not let __proto__ or constructor keys reach any prototype", () =>
    Effect.gen(function*() {
      const body = `{"certificates":[{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},` +
        `"id":1,"common_name":"a","status":"issued","date_created":"2020-01-01T00:00:00+00:00",` +
        `"server_platform":{"__proto__":{"polluted":true},"id":2,"name":"nginx"}}],"__proto__":{"polluted":true}}`
      const { baseUrl } = yield* hostileServer({ "/order/certificate/1/duplicate": json(body) })
      const certs = yield* Effect.flip(call(baseUrl, (cc) => cc.listDuplicates(1)))
      expect(certs).toHaveLength(1)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false)
      const [first] = certs as ReadonlyArray<Record<string, unknown>>
      expect(Object.keys(first!)).not.toContain("__proto__")
      expect((first as { polluted?: unknown }).polluted).toBeUndefined()
    }))

  it.scopedLive("retries a connection reset mid-body and a short body, then gives up with a transport error", () =>
    Effect.gen(function*() {
      let calls = 0
      const { baseUrl } = yield* hostileServer({
        "/order/certificate/1/duplicate": (res) => {
          calls++
          res.writeHead(200, { "content-type": "application/json", "content-length": "1000" })
          res.write("{\"certificates\":[")
          setTimeout(() => res.destroy(), 5)
        }
      })
      const error = yield* call(baseUrl, (cc) => cc.listDuplicates(1), {
        retry: { maxAttempts: 3, baseDelay: "10 millis" }
      })
      expect(error._tag).toBe("TransportError")
      if (error._tag === "TransportError") expect(error.reason).toBe("body")
      expect(calls).toBe(3)
    }))

  // Bodies without Content-Length (chunked) over undici are read straight from its Node stream: the same results,
  // failures and bounds as a body with a length.
  it.scopedLive("decodes a chunked body sent in many pieces, as the same body with a Content-Length", () =>
    Effect.gen(function*() {
      const body = JSON.stringify({ certificates: Array.from({ length: 40 }, (_, i) => ({ ...cert, id: i + 1 })) })
      const { baseUrl } = yield* hostileServer({
        "/order/certificate/1/duplicate": json(body),
        "/order/certificate/2/duplicate": (res) => {
          res.writeHead(200, { "content-type": "application/json" })
          let at = 0
          const next = () => {
            if (at >= body.length) return void res.end()
            res.write(body.slice(at, at + 97))
            at += 97
            setTimeout(next, at % 5 === 0 ? 1 : 0)
          }
          next()
        }
      })
      const both = Effect.flatMap(
        CertCentralClient.CertCentralClient,
        (cc) => Effect.all([cc.listDuplicates(1), cc.listDuplicates(2)])
      ).pipe(
        Effect.provide(
          CertCentralClient.layer({ apiKey: Redacted.make("hostile-test-key"), baseUrl, rateLimit: "off" }).pipe(
            Layer.provide(NodeHttpClient.layerUndici)
          )
        )
      )
      const [withLength, chunked] = yield* both
      expect(withLength).toHaveLength(40)
      expect(chunked).toEqual(withLength)
    }))

  it.scopedLive("retries a chunked body cut by a reset, then reads the whole one", () =>
    Effect.gen(function*() {
      let calls = 0
      const { baseUrl } = yield* hostileServer({
        "/order/certificate/1/duplicate": (res) => {
          calls++
          res.writeHead(200, { "content-type": "application/json" })
          res.write("{\"certificates\":[")
          if (calls === 1) setTimeout(() => res.destroy(), 5)
          else setTimeout(() => res.end(`${JSON.stringify(cert)}]}`), 5)
        }
      })
      const result = yield* call(baseUrl, (cc) => cc.listDuplicates(1), {
        retry: { maxAttempts: 3, baseDelay: "10 millis" }
      }).pipe(Effect.flip)
      expect((result as ReadonlyArray<{ readonly id: number }>).map((c) => c.id)).toEqual([1])
      expect(calls).toBe(2)
    }))

  it.scopedLive("times out a chunked body that stalls, per attempt, and lets its connection go", () =>
    Effect.gen(function*() {
      let calls = 0
      let closed = 0
      const { baseUrl } = yield* hostileServer({
        "/order/certificate/1/duplicate": (res) => {
          calls++
          res.writeHead(200, { "content-type": "application/json" })
          res.write("{\"certificates\":[")
          res.on("close", () => closed++)
        }
      })
      const error = yield* call(baseUrl, (cc) => cc.listDuplicates(1), {
        timeout: "300 millis",
        retry: { maxAttempts: 2, baseDelay: "10 millis" }
      })
      expect(error._tag).toBe("TransportError")
      if (error._tag === "TransportError") expect(error.reason).toBe("timeout")
      expect(calls).toBe(2)
      // each stalled body was given up: the client closed its connection rather than leave it waiting
      for (let i = 0; i < 100 && closed < 2; i++) yield* Effect.sleep("20 millis")
      expect(closed).toBe(2)
    }))

  it.scopedLive("times out a server that never answers, per attempt", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* hostileServer({ "/order/certificate/1/duplicate": () => {} })
      const error = yield* call(baseUrl, (cc) => cc.listDuplicates(1), {
        timeout: "300 millis",
        retry: { maxAttempts: 2, baseDelay: "10 millis" }
      })
      expect(error._tag).toBe("TransportError")
      if (error._tag === "TransportError") expect(error.reason).toBe("timeout")
    }))
})
