import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Stream from "effect/Stream"
import * as Errors from "../CertCentralError.js"
import { schemaMismatch } from "./errorMapping.js"

/** What one request asks for and how its 2xx body is decoded. */
export interface Call<A> {
  readonly endpoint: Errors.Endpoint
  /** Absent for the list endpoints. */
  readonly orderId?: number | undefined
  readonly path: string
  readonly query: Record<string, string>
  readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>
}

/** Real responses nest four or five levels deep; anything far deeper is refused before it is parsed. */
export const MAX_DEPTH = 64

/** The deepest nesting of arrays and objects in JSON text, counted in one pass (strings skipped). */
export const jsonDepth = (text: string): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > deepest) deepest = depth
    } else if (c === 93 || c === 125) depth--
  }
  return deepest
}

const decoder = new TextDecoder()

/** `application/json`, or any `+json` type, with or without parameters; absent means JSON is assumed. */
const isJsonMediaType = (contentType: string): boolean => {
  const semicolon = contentType.indexOf(";")
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"))
}

// A body refused as a whole (path ""): too large, not declared as JSON, nested too deeply, not JSON.
const refused = (call: Call<unknown>, status: number, message: string) =>
  new Errors.DecodeError({ endpoint: call.endpoint, orderId: call.orderId, status, path: "", message })

/** The parts of a body in one array (the one part itself when there is only one). */
const joined = (parts: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    bytes.set(part, offset)
    offset += part.length
  }
  return bytes
}

/** What is used of a Node `Readable` (declared here: the client does not depend on Node's types). */
interface NodeBody {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown
  on(event: "end" | "close", listener: () => void): unknown
  on(event: "error", listener: (cause: unknown) => void): unknown
  off(event: "data", listener: (chunk: Uint8Array) => void): unknown
  off(event: "end" | "close", listener: () => void): unknown
  off(event: "error", listener: (cause: unknown) => void): unknown
  destroy(): unknown
  readonly readableFlowing: boolean | null
  readonly readableEnded: boolean
  readonly destroyed: boolean
}

const isNodeBody = (u: unknown): u is NodeBody =>
  typeof u === "object" && u !== null && typeof (u as NodeBody).on === "function" &&
  typeof (u as NodeBody).off === "function" && typeof (u as NodeBody).destroy === "function" &&
  "readableFlowing" in u && "readableEnded" in u && "destroyed" in u

const field = (u: unknown, name: string): unknown =>
  typeof u === "object" && u !== null && name in u ? (u as Record<string, unknown>)[name] : undefined

/**
 * The body of a response from an undici-based client (`NodeHttpClient.layerUndici`) as undici's
 * Node `Readable`, when nothing has read from it yet; undefined for any other client, whose body is then read
 * through `response.stream`. These clients keep undici's answer as the response's `source`, and `HttpClient.make`
 * hands it out wrapped (as `original`, to abort the request when a read is interrupted); neither field is in the
 * platform's interface, so both are looked for and the `Stream` is the way when either is missing
 * (`test/internal/body.test.ts` says when a platform release moves them).
 */
export const unreadNodeBody = (response: HttpClientResponse.HttpClientResponse): NodeBody | undefined => {
  let at: unknown = response
  for (let depth = 0; depth < 3 && field(at, "source") === undefined; depth++) at = field(at, "original")
  const body = field(field(at, "source"), "body")
  return isNodeBody(body) && body.readableFlowing === null && !body.readableEnded && !body.destroyed ? body : undefined
}

