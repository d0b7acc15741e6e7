/**
 * A lean `HttpClient` over undici's `request()`, for programs that send many small requests (the bulk export).
 *
 * `NodeHttpClient.layerUndici` from `@effect/platform-node` works just as well with the client; this layer does less
 * per request: one undici call, the response's headers converted once, bodies read with undici's own `text()` and
 * `arrayBuffer()`, and bounds and timeouts enforced by undici (`maxResponseSize`, `headersTimeout`, `bodyTimeout`).
 * Interrupting the fiber aborts the request and its body. It needs `undici` 7 installed (an optional peer
 * dependency), which is why the package's index does not re-export it: import `@certcentral/core/UndiciHttpClient`.
 *
 * @since 0.2.0
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Undici from "undici"

/**
 * Options of the undici `Agent` behind the client.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Largest response body accepted, in bytes; a larger one fails its read with a `ResponseError` (default: none). */
  readonly maxResponseSize?: number
  /** Longest wait for a response's headers (default 5 minutes, undici's). */
  readonly headersTimeout?: Duration.DurationInput
  /** Longest pause between two chunks of a body (default 5 minutes, undici's). */
  readonly bodyTimeout?: Duration.DurationInput
  /** Connections per origin (default: no limit). */
  readonly connections?: number
  /** How long an idle keep-alive connection stays open (default 4 seconds, undici's). */
  readonly keepAliveTimeout?: Duration.DurationInput
}

const millis = (duration: Duration.DurationInput) => Duration.toMillis(Duration.decode(duration))

const agentOptions = (options: Options): Undici.Agent.Options => ({
  ...(options.maxResponseSize === undefined ? {} : { maxResponseSize: options.maxResponseSize }),
  ...(options.headersTimeout === undefined ? {} : { headersTimeout: millis(options.headersTimeout) }),
  ...(options.bodyTimeout === undefined ? {} : { bodyTimeout: millis(options.bodyTimeout) }),
  ...(options.connections === undefined ? {} : { connections: options.connections }),
  ...(options.keepAliveTimeout === undefined ? {} : { keepAliveTimeout: millis(options.keepAliveTimeout) })
})

type Source = Undici.Dispatcher.ResponseData
type Body = Exclude<Undici.Dispatcher.RequestOptions["body"], undefined>

// a body nobody reads must not raise an unhandled 'error' event when the request is aborted
const ignore = () => {}

class Response extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly status: number
  readonly headers: Headers.Headers
  readonly remoteAddress: Option.Option<string> = Option.none()
  private textBody: Effect.Effect<string, HttpClientError.ResponseError> | undefined
  private bufferBody: Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> | undefined
  private formBody: Effect.Effect<FormData, HttpClientError.ResponseError> | undefined

  constructor(readonly request: HttpClientRequest.HttpClientRequest, private readonly source: Source) {
    super()
    this.status = source.statusCode
    this.headers = Headers.fromInput(source.headers as Headers.Input)
    source.body.on("error", ignore)
  }

  private fail(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  // A body can be read once: each accessor remembers its outcome, so `text` twice reads once.
  private once<A>(read: () => Promise<A>): Effect.Effect<A, HttpClientError.ResponseError> {
    return Effect.runSync(Effect.cached(Effect.tryPromise({ try: read, catch: (e) => this.fail(e) })))
  }

  get cookies(): Cookies.Cookies {
    const header = this.source.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.textBody ??= this.once(() => this.source.body.text())
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.bufferBody ??= this.once(() => this.source.body.arrayBuffer())
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(
      this.text,
      (text) => Effect.try({ try: () => (text === "" ? null : JSON.parse(text)), catch: (e) => this.fail(e) })
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return this.formBody ??= this.once(() => this.source.body.formData() as Promise<FormData>)
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromAsyncIterable(this.source.body as AsyncIterable<Uint8Array>, (e) => this.fail(e))
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

const requestBody = (
  body: HttpClientRequest.HttpClientRequest["body"]
): Effect.Effect<Body> => {
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(null)
    case "Uint8Array":
      return Effect.succeed(body.body)
    case "Raw":
      return Effect.succeed(body.body as Body)
    case "FormData":
      return Effect.succeed(body.formData as Body)
    case "Stream":
      return Effect.map(
        Stream.toReadableStreamEffect(body.stream),
        (stream) => stream as unknown as Body
      )
  }
}

/**
 * An `HttpClient` that sends every request through the given undici dispatcher (an `Agent`, a `Pool`, a mock).
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromDispatcher = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient =>
  HttpClient.make((request, url, signal) =>
    Effect.flatMap(requestBody(request.body), (body) =>
      Effect.tryPromise({
        try: (): Promise<Source> =>
          dispatcher.request({
            origin: url.origin,
            path: url.pathname + url.search,
            method: request.method,
            headers: request.headers,
            body,
            signal
          }),
        catch: (cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause })
      })).pipe(Effect.map((source) => new Response(request, source)))
  )

/**
 * An `HttpClient` over an undici `Agent` of its own, closed with the scope.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new Undici.Agent(agentOptions(options))),
      (agent) => Effect.promise(() => agent.destroy())
    ),
    fromDispatcher
  )

/**
 * The `HttpClient` layer: `Effect.provide(UndiciHttpClient.layer())` where `NodeHttpClient.layerUndici` would go.
 *
 * @example
 * ```ts
 * import { CertCentralClient } from "@certcentral/core"
 * import * as UndiciHttpClient from "@certcentral/core/UndiciHttpClient"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.flatMap(CertCentralClient.CertCentralClient, (client) => client.getSubaccountOrder(12345))
 *
 * program.pipe(
 *   Effect.provide(CertCentralClient.layer({ apiKey: Redacted.make("key") })),
 *   Effect.provide(UndiciHttpClient.layer({ maxResponseSize: 16 * 1024 * 1024, headersTimeout: "30 seconds" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(HttpClient.HttpClient, make(options))
