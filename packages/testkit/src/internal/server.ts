import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { Handle, Options } from "../TestServer.js"
import * as Handler from "./handler.js"

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

const oversizedChunk = Buffer.from("0,".repeat(32 * 1024))
const oversizedHead = Buffer.from("{\"certificates\":[")

/** The socket face: the handler on the live clock, its replies written to node:http, socket faults made real. */
export const start = async (options: Options = {}): Promise<Handle> => {
  const handler = Effect.runSync(Handler.make(options))
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const fibers = new Set<Fiber.RuntimeFiber<Handler.Reply>>()
  let listening = false
  let closed: Promise<void> | undefined

  const later = (ms: number, f: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      f()
    }, ms)
    timers.add(timer)
  }

  // A body sent chunk by chunk as the socket drains; once the client hangs up the response is destroyed and it stops.
  const sendOversized = (res: Http.ServerResponse, bytes: number) => {
    let left = bytes
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const source = left === bytes ? oversizedHead : oversizedChunk
        const chunk = source.length > left ? source.subarray(0, left) : source
        left -= chunk.length
        if (left === 0) return void res.end(chunk)
        if (!res.write(chunk)) return void res.once("drain", pump)
      }
    }
    pump()
  }

  const write = (req: Http.IncomingMessage, res: Http.ServerResponse, reply: Handler.Reply) => {
    switch (reply._tag) {
      case "Reset":
        return void req.socket.destroy()
      case "Respond": {
        // with `chunked`, answers go out with `Transfer-Encoding: chunked`; the faults about the length keep theirs
        const headers: Http.OutgoingHttpHeaders = { ...reply.headers }
        if (!(options.chunked === true && reply.chunkable)) headers["content-length"] = reply.body.length
        res.writeHead(reply.status, headers)
        return void res.end(reply.body)
      }
      case "Dribble": {
        res.writeHead(reply.status, reply.headers)
        const send = (i: number) => {
          if (res.destroyed) return
          const chunk = reply.chunks[i]!
          if (i === reply.chunks.length - 1) res.end(chunk)
          else {
            res.write(chunk)
            later(reply.delayMs, () => send(i + 1))
          }
        }
        return send(0)
      }
      case "ResetDuringBody":
        res.writeHead(200, reply.headers)
        return void res.write(reply.partial, () => later(20, () => req.socket.destroy()))
      case "Oversized":
        res.writeHead(200, {
          "content-type": "application/json",
          ...(reply.declareLength ? { "content-length": reply.bytes } : {})
        })
        return sendOversized(res, reply.bytes)
    }
  }

  const server = Http.createServer((req, res) => {
    if (res.shouldKeepAlive) res.setHeader("keep-alive", KEEP_ALIVE_HINT)
    handler.enter()
    res.on("close", handler.leave)
    const key = req.headers["x-dc-devkey"]
    const fiber = Effect.runFork(handler.handle({
      method: req.method ?? "GET",
      url: req.url ?? "/",
      key: Array.isArray(key) ? key[0] : key
    }))
    fibers.add(fiber)
    fiber.addObserver((exit) => {
      fibers.delete(fiber)
      if (exit._tag === "Success") write(req, res, exit.value)
      else req.socket.destroy()
    })
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

  // Refused connections: the listening socket is closed for the phase and opened again on the same port after it.
  const stopListening = () => {
    if (!listening) return
    listening = false
    server.close()
    server.closeAllConnections()
  }
  const listenAgain = () => {
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
  handler.onRefused((fromMs, toMs) => {
    const time = Effect.runSync(Handler.now)
    later(Math.max(0, fromMs - time), stopListening)
    later(Math.max(0, toMs - time), listenAgain)
  })

  const host = address.address.includes(":") ? `[${address.address}]` : address.address
  return {
    port: address.port,
    baseUrl: `http://${host}:${address.port}${Handler.BASE_PATH}`,
    apiKey: handler.apiKey,
    stats: handler.stats,
    resetStats: handler.resetStats,
    resetRateLimit: handler.resetRateLimit,
    script: handler.script,
    clearScript: handler.clearScript,
    setOrder: handler.setOrder,
    rateLimitStorm: (storm) => Effect.runSync(handler.rateLimitStorm(storm)),
    outage: (outage) => Effect.runSync(handler.outage(outage)),
    addOrders: handler.addOrders,
    orderIds: handler.orderIds,
    addForeignArrivals: (count) => Effect.runSync(handler.addForeignArrivals(count)),
    hold: handler.hold,
    release: handler.release,
    close: () => {
      if (closed === undefined) {
        closed = new Promise<void>((resolve) => {
          for (const timer of timers) clearTimeout(timer)
          timers.clear()
          for (const fiber of fibers) Effect.runFork(Fiber.interrupt(fiber))
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