/** Reads and decodes response bodies, refusing any larger than `maxBytes`. */
export const makeBodyReader = (maxBytes: number) => {
  const tooLarge = (call: Call<unknown>, status: number) =>
    refused(call, status, `response body larger than ${maxBytes} bytes`)

  // A declared length over `maxBytes` is refused before reading. Over undici the body is read from its Node stream
  // and refused as soon as it passes `maxBytes` (with or without a length: one path, and 8% less CPU than undici's
  // `arrayBuffer()` measured on the CLI). Over any other client a declared length (HTTP framing bounds the read to
  // it) is read in one piece, and a body without one through `response.stream`, refused as soon as it passes.
  const readBytes = (
    call: Call<unknown>,
    response: HttpClientResponse.HttpClientResponse,
    declared: number | undefined
  ): Effect.Effect<Uint8Array, Errors.DecodeError | HttpClientError.ResponseError> => {
    if (declared !== undefined && declared > maxBytes) return Effect.fail(tooLarge(call, response.status))
    const readable = unreadNodeBody(response)
    if (readable !== undefined) return readNodeBody(call, response, readable)
    if (declared !== undefined) return Effect.map(response.arrayBuffer, (buffer) => new Uint8Array(buffer))
    // Chunks are gathered in one array and joined once: no fold state or `Chunk` rebuilt per piece of the body.
    return Effect.suspend(() => {
      const parts: Array<Uint8Array> = []
      let size = 0
      return response.stream.pipe(
        Stream.runForEachChunk((chunk): Effect.Effect<void, Errors.DecodeError> => {
          for (const part of chunk) {
            size += part.length
            if (size > maxBytes) return Effect.fail(tooLarge(call, response.status))
            parts.push(part)
          }
          return Effect.void
        }),
        Effect.map(() => joined(parts, size))
      )
    })
  }

  // The bounded read straight from undici's Node stream: one callback per chunk instead of a `Stream` (a queue, a
  // pull per chunk and their fibers), which cost 0.5 to 0.9 ms of CPU per response without `Content-Length`.
  const readNodeBody = (
    call: Call<unknown>,
    response: HttpClientResponse.HttpClientResponse,
    body: NodeBody
  ): Effect.Effect<Uint8Array, Errors.DecodeError | HttpClientError.ResponseError> =>
    Effect.async((resume) => {
      const parts: Array<Uint8Array> = []
      let size = 0
      let settled = false
      const settle = (result: Effect.Effect<Uint8Array, Errors.DecodeError | HttpClientError.ResponseError>) => {
        if (settled) return
        settled = true
        body.off("data", onData)
        body.off("end", onEnd)
        body.off("error", onError)
        body.off("close", onClose)
        resume(result)
      }
      const unreadable = (cause: unknown) =>
        new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", cause })
      const onData = (chunk: Uint8Array) => {
        size += chunk.length
        if (size > maxBytes) {
          // the rest is not read: the transport drops the connection
          body.destroy()
          settle(Effect.fail(tooLarge(call, response.status)))
        } else parts.push(chunk)
      }
      const onEnd = () => settle(Effect.succeed(joined(parts, size)))
      const onError = (cause: unknown) => settle(Effect.fail(unreadable(cause)))
      // closed without its end (aborted, reset): the same failure as an error, in case none was emitted
      const onClose = () => settle(Effect.fail(unreadable(new Error("the response body closed before its end"))))
      body.on("data", onData)
      body.on("end", onEnd)
      body.on("error", onError)
      body.on("close", onClose)
      // interrupted (the attempt's deadline, the caller): stop listening and release the connection
      return Effect.sync(() => {
        if (settled) return
        settled = true
        body.off("data", onData)
        body.off("end", onEnd)
        body.off("error", onError)
        body.off("close", onClose)
        body.destroy()
      })
    })

  /** The body as text; fewer or more bytes than `Content-Length` is a transport failure (retried). */
  const read = (
    call: Call<unknown>,
    response: HttpClientResponse.HttpClientResponse
  ): Effect.Effect<string, Errors.DecodeError | Errors.TransportError | HttpClientError.ResponseError> => {
    const encoding = response.headers["content-encoding"]
    const length = response.headers["content-length"]
    const declared = (encoding === undefined || encoding === "identity") && length !== undefined &&
        /^\d+$/.test(length.trim())
      ? Number(length)
      : undefined
    return Effect.flatMap(
      readBytes(call, response, declared),
      (bytes) =>
        declared !== undefined && bytes.length !== declared
          ? Effect.fail(
            new Errors.TransportError({
              endpoint: call.endpoint,
              orderId: call.orderId,
              status: response.status,
              reason: "body",
              message: bytes.length < declared
                ? `response body cut short: ${bytes.length} of ${declared} bytes`
                : `response body longer than its Content-Length: ${bytes.length} > ${declared} bytes`
            })
          )
          : Effect.succeed(decoder.decode(bytes))
    )
  }
  return read
}

/** Decodes a complete 2xx body: declared JSON, not nested too deeply, JSON, then the call's schema. */
export const decodeBody = <A>(
  call: Call<A>,
  status: number,
  contentType: string | undefined,
  body: string
): Either.Either<A, Errors.DecodeError> => {
  if (contentType !== undefined && !isJsonMediaType(contentType)) {
    return Either.left(
      refused(call, status, `expected a JSON response, got Content-Type ${JSON.stringify(contentType.slice(0, 100))}`)
    )
  }
  if (jsonDepth(body) > MAX_DEPTH) {
    return Either.left(refused(call, status, `response body is nested deeper than ${MAX_DEPTH} levels`))
  }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (e) {
    const reason = e instanceof Error ? e.message : "parse error"
    return Either.left(refused(call, status, `response body is not JSON (${reason})`))
  }
  return Either.mapLeft(call.decode(json), (error) => schemaMismatch(call.endpoint, call.orderId, status, error))
}
