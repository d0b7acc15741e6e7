import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Account from "../Account.js"
import * as AccountHistory from "../AccountHistory.js"
import * as Faults from "../Faults.js"
import * as OrderData from "../OrderData.js"
import * as OrderScript from "../OrderScript.js"
import * as RateLimit from "../RateLimit.js"
import type { HoldOptions, Options, Stats, Storm } from "../StandIn.js"
import * as Random from "./random.js"
import {
  type Answer,
  BASE_PATH,
  encoder,
  errorBody,
  fixed,
  htmlPage,
  json,
  match,
  type Matched,
  messages,
  type Reply,
  type Request,
  serverErrorCodes,
  truthy
} from "./routes.js"

export { BASE_PATH, errorBody, type Reply, type Request } from "./routes.js"

export const emptyStats = (): Stats => ({
  requests: 0,
  byRoute: {
    duplicates: 0,
    reissues: 0,
    subaccountOrder: 0,
    listOrders: 0,
    listSubaccountOrders: 0,
    listStatusChanges: 0,
    unknown: 0
  },
  byStatus: {},
  rateLimited: 0,
  faults: {},
  inFlight: 0,
  held: 0,
  peakConcurrency: 0,
  requestTimes: [],
  outage: 0,
  keys: { valid: 0, invalid: 0, missing: 0 },
  foreign: { admitted: 0, refused: 0 }
})

/** Milliseconds since the epoch on the Effect clock; nanos because the live clock's are monotonic, its millis not. */
export const now: Effect.Effect<number> = Effect.map(Clock.currentTimeNanos, (nanos) => Number(nanos / 1000n) / 1000)

/** The stand-in's state and its one handler; everything that reads time reads the Effect clock of the caller. */
export interface Handler {
  readonly apiKey: string
  readonly handle: (request: Request) => Effect.Effect<Reply>
  /** Requests in flight: a face calls `enter` when a request arrives and `leave` when its answer is done. */
  readonly enter: () => void
  readonly leave: () => void
  /** Calls `f(fromMs, toMs)` for every refused phase of an outage when that outage starts (the socket face closes). */
  readonly onRefused: (f: (fromMs: number, toMs: number) => void) => void
  readonly stats: () => Stats
  readonly resetStats: () => void
  readonly resetRateLimit: () => void
  readonly script: (entry: Faults.ScriptEntry) => void
  readonly clearScript: () => void
  readonly setOrder: (orderId: number, behaviour: OrderScript.Behaviour | undefined) => void
  readonly rateLimitStorm: (storm: Storm) => Effect.Effect<void>
  readonly outage: (outage: Faults.Outage) => Effect.Effect<void>
  readonly addOrders: (orderIds: ReadonlyArray<number>) => void
  readonly orderIds: () => ReadonlyArray<number>
  readonly addForeignArrivals: (count: number) => Effect.Effect<void>
  /** Requests that arrive from now on wait, after the first `afterRequests` of them, until {@link release}. */
  readonly hold: (options?: HoldOptions) => void
  /** Lets every held request go on, in arrival order, and holds no more. */
  readonly release: () => void
}

interface ActiveOutage {
  readonly outage: Faults.Outage
  start: number | undefined
  readonly totalMs: number
}

