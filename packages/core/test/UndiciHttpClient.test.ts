import { CertCentralClient } from "@certcentral/core"
import * as UndiciHttpClient from "@certcentral/core/UndiciHttpClient"
import { Samples, TestServer } from "@certcentral/testkit"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Redacted, Stream } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

/** A node:http server on a loopback port for the scope; `handler` answers each request. */
const serve = (handler: (req: Http.IncomingMessage, res: Http.ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer(handler)
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))

const client = (options?: UndiciHttpClient.Options) => UndiciHttpClient.make(options)

describe("UndiciHttpClient", () => {
  it.scoped("sends the method, path, query, headers and body, and reads status, headers and body", () =>
    Effect.gen(function*() {
      const url = yield* serve((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          res.writeHead(201, { "content-type": "application/json", "set-cookie": ["a=1", "b=2"], "x-seen": "yes" })
          res.end(JSON.stringify({
            method: req.method,
            url: req.url,
            key: req.headers["x-dc-devkey"],
            body: Buffer.concat(chunks).toString()
          }))
        })
      })
      const http = yield* client()
      const response = yield* http.execute(
        HttpClientRequest.post(`${url}/services/v2/order`, { urlParams: { show_archived: "true" } }).pipe(
          HttpClientRequest.setHeader("X-DC-DEVKEY", "k"),
          HttpClientRequest.bodyText("hello")
        )
      )
      expect(response.status).toBe(201)
      expect(response.headers["x-seen"]).toBe("yes")
      expect(response.headers["content-type"]).toBe("application/json")
      expect(response.cookies.cookies["b"]?.value).toBe("2")
      expect(yield* response.json).toEqual({
        method: "POST",
        url: "/services/v2/order?show_archived=true",
        key: "k",
        body: "hello"
      })
      // read once, the same body again
      expect(JSON.parse(yield* response.text)).toHaveProperty("body", "hello")
    }))

  it.scoped("streams a chunked body and reads it as bytes", () =>
    Effect.gen(function*() {
      const url = yield* serve((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" })
        res.write("abc")
        setTimeout(() => res.end("def"), 5)
      })
      const http = yield* client()
      const response = yield* http.get(url)
      expect(response.headers["transfer-encoding"]).toBe("chunked")
      expect(Buffer.from(yield* response.arrayBuffer).toString()).toBe("abcdef")
      const streamed = yield* http.get(url).pipe(
        Effect.flatMap((r) => Stream.runFold(r.stream, "", (text, chunk) => text + Buffer.from(chunk).toString()))
      )
      expect(streamed).toBe("abcdef")
    }))

  it.scoped("fails with a RequestError (Transport) when nothing listens", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(serve(() => {}))
      const http = yield* client()
      const error = yield* Effect.flip(http.get(url))
      expect(error._tag).toBe("RequestError")
      expect(error.reason).toBe("Transport")
    }))

  it.scoped("refuses a body larger than maxResponseSize, declared or streamed", () =>
    Effect.gen(function*() {
      const big = "x".repeat(64 * 1024)
      const url = yield* serve((req, res) => {
        if (req.url === "/declared") res.writeHead(200, { "content-length": big.length })
        else res.writeHead(200)
        res.write(big.slice(0, 1024))
        res.end(big.slice(1024))
      })
      const http = yield* client({ maxResponseSize: 16 * 1024 })
      const declared = yield* Effect.flip(Effect.flatMap(http.get(`${url}/declared`), (r) => r.text))
      const streamed = yield* Effect.flip(Effect.flatMap(http.get(`${url}/streamed`), (r) => r.text))
      for (const error of [declared, streamed]) {
        expect(error._tag).toBe("ResponseError")
        expect((error.cause as { code?: string }).code).toBe("UND_ERR_RES_EXCEEDED_MAX_SIZE")
      }
      // a body within the bound is read
      const small = yield* client({ maxResponseSize: 128 * 1024 })
      expect((yield* Effect.flatMap(small.get(`${url}/declared`), (r) => r.text)).length).toBe(big.length)
    }))

  it.live("gives up on headers after headersTimeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* serve(() => {})
      const http = yield* client({ headersTimeout: "200 millis" })
      const error = yield* Effect.flip(http.get(url))
      expect(error._tag).toBe("RequestError")
      expect((error.cause as { code?: string }).code).toBe("UND_ERR_HEADERS_TIMEOUT")
    })))

  it.live("aborts the request when the fiber is interrupted", () =>
    Effect.scoped(Effect.gen(function*() {
      const arrived = yield* Deferred.make<void>()
      const closed = yield* Deferred.make<void>()
      const url = yield* serve((req, res) => {
        Deferred.unsafeDone(arrived, Exit.void)
        res.on("close", () => Deferred.unsafeDone(closed, Exit.void))
      })
      const http = yield* client()
      const fiber = yield* Effect.fork(http.get(url))
      yield* Deferred.await(arrived)
      yield* Fiber.interrupt(fiber)
      // the server sees the connection go away: the request was aborted, not left to run
      yield* Deferred.await(closed)
      expect(yield* Deferred.isDone(closed)).toBe(true)
    })))

  const certcentralOver = (http: Layer.Layer<HttpClient.HttpClient>, chunked: boolean) =>
    Effect.gen(function*() {
      const server = yield* TestServer.make({ rateLimit: "off", chunked })
      return yield* Effect.flatMap(
        CertCentralClient.CertCentralClient,
        (cc) => Effect.all([cc.listDuplicates(Samples.issuedOrderId), cc.getSubaccountOrder(1001), cc.listReissues(7)])
      ).pipe(
        Effect.provide(
          CertCentralClient.layer({ apiKey: Redacted.make(server.apiKey), baseUrl: server.baseUrl }).pipe(
            Layer.provide(http)
          )
        )
      )
    })

  it.scoped("serves the CertCentral client as NodeHttpClient.layerUndici does, with and without Content-Length", () =>
    Effect.gen(function*() {
      const expected = yield* certcentralOver(NodeHttpClient.layerUndici, false)
      expect(expected[0].length).toBeGreaterThan(0)
      for (const chunked of [false, true]) {
        expect(yield* certcentralOver(UndiciHttpClient.layer(), chunked)).toEqual(expected)
      }
    }))
})
