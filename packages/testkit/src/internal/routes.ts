import type * as Account from "../Account.js"
import type * as OrderData from "../OrderData.js"
import type { Route } from "../StandIn.js"

export const BASE_PATH = "/services/v2"

/** A request as the handler sees it: what either face (a socket or the in-memory client) passes in. */
export interface Request {
  readonly method: string
  /** Path and query, e.g. `/services/v2/order/certificate?limit=10`. */
  readonly url: string
  /** The `X-DC-DEVKEY` header, if any. */
  readonly key: string | undefined
}

/**
 * What the handler answers, as data; each face renders it as faithfully as it can. `chunkable` bodies lose their
 * `Content-Length` on a server started with `chunked`; the others keep the framing their fault is about.
 */
export type Reply =
  | {
    readonly _tag: "Respond"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly body: Uint8Array
    readonly chunkable: boolean
  }
  /** The body in `chunks`, one every `delayMs` on the handler's clock, under a `Content-Length` for the whole. */
  | {
    readonly _tag: "Dribble"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly chunks: ReadonlyArray<Uint8Array>
    readonly delayMs: number
  }
  /** Headers with the whole body's `Content-Length`, `partial` bytes, then the connection dies. */
  | {
    readonly _tag: "ResetDuringBody"
    readonly headers: Readonly<Record<string, string>>
    readonly partial: Uint8Array
  }
  /** A 200 JSON body of `bytes` bytes generated as it is read. */
  | { readonly _tag: "Oversized"; readonly bytes: number; readonly declareLength: boolean }
  /** The connection dies before any byte of a response. */
  | { readonly _tag: "Reset" }

export const encoder = new TextEncoder()

export const messages = {
  invalidKey: "The API key provided is not valid.",
  missingKey: "An API key is required: send it in the X-DC-DEVKEY header.",
  route: "The requested route was not found.",
  order: "Order not found.",
  limit: "Request limit exceeded. Please wait before sending more requests."
}

/** DigiCert's error body. */
export const errorBody = (code: string, message: string): string => JSON.stringify({ errors: [{ code, message }] })

export const serverErrorCodes: Record<number, readonly [string, string]> = {
  500: ["internal_server_error", "An internal error occurred."],
  502: ["bad_gateway", "Bad gateway."],
  503: ["service_unavailable", "The service is temporarily unavailable."],
  504: ["gateway_timeout", "Gateway timeout."]
}
const reasons: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}
export const htmlPage = (status: number): string => {
  const title = `${status} ${reasons[status] ?? "Error"}`
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
}

export type Endpoint = OrderData.Endpoint | Account.ListEndpoint | "listStatusChanges"

/** The one route table: method GET, a path pattern, the route it names. */
const routes: ReadonlyArray<{ readonly route: Endpoint; readonly pattern: RegExp }> = [
  // before the per-order routes: `status-changes` is not an order id, but it is matched here first all the same
  { route: "listStatusChanges", pattern: /^\/services\/v2\/order\/certificate\/status-changes$/ },
  { route: "duplicates", pattern: /^\/services\/v2\/order\/certificate\/([^/]+)\/duplicate$/ },
  { route: "reissues", pattern: /^\/services\/v2\/order\/certificate\/([^/]+)\/reissue$/ },
  { route: "subaccountOrder", pattern: /^\/services\/v2\/account\/subaccount\/order\/([^/]+)$/ },
  { route: "listOrders", pattern: /^\/services\/v2\/order\/certificate$/ },
  { route: "listSubaccountOrders", pattern: /^\/services\/v2\/account\/subaccount\/order$/ }
]

export interface Matched {
  readonly route: Route
  /** The path as requested, base path included. */
  readonly path: string
  readonly endpoint: Endpoint | undefined
  readonly idText: string | undefined
  readonly orderId: number | undefined
}

const parseOrderId = (text: string): number | undefined => {
  if (!/^\d{1,16}$/.test(text)) return undefined
  const id = Number(text)
  return id >= 1 && Number.isSafeInteger(id) ? id : undefined
}

const unknownRoute = (path: string): Matched => ({
  route: "unknown",
  path,
  endpoint: undefined,
  idText: undefined,
  orderId: undefined
})

export const match = (method: string, path: string): Matched => {
  if (method !== "GET") return unknownRoute(path)
  for (const { pattern, route } of routes) {
    const m = pattern.exec(path)
    if (m === null) continue
    const idText = route === "listStatusChanges" ? undefined : m[1]
    return { route, path, endpoint: route, idText, orderId: idText === undefined ? undefined : parseOrderId(idText) }
  }
  return unknownRoute(path)
}

export const truthy = (value: string | null): boolean => value === "true" || value === "1"

export interface Answer {
  readonly status: number
  readonly body: string
  readonly retryAfter?: number | undefined
}

export const json = (status: number, body: string, retryAfter?: number): Reply => ({
  _tag: "Respond",
  status,
  headers: {
    "content-type": "application/json",
    ...(retryAfter === undefined ? {} : { "retry-after": String(retryAfter) })
  },
  body: encoder.encode(body),
  chunkable: true
})

export const fixed = (status: number, contentType: string, body: Uint8Array, retryAfter?: number): Reply => ({
  _tag: "Respond",
  status,
  headers: {
    "content-type": contentType,
    ...(retryAfter === undefined ? {} : { "retry-after": String(retryAfter) })
  },
  body,
  chunkable: false
})