export const make = (options: Options = {}): Effect.Effect<Handler> =>
  Effect.map(now, (startedAt) => {
    const seed = options.seed ?? 1
    const apiKey = options.apiKey ?? "test-api-key"
    const maxTimes = options.maxRequestTimes ?? 100_000
    const rateLimit = options.rateLimit ?? RateLimit.digicertWindows
    const limiter = rateLimit === "off" ? undefined : RateLimit.make(rateLimit)
    const draw = Faults.makeDraw(options.faults ?? {}, seed)
    const latencyRandom = Random.make(Random.hash(seed, 0x1a7e))
    const configuredRetryAfter = options.retryAfter === undefined || options.retryAfter === false
      ? undefined
      : options.retryAfter
    const orders = new Map<number, OrderScript.Behaviour>()
    for (const [id, behaviour] of Object.entries(options.orders ?? {})) orders.set(Number(id), behaviour)
    const queues = new Map<string, Array<Faults.Fault>>()
    const refusedListeners: Array<(fromMs: number, toMs: number) => void> = []
    let storm: { requests: number; until: number } | undefined
    const outages: Array<ActiveOutage> = []
    let received = 0
    let foreignNext = startedAt
    let stats = emptyStats()
    // kept apart from the snapshot so a reset does not lose requests in flight
    let inFlight = 0
    // the hold: how many more arrivals pass before requests wait (undefined: no hold); the waiting ones in arrival order
    let passing: number | undefined
    const held = new Set<() => void>()

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
    const recorded = (reply: Reply): Reply => {
      record(
        reply._tag === "Respond" || reply._tag === "Dribble" ? reply.status : reply._tag === "Oversized" ? 200 : "reset"
      )
      return reply
    }

    // The account behind the two list endpoints; summaries never change for a seed and id, so they are cached.
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

    const history = options.history
    /** The normal answer of an endpoint at `at`, with the order scripts applied. */
    const answer = (matched: Matched, search: URLSearchParams, at: number): Answer => {
      const endpoint = matched.endpoint!
      const orderId = matched.orderId
      const perOrder = endpoint === "duplicates" || endpoint === "reissues" || endpoint === "subaccountOrder"
      if (perOrder && orderId !== undefined) {
        const behaviour = orders.get(orderId)
        const scripted = behaviour === undefined ? undefined : OrderScript.forEndpoint(behaviour, endpoint)
        if (scripted !== undefined) {
          return {
            status: scripted.status,
            body: errorBody(scripted.code, scripted.message ?? scripted.code),
            retryAfter: scripted.retryAfter
          }
        }
      }
      // a changing account answers as of the request's arrival on the handler's clock
      if (history !== undefined) {
        return AccountHistory.answer(history, matched.path.slice(BASE_PATH.length), search, Math.floor(at))
      }
      if (endpoint === "listStatusChanges") {
        return { status: 400, body: errorBody("missing_history", "This stand-in has no history of status changes.") }
      }
      if (!perOrder) return listAnswer(endpoint, search)
      if (orderId === undefined) return { status: 404, body: errorBody("not_found|order", messages.order) }
      const body = OrderData.render(endpoint, seed, orderId, {
        showArchived: truthy(search.get("show_archived")),
        includeValidationStatus: truthy(search.get("include_validation_status"))
      })
      return { status: 200, body }
    }

    const limitReply = (retryAfter: number | undefined) =>
      json(429, errorBody("request_limit_exceeded", messages.limit), retryAfter)

    const normalReply = (matched: Matched, search: URLSearchParams, at: number, mutate?: Faults.Fault): Reply => {
      if (matched.endpoint === undefined) return json(404, errorBody("not_found|route", messages.route))
      const result = answer(matched, search, at)
      const listing = matched.endpoint === "listOrders" || matched.endpoint === "listSubaccountOrders" ||
        matched.endpoint === "listStatusChanges"
      const body = result.status !== 200 || mutate === undefined
        ? result.body
        : mutate.kind === "unknownFields"
        ? OrderData.withUnknownFields(result.body)
        : listing
        ? Account.withUnknownStatus(result.body, Faults.unknownStatusValue)
        : OrderData.withUnknownStatus(result.body, Faults.unknownStatusValue)
      return json(result.status, body, result.retryAfter)
    }

    const applyFault = (
      matched: Matched,
      search: URLSearchParams,
      at: number,
      fault: Faults.Fault
    ): Effect.Effect<Reply> => {
      const normal = () => answer(matched, search, at)
      switch (fault.kind) {
        case "serverError": {
          if (fault.html === true) {
            return Effect.succeed(
              fixed(fault.status, "text/html", encoder.encode(htmlPage(fault.status)), fault.retryAfter)
            )
          }
          const [code, message] = serverErrorCodes[fault.status] ?? ["server_error", "An error occurred."]
          return Effect.succeed(json(fault.status, errorBody(code, message), fault.retryAfter))
        }
        case "rateLimited":
          return Effect.succeed(limitReply(fault.retryAfter ?? configuredRetryAfter))
        case "respond":
          return Effect.succeed(
            json(fault.status, errorBody(fault.code, fault.message ?? fault.code), fault.retryAfter)
          )
        case "resetBeforeBody":
          return Effect.succeed({ _tag: "Reset" })
        case "resetDuringBody": {
          const bytes = encoder.encode(normal().body)
          return Effect.succeed({
            _tag: "ResetDuringBody",
            headers: { "content-type": "application/json", "content-length": String(bytes.length) },
            partial: bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)))
          })
        }
        case "truncatedJson": {
          const result = normal()
          const bytes = encoder.encode(result.body)
          return Effect.succeed(
            fixed(result.status, "application/json", bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))))
          )
        }
        case "slowHeaders":
          return Effect.as(Effect.sleep(fault.delayMs), normalReply(matched, search, at))
        case "slowBody": {
          const result = normal()
          const bytes = encoder.encode(result.body)
          const count = Math.min(10, bytes.length)
          const size = Math.ceil(bytes.length / count)
          const chunks = Array.from({ length: count }, (_, i) => bytes.subarray(i * size, (i + 1) * size))
          return Effect.succeed({
            _tag: "Dribble",
            status: result.status,
            headers: { "content-type": "application/json", "content-length": String(bytes.length) },
            chunks: chunks.filter((chunk) => chunk.length > 0),
            // whole milliseconds, as for latency below
            delayMs: Math.round(fault.delayMs / count)
          })
        }
        case "unknownFields":
        case "unknownStatus":
          return Effect.succeed(normalReply(matched, search, at, fault))
        case "raw":
          return Effect.succeed(
            fixed(fault.status, fault.contentType ?? "application/json", encoder.encode(fault.body))
          )
        case "oversized":
          return Effect.succeed({ _tag: "Oversized", bytes: fault.bytes, declareLength: fault.declareLength !== false })
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

    const startOutage = (active: ActiveOutage, start: number) => {
      active.start = start
      let offset = start
      for (const phase of active.outage.phases) {
        if (phase.answer.kind === "refused") { for (const f of refusedListeners) f(offset, offset + phase.durationMs) }
        offset += phase.durationMs
      }
    }
    const addOutage = (outage: Faults.Outage, base: number) => {
      const totalMs = outage.phases.reduce((sum, phase) => sum + phase.durationMs, 0)
      const active: ActiveOutage = { outage, start: undefined, totalMs }
      outages.push(active)
      if ("atMs" in outage.start) startOutage(active, base + outage.start.atMs)
    }
    // outages of the options start once a face has had the chance to listen for refused phases
    let optionOutagesAdded = false
    const addOptionOutages = () => {
      if (optionOutagesAdded) return
      optionOutagesAdded = true
      for (const outage of options.outages ?? []) addOutage(outage, startedAt)
    }

    const answerOutage = (phase: { readonly answer: Faults.OutageAnswer; readonly end: number }, arrival: number) => {
      stats.outage++
      switch (phase.answer.kind) {
        case "unavailable":
          return Effect.succeed(
            recorded(json(503, errorBody(...serverErrorCodes[503]!), phase.answer.retryAfter))
          )
        case "badGateway":
          return Effect.succeed(recorded(fixed(502, "text/html", encoder.encode(htmlPage(502)))))
        case "reset":
        case "refused":
          return Effect.succeed(recorded({ _tag: "Reset" }))
        case "hang":
          record("hang")
          return Effect.as(Effect.sleep(Math.max(0, phase.end - arrival)), { _tag: "Reset" } as Reply)
      }
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

    /** Rate limits, storms and faults are decided when the request arrives; the answer may come later. */
    const admit = (arrival: number, matched: Matched, search: URLSearchParams): Effect.Effect<Reply> => {
      if (storm !== undefined) {
        if (storm.requests > 0 || arrival < storm.until) {
          storm.requests--
          return Effect.sync(() => limitReply(configuredRetryAfter))
        }
        storm = undefined
      }
      if (limiter !== undefined) {
        catchUpForeignLoad(arrival)
        if (!limiter.tryAcquire(arrival).admitted) return Effect.sync(() => limitReply(configuredRetryAfter))
      }
      const fault = matched.endpoint === undefined ? undefined : takeScripted(matched) ?? draw()
      if (fault === undefined) return Effect.sync(() => normalReply(matched, search, arrival))
      stats.faults[fault.kind] = (stats.faults[fault.kind] ?? 0) + 1
      return applyFault(matched, search, arrival, fault)
    }

    /** In front of everything else: a held request is not seen (counted, timed, limited) until it is released. */
    const gate: Effect.Effect<void> = Effect.suspend(() => {
      if (passing === undefined) return Effect.void
      if (passing > 0) {
        passing--
        return Effect.void
      }
      return Effect.async<void>((resume) => {
        const go = () => resume(Effect.void)
        held.add(go)
        // an interrupted caller (in memory) leaves the queue
        return Effect.sync(() => held.delete(go))
      })
    })

    /** A request as the stand-in sees it when it arrives (or, held, when it is released). */
    const arrive = (request: Request): Effect.Effect<Reply> =>
      Effect.flatMap(now, (arrival) => {
        addOptionOutages()
        received++
        for (const active of outages) {
          const start = active.outage.start
          if (active.start === undefined && "atRequest" in start && received >= start.atRequest) {
            startOutage(active, arrival)
          }
        }
        stats.requests++
        stats.requestTimes.push(Math.round(arrival))
        if (stats.requestTimes.length > maxTimes * 2) stats.requestTimes.splice(0, stats.requestTimes.length - maxTimes)

        const url = new URL(request.url, "http://localhost")
        const matched = match(request.method, url.pathname)
        stats.byRoute[matched.route]++

        const phase = outages.length === 0 ? undefined : outagePhase(arrival)
        if (phase !== undefined) return answerOutage(phase, arrival)

        let act: Effect.Effect<Reply>
        if (request.key === undefined || request.key === "") {
          stats.keys.missing++
          act = Effect.sync(() => json(401, errorBody("invalid_api_key", messages.missingKey)))
        } else if (request.key !== apiKey) {
          stats.keys.invalid++
          act = Effect.sync(() => json(401, errorBody("invalid_api_key", messages.invalidKey)))
        } else {
          stats.keys.valid++
          act = admit(arrival, matched, url.searchParams)
        }
        const latency = options.latency
        // whole milliseconds: a fractional sleep leaves TestClock at an instant its currentTimeNanos cannot convert
        const delay = latency === undefined
          ? 0
          : Math.max(0, Math.round(latency.meanMs + (latencyRandom() * 2 - 1) * (latency.jitterMs ?? 0)))
        return Effect.map(delay > 0 ? Effect.zipRight(Effect.sleep(delay), act) : act, recorded)
      })

    // without a hold (nearly always) the gate is not even built
    const handle = (request: Request): Effect.Effect<Reply> =>
      passing === undefined ? arrive(request) : Effect.zipRight(gate, arrive(request))

    return {
      apiKey,
      handle,
      enter: () => {
        inFlight++
        stats.inFlight = inFlight
        if (inFlight > stats.peakConcurrency) stats.peakConcurrency = inFlight
      },
      leave: () => {
        inFlight--
        stats.inFlight = inFlight
      },
      onRefused: (f) => {
        refusedListeners.push(f)
        addOptionOutages()
      },
      stats: () => ({
        ...stats,
        byRoute: { ...stats.byRoute },
        byStatus: { ...stats.byStatus },
        faults: { ...stats.faults },
        held: held.size,
        requestTimes: stats.requestTimes.slice(-maxTimes),
        keys: { ...stats.keys },
        foreign: { ...stats.foreign }
      }),
      resetStats: () => {
        stats = emptyStats()
        stats.inFlight = inFlight
      },
      resetRateLimit: () => limiter?.reset(),
      script: enqueue,
      clearScript: () => queues.clear(),
      setOrder: (orderId, behaviour) => {
        if (behaviour === undefined) orders.delete(orderId)
        else orders.set(orderId, behaviour)
      },
      rateLimitStorm: (next) =>
        Effect.map(now, (time) => {
          storm = { requests: next.requests ?? 0, until: next.durationMs === undefined ? 0 : time + next.durationMs }
        }),
      outage: (outage) =>
        Effect.map(now, (time) => {
          addOptionOutages()
          addOutage(outage, time)
        }),
      addOrders: (orderIds) => {
        for (const id of orderIds) {
          if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`order ids are positive integers, got ${id}`)
        }
        for (const id of orderIds) accountIds.add(id)
      },
      orderIds: () => [...accountIds].sort((a, b) => a - b),
      addForeignArrivals: (count) =>
        Effect.map(now, (time) => {
          for (let i = 0; i < count; i++) foreign(time)
        }),
      hold: (hold) => {
        const after = hold?.afterRequests ?? 0
        if (!Number.isSafeInteger(after) || after < 0) {
          throw new RangeError(`afterRequests is a non-negative integer, got ${after}`)
        }
        passing = after
      },
      release: () => {
        passing = undefined
        const waiting = [...held]
        held.clear()
        for (const go of waiting) go()
      }
    }
  })
