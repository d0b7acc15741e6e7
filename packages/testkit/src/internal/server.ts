import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Account from "../Account.js"
import * as Faults from "../Faults.js"
import * as OrderData from "../OrderData.js"
import * as OrderScript from "../OrderScript.js"
import * as RateLimit from "../RateLimit.js"
import type { Handle, Options, Route, Stats } from "../TestServer.js"
import * as Random from "./random.js"

const BASE_PATH = "/services/v2"
const LIST_PATH = /^\/services\/v2\/order\/certificate\/([^/]+)\/(duplicate|reissue)$/
const ORDER_PATH = /^\/services\/v2\/account\/subaccount\/order\/([^/]+)$/
const LIST_ROUTES: Record<string, Account.ListEndpoint> = {
  "/services/v2/order/certificate": "listOrders",
  "/services/v2/account/subaccount/order": "listSubaccountOrders"
}

const messages = {
  invalidKey: "The API key provided is not valid.",
  missingKey: "An API key is required: send it in the X-DC-DEVKEY header.",
  route: "The requested route was not found.",
  order: "Order not found.",
  limit: "Request limit exceeded. Please wait before sending more requests."
}

/** DigiCert's error body. */
export const errorBody = (code: string, message: string): string => JSON.stringify({ errors: [{ code, message }] })

