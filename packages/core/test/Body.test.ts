/**
 * A body without `Content-Length` is read straight from undici's Node stream when the response comes from an
 * undici-based client; that stream is reached through two fields the platform does not declare (the wrapper's
 * `original`, the response's `source`). These tests fail when a release of `@effect/platform` or
 * `@effect/platform-node` moves them: the client still works then (it reads through `response.stream`), but slower.
 */
import { FetchHttpClient, HttpClient, type HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { unreadNodeBody } from "../src/internal/body.js"

/** A loopback server whose answer is a JSON body in three pieces, without `Content-Length`. */
const chunkedServer = Effect.acquireRelease(
  Effect.async<Http.Server>((resume) => {
    const server = Http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.write("{\"a\":")
      res.write("[1,2,")
      res.end("3]}")
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`))

/** Gets `url` over `layer` and hands the response to `f` while the request's scope is open. */
const withResponse = <A>(
  layer: Layer.Layer<HttpClient.HttpClient>,
  f: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, unknown>
) =>
  Effect.gen(function*() {
    const url = yield* chunkedServer
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    expect(response.headers["transfer-encoding"]).toBe("chunked")
    return yield* f(response)
  }).pipe(Effect.provide(layer))

const text = (response: HttpClientResponse.HttpClientResponse) => Stream.mkString(Stream.decodeText(response.stream))

describe("bodies without Content-Length", () => {
  for (
    const [name, layer] of [
      ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
    ] as const
  ) {
    it.scoped(`${name}: the unread body is undici's stream, and no longer offered once read`, () =>
      withResponse(layer, (response) =>
        Effect.gen(function*() {
          expect(unreadNodeBody(response)).toBeDefined()
          expect(yield* text(response)).toBe("{\"a\":[1,2,3]}")
          expect(unreadNodeBody(response)).toBeUndefined()
        })))
  }

  it.scoped("any other client (fetch): no stream offered, the body is read through response.stream", () =>
    withResponse(FetchHttpClient.layer, (response) =>
      Effect.gen(function*() {
        expect(unreadNodeBody(response)).toBeUndefined()
        expect(yield* text(response)).toBe("{\"a\":[1,2,3]}")
      })))
})