const serverErrorCodes: Record<number, readonly [string, string]> = {
  500: ["internal_server_error", "An internal error occurred."],
  502: ["bad_gateway", "Bad gateway."],
  503: ["service_unavailable", "The service is temporarily unavailable."],
  504: ["gateway_timeout", "Gateway timeout."]
}
const reasons: Record<number, string> = { 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" }
const htmlPage = (status: number): string => {
  const title = `${status} ${reasons[status] ?? Http.STATUS_CODES[status] ?? "Error"}`
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
}

interface Matched {
  readonly route: Route
  readonly endpoint: OrderData.Endpoint | Account.ListEndpoint | undefined
  readonly idText: string | undefined
  readonly orderId: number | undefined
}

const parseOrderId = (text: string): number | undefined => {
  if (!/^\d{1,16}$/.test(text)) return undefined
  const id = Number(text)
  return id >= 1 && Number.isSafeInteger(id) ? id : undefined
}

const match = (method: string | undefined, path: string): Matched => {
  if (method === "GET") {
    const listing = LIST_ROUTES[path]
    if (listing !== undefined) return { route: listing, endpoint: listing, idText: undefined, orderId: undefined }
    const list = LIST_PATH.exec(path)
    if (list !== null) {
      const endpoint = list[2] === "duplicate" ? "duplicates" : "reissues"
      return { route: endpoint, endpoint, idText: list[1], orderId: parseOrderId(list[1]) }
    }
    const order = ORDER_PATH.exec(path)
    if (order !== null) {
      return {
        route: "subaccountOrder",
        endpoint: "subaccountOrder",
        idText: order[1],
        orderId: parseOrderId(order[1])
      }
    }
  }
  return { route: "unknown", endpoint: undefined, idText: undefined, orderId: undefined }
}

const truthy = (value: string | null): boolean => value === "true" || value === "1"

interface Answer {
  readonly status: number
  readonly body: string
  readonly retryAfter?: number
}

const emptyStats = (): Stats => ({
  requests: 0,
  byRoute: { duplicates: 0, reissues: 0, subaccountOrder: 0, listOrders: 0, listSubaccountOrders: 0, unknown: 0 },
  byStatus: {},
  rateLimited: 0,
  faults: {},
  inFlight: 0,
  peakConcurrency: 0,
  requestTimes: [],
  outage: 0,
  keys: { valid: 0, invalid: 0, missing: 0 },
  foreign: { admitted: 0, refused: 0 }
})

// Idle keep-alive connections. Clients size their idle time on the `Keep-Alive: timeout=N` hint (undici: N less 2 s,
// counted in ticks of its own timer, which come late in a process starved of CPU; Node's agent: N less 1 s) or keep
// their own default (undici 4 s, Node's agent 5 s). A server that closes a connection as a client reuses it loses that
// request: the client gets ECONNRESET or UND_ERR_SOCKET ("other side closed") and the server never counts it. So the
// hint stays at Node's default of 5 s (a header of our own replaces Node's, which would advertise the real timeout)
// and the server keeps idle connections a minute, twelve times longer: every client lets go first, even a starved one.
// `headersTimeout` (60 s) and `requestTimeout` (5 min) run only from a request's first byte to its last, never while a
// connection is idle, and every request here is a bodiless GET: Node's defaults stay.
const KEEP_ALIVE_HINT = "timeout=5"
const KEEP_IDLE_MS = 60_000

/** Milliseconds since the epoch that never go backwards. */
const now = (): number => performance.timeOrigin + performance.now()

export const start = async (options: Options = {}): Promise<Handle> => {
  const seed = options.seed ?? 1
  const apiKey = options.apiKey ?? "test-api-key"
  const maxTimes = options.maxRequestTimes ?? 100_000
  const rateLimit = options.rateLimit ?? RateLimit.digicertWindows
  const limiter = rateLimit === "off" ? undefined : RateLimit.make(rateLimit)
  const draw = Faults.makeDraw(options.faults ?? {}, seed)
  const latencyRandom = Random.make(Random.hash(seed, 0x1a7e))
  const orders = new Map<number, OrderScript.Behaviour>()
  for (const [id, behaviour] of Object.entries(options.orders ?? {})) orders.set(Number(id), behaviour)
  const queues = new Map<string, Array<Faults.Fault>>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const mutations = new WeakMap<Http.IncomingMessage, Faults.Fault>()
  let storm: { requests: number; until: number } | undefined
  // scripted outages; a start by request number is known once that request arrives
  const outages: Array<{ readonly outage: Faults.Outage; start: number | undefined; readonly totalMs: number }> = []
  let received = 0
  let listening = false
  let foreignNext = now()
  let stats = emptyStats()
  // counters kept apart from the snapshot so a reset does not lose requests in flight
  let inFlight = 0

  const enqueue = (entry: Faults.ScriptEntry) => {
    const key = `${entry.orderId}:${entry.endpoint ?? "*"}`
    const queue = queues.get(key)
    if (queue === undefined) queues.set(key, [...entry.faults])
    else queue.push(...entry.faults)
  }
  for (const entry of options.script ?? []) enqueue(entry)

  const takeScripted = (matched: Matched): Faults.Fault | undefined => {
    if (queues.size === 0 || matched.endpoint === undefined) return undefined
    const id = matched.orderId ?? matched.idText
    for (const key of [`${id}:${matched.endpoint}`, `${id}:*`, `*:${matched.endpoint}`, "*:*"]) {
      const queue = queues.get(key)
      if (queue !== undefined && queue.length > 0) {
        const fault = queue.shift()!
        if (queue.length === 0) queues.delete(key)
        return fault
      }
    }
    return undefined
  }

  const record = (status: number | "reset" | "hang") => {
    const key = String(status)
    stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1
    if (status === 429) stats.rateLimited++
  }

  // The account behind the two list endpoints; summaries are cached, they never change for a seed and id.
  const accountIds = new Set<number>(
    typeof options.account === "number"
      ? Account.generatedIds(options.account)
      : options.account ?? Account.defaultOrderIds
  )
  const summaries: Record<Account.ListEndpoint, Map<number, ReturnType<typeof Account.summary>>> = {
    listOrders: new Map(),
    listSubaccountOrders: new Map()
  }
  const listAnswer = (endpoint: Account.ListEndpoint, search: URLSearchParams): Answer =>
    Account.page(endpoint, seed, [...accountIds], search, (id) => {
      let summary = summaries[endpoint].get(id)
      if (summary === undefined) summaries[endpoint].set(id, summary = Account.summary(endpoint, seed, id))
      return summary
    })

  /** The normal answer of an endpoint, with the order scripts applied. */
  const answer = (
    endpoint: OrderData.Endpoint | Account.ListEndpoint,
    orderId: number | undefined,
    search: URLSearchParams
  ): Answer => {
    if (endpoint === "listOrders" || endpoint === "listSubaccountOrders") return listAnswer(endpoint, search)
    if (orderId === undefined) return { status: 404, body: errorBody("not_found|order", messages.order) }
    const behaviour = orders.get(orderId)
    const scripted = behaviour === undefined ? undefined : OrderScript.forEndpoint(behaviour, endpoint)
    if (scripted !== undefined) {
      const body = errorBody(scripted.code, scripted.message ?? scripted.code)
      return scripted.retryAfter === undefined
        ? { status: scripted.status, body }
        : { status: scripted.status, body, retryAfter: scripted.retryAfter }
    }
    const body = OrderData.render(endpoint, seed, orderId, {
      showArchived: truthy(search.get("show_archived")),
      includeValidationStatus: truthy(search.get("include_validation_status"))
    })
    return { status: 200, body }
  }

  const endpointHandler = (endpoint: OrderData.Endpoint | Account.ListEndpoint) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const params = yield* HttpRouter.params
      const url = new URL(request.url, "http://localhost")
      const result = answer(endpoint, parseOrderId(params.id ?? ""), url.searchParams)
      const mutation = mutations.get(NodeHttpServerRequest.toIncomingMessage(request))
      const body = result.status !== 200 || mutation === undefined
        ? result.body
        : mutation.kind === "unknownFields"
        ? OrderData.withUnknownFields(result.body)
        : endpoint === "listOrders" || endpoint === "listSubaccountOrders"
        ? Account.withUnknownStatus(result.body, Faults.unknownStatusValue)
        : OrderData.withUnknownStatus(result.body, Faults.unknownStatusValue)
      record(result.status)
      return HttpServerResponse.text(body, {
        status: result.status,
        contentType: "application/json",
        ...(result.retryAfter === undefined ? {} : { headers: { "retry-after": String(result.retryAfter) } })
      })
    })

  const router = HttpRouter.empty.pipe(
    HttpRouter.get(`${BASE_PATH}/order/certificate/:id/duplicate`, endpointHandler("duplicates")),
    HttpRouter.get(`${BASE_PATH}/order/certificate/:id/reissue`, endpointHandler("reissues")),
    HttpRouter.get(`${BASE_PATH}/account/subaccount/order/:id`, endpointHandler("subaccountOrder")),
    HttpRouter.get(`${BASE_PATH}/order/certificate`, endpointHandler("listOrders")),
    HttpRouter.get(`${BASE_PATH}/account/subaccount/order`, endpointHandler("listSubaccountOrders")),
    HttpRouter.all(
      "*",
      Effect.sync(() => {
        record(404)
        return HttpServerResponse.text(errorBody("not_found|route", messages.route), {
          status: 404,
          contentType: "application/json"
        })
      })
    )
  )
  const handleWithRouter = Effect.runSync(NodeHttpServer.makeHandler(router))
  // With `chunked`, answers go out with `Transfer-Encoding: chunked` and no `Content-Length`, as many servers and
  // proxies send them; the faults that are about the length (truncated, reset mid-body, oversized) keep theirs.
  const routerHandler = options.chunked === true
    ? (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      const writeHead = res.writeHead.bind(res)
      res.writeHead = ((status: number, headers?: Http.OutgoingHttpHeaders) => {
        const { "content-length": _, ...rest } = headers ?? {}
        return writeHead(status, rest)
      }) as typeof res.writeHead
      return handleWithRouter(req, res)
    }
    : handleWithRouter

  const later = (ms: number, f: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      f()
    }, ms)
    timers.add(timer)
  }

  const writeJson = (res: Http.ServerResponse, status: number, body: string, retryAfter?: number) => {
    record(status)
    const headers: Http.OutgoingHttpHeaders = { "content-type": "application/json" }
    if (options.chunked !== true) headers["content-length"] = Buffer.byteLength(body)
    if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter)
    res.writeHead(status, headers)
    res.end(body)
  }

  const destroy = (req: Http.IncomingMessage) => {
    record("reset")
    req.socket.destroy()
  }

  const limitAnswer = (res: Http.ServerResponse, retryAfter: number | undefined) =>
    writeJson(res, 429, errorBody("request_limit_exceeded", messages.limit), retryAfter)

  const configuredRetryAfter = options.retryAfter === undefined || options.retryAfter === false
    ? undefined
    : options.retryAfter

  // `{"certificates":[` then `0,` repeated: valid JSON so far, generated chunk by chunk as the socket drains; once the
  // client hangs up the response is destroyed and `pump` stops.
  const oversizedChunk = Buffer.from("0,".repeat(32 * 1024))
  const sendOversized = (res: Http.ServerResponse, bytes: number, declareLength: boolean) => {
    record(200)
    const head = Buffer.from("{\"certificates\":[")
    const headers: Http.OutgoingHttpHeaders = { "content-type": "application/json" }
    if (declareLength) headers["content-length"] = bytes
    res.writeHead(200, headers)
    let left = bytes
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const source = left === bytes ? head : oversizedChunk
        const chunk = source.length > left ? source.subarray(0, left) : source
        left -= chunk.length
        if (left === 0) return void res.end(chunk)
        if (!res.write(chunk)) return void res.once("drain", pump)
      }
    }
    pump()
  }

  const applyFault = (
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    matched: Matched,
    url: URL,
    fault: Faults.Fault
  ) => {
    const normal = () => answer(matched.endpoint!, matched.orderId, url.searchParams)
    switch (fault.kind) {
      case "serverError": {
        if (fault.html === true) {
          const body = htmlPage(fault.status)
          record(fault.status)
          const headers: Http.OutgoingHttpHeaders = {
            "content-type": "text/html",
            "content-length": Buffer.byteLength(body)
          }
          if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter)
          res.writeHead(fault.status, headers)
          res.end(body)
          return
        }
        const [code, message] = serverErrorCodes[fault.status] ?? ["server_error", "An error occurred."]
        return writeJson(res, fault.status, errorBody(code, message), fault.retryAfter)
      }
      case "rateLimited":
        return limitAnswer(res, fault.retryAfter ?? configuredRetryAfter)
      case "respond":
        return writeJson(res, fault.status, errorBody(fault.code, fault.message ?? fault.code), fault.retryAfter)
      case "resetBeforeBody":
        return destroy(req)
      case "resetDuringBody": {
        const bytes = Buffer.from(normal().body)
        record("reset")
        res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length })
        res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))), () => {
          later(20, () => req.socket.destroy())
        })
        return
      }
      case "truncatedJson": {
        const result = normal()
        const bytes = Buffer.from(result.body)
        const cut = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)))
        record(result.status)
        res.writeHead(result.status, { "content-type": "application/json", "content-length": cut.length })
        res.end(cut)
        return
      }
      case "slowHeaders":
        return later(fault.delayMs, () => routerHandler(req, res))
      case "slowBody": {
        const result = normal()
        const bytes = Buffer.from(result.body)
        const chunks = Math.min(10, bytes.length)
        const size = Math.ceil(bytes.length / chunks)
        record(result.status)
        res.writeHead(result.status, { "content-type": "application/json", "content-length": bytes.length })
        const send = (i: number) => {
          if (res.destroyed) return
          const last = (i + 1) * size >= bytes.length
          const chunk = bytes.subarray(i * size, (i + 1) * size)
          if (last) res.end(chunk)
          else {
            res.write(chunk)
            later(fault.delayMs / chunks, () => send(i + 1))
          }
        }
        send(0)
        return
      }
      case "unknownFields":
      case "unknownStatus":
        mutations.set(req, fault)
        return routerHandler(req, res)
      case "raw": {
        record(fault.status)
        res.writeHead(fault.status, {
          "content-type": fault.contentType ?? "application/json",
          "content-length": Buffer.byteLength(fault.body)
        })
        res.end(fault.body)
        return
      }
      case "oversized":
        return sendOversized(res, fault.bytes, fault.declareLength !== false)
    }
  }

  /** The outage phase in force at `time`, with its end. */
  const outagePhase = (time: number): { readonly answer: Faults.OutageAnswer; readonly end: number } | undefined => {
    for (const active of outages) {
      if (active.start === undefined || time < active.start || time >= active.start + active.totalMs) continue
      let end = active.start
      for (const phase of active.outage.phases) {
        end += phase.durationMs
        if (time < end) return { answer: phase.answer, end }
      }
    }
    return undefined
  }

  // Refused connections: the listening socket is closed for the phase and opened again on the same port after it.
  const startOutage = (active: (typeof outages)[number], start: number) => {
    active.start = start
    let offset = start
    for (const phase of active.outage.phases) {
      if (phase.answer.kind === "refused") {
        later(Math.max(0, offset - now()), stopListening)
        later(Math.max(0, offset + phase.durationMs - now()), listenAgain)
      }
      offset += phase.durationMs
    }
  }
  const addOutage = (outage: Faults.Outage, base: number) => {
    const totalMs = outage.phases.reduce((sum, phase) => sum + phase.durationMs, 0)
    const active = { outage, start: undefined as number | undefined, totalMs }
    outages.push(active)
    if ("atMs" in outage.start) startOutage(active, base + outage.start.atMs)
  }

  const answerOutage = (
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    phase: { readonly answer: Faults.OutageAnswer; readonly end: number }
  ) => {
    stats.outage++
    switch (phase.answer.kind) {
      case "unavailable":
        return writeJson(res, 503, errorBody(...serverErrorCodes[503]!), phase.answer.retryAfter)
      case "badGateway": {
        const body = htmlPage(502)
        record(502)
        res.writeHead(502, { "content-type": "text/html", "content-length": Buffer.byteLength(body) })
        res.end(body)
        return
      }
      case "reset":
      case "refused":
        return destroy(req)
      case "hang":
        record("hang")
        return later(Math.max(0, phase.end - now()), () => req.socket.destroy())
    }
  }

  const listener = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const arrival = now()
    received++
    for (const active of outages) {
      if (
        active.start === undefined && "atRequest" in active.outage.start && received >= active.outage.start.atRequest
      ) {
        startOutage(active, arrival)
      }
    }
    inFlight++
    stats.inFlight = inFlight
    if (inFlight > stats.peakConcurrency) stats.peakConcurrency = inFlight
    res.on("close", () => {
      inFlight--
      stats.inFlight = inFlight
    })
    stats.requests++
    stats.requestTimes.push(Math.round(arrival))
    if (stats.requestTimes.length > maxTimes * 2) stats.requestTimes.splice(0, stats.requestTimes.length - maxTimes)

    const url = new URL(req.url ?? "/", "http://localhost")
    const matched = match(req.method, url.pathname)
    stats.byRoute[matched.route]++

    const phase = outages.length === 0 ? undefined : outagePhase(arrival)
    if (phase !== undefined) return answerOutage(req, res, phase)

    let act: () => void
    const key = req.headers["x-dc-devkey"]
    if (key === undefined || key === "") {
      stats.keys.missing++
      act = () => writeJson(res, 401, errorBody("invalid_api_key", messages.missingKey))
    } else if (key !== apiKey) {
      stats.keys.invalid++
      act = () => writeJson(res, 401, errorBody("invalid_api_key", messages.invalidKey))
    } else {
      stats.keys.valid++
      act = admit(arrival, req, res, matched, url)
    }
    const latency = options.latency
    const delay = latency === undefined
      ? 0
      : Math.max(0, latency.meanMs + (latencyRandom() * 2 - 1) * (latency.jitterMs ?? 0))
    if (delay > 0) later(delay, act)
    else act()
  }

  /** Rate limits, storms and faults are decided when the request arrives; the answer may come later. */
  const admit = (
    arrival: number,
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    matched: Matched,
    url: URL
  ): () => void => {
    if (storm !== undefined) {
      if (storm.requests > 0 || arrival < storm.until) {
        storm.requests--
        return () => limitAnswer(res, configuredRetryAfter)
      }
      storm = undefined
    }
    if (limiter !== undefined) {
      catchUpForeignLoad(arrival)
      const decision = limiter.tryAcquire(arrival)
      if (!decision.admitted) return () => limitAnswer(res, configuredRetryAfter)
    }
    const fault = matched.endpoint === undefined ? undefined : takeScripted(matched) ?? draw()
    if (fault === undefined) return () => routerHandler(req, res)
    stats.faults[fault.kind] = (stats.faults[fault.kind] ?? 0) + 1
    return () => applyFault(req, res, matched, url, fault)
  }

  const foreign = (time: number) => {
    if (limiter === undefined) return
    if (limiter.tryAcquire(time).admitted) stats.foreign.admitted++
    else stats.foreign.refused++
  }

  const catchUpForeignLoad = (until: number) => {
    const rps = options.foreignLoad?.requestsPerSecond ?? 0
    if (rps <= 0 || limiter === undefined) return
    const step = 1000 / rps
    const horizon = Math.max(...limiter.windows.map((w) => w.windowMs))
    // arrivals older than the longest window no longer matter
    if (until - foreignNext > horizon) foreignNext = until - horizon
    while (foreignNext <= until) {
      foreign(foreignNext)
      foreignNext += step
    }
  }

  const server = Http.createServer((req, res) => {
    if (res.shouldKeepAlive) res.setHeader("keep-alive", KEEP_ALIVE_HINT)
    listener(req, res)
  })
  server.keepAliveTimeout = KEEP_IDLE_MS
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      resolve()
    })
  })
  listening = true
  const address = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  function stopListening() {
    if (!listening) return
    listening = false
    server.close()
    server.closeAllConnections()
  }
  function listenAgain() {
    if (listening || closed !== undefined) return
    listening = true
    // the port may still be held for a moment: try again shortly rather than crash on an 'error' event
    const retry = () => {
      server.off("listening", done)
      listening = false
      later(50, listenAgain)
    }
    const done = () => server.off("error", retry)
    server.once("error", retry)
    server.once("listening", done)
    server.listen(address.port, address.address)
  }
  const startedAt = now()
  for (const outage of options.outages ?? []) addOutage(outage, startedAt)
  const host = address.address.includes(":") ? `[${address.address}]` : address.address
  foreignNext = now()

  return {
    port: address.port,
    baseUrl: `http://${host}:${address.port}${BASE_PATH}`,
    apiKey,
    stats: () => ({
      ...stats,
      byRoute: { ...stats.byRoute },
      byStatus: { ...stats.byStatus },
      faults: { ...stats.faults },
      requestTimes: stats.requestTimes.slice(-maxTimes),
      keys: { ...stats.keys },
      foreign: { ...stats.foreign }
    }),
    resetStats: () => {
      stats = emptyStats()
      stats.inFlight = inFlight
    },
    resetRateLimit: () => limiter?.reset(),
    script: (entry) => enqueue(entry),
    clearScript: () => queues.clear(),
    setOrder: (orderId, behaviour) => {
      if (behaviour === undefined) orders.delete(orderId)
      else orders.set(orderId, behaviour)
    },
    rateLimitStorm: (storm_) => {
      storm = { requests: storm_.requests ?? 0, until: storm_.durationMs === undefined ? 0 : now() + storm_.durationMs }
    },
    outage: (outage) => addOutage(outage, now()),
    addOrders: (orderIds) => {
      for (const id of orderIds) {
        if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`order ids are positive integers, got ${id}`)
      }
      for (const id of orderIds) accountIds.add(id)
    },
    orderIds: () => [...accountIds].sort((a, b) => a - b),
    addForeignArrivals: (count) => {
      const t = now()
      for (let i = 0; i < count; i++) foreign(t)
    },
    close: () => {
      if (closed === undefined) {
        closed = new Promise<void>((resolve) => {
          for (const timer of timers) clearTimeout(timer)
          timers.clear()
          if (listening) server.close(() => resolve())
          else resolve()
          listening = false
          server.closeAllConnections()
        })
      }
      return closed
    }
  }
}
