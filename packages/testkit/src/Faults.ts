/**
 * Fault injection: what can go wrong with a response, drawn by probability from a seed or scripted per order and
 * endpoint as a queue that each matching request consumes.
 *
 * @since 0.1.0
 */
import { RollingWindowLimiter } from "@certcentral/core"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Random from "./internal/random.js"
import type { Endpoint } from "./OrderData.js"

/**
 * One fault applied to one request (after the key check and the rate limiter admitted it).
 *
 * - `serverError`: `status` (500, 502, 503, 504 or any other) with DigiCert's JSON error body, or with an HTML page
 *   as a proxy sends it (`html: true`, `Content-Type: text/html`), and `Retry-After: <seconds>` when given.
 * - `rateLimited`: one 429 `request_limit_exceeded` (for storms see `TestServer.Service.rateLimitStorm`).
 * - `respond`: any status with DigiCert's error body `{"errors":[{"code","message"}]}`.
 * - `resetBeforeBody`: the socket is destroyed before any byte of a response.
 * - `resetDuringBody`: headers and part of the body are sent with a `Content-Length` for the whole body, then the
 *   socket is destroyed.
 * - `truncatedJson`: a complete 200 response whose JSON body is cut short (`Content-Length` matches what is sent).
 * - `slowHeaders`: the normal response, after `delayMs` without a byte.
 * - `slowBody`: the normal headers at once, then the body dribbled in small chunks over `delayMs`.
 * - `unknownFields`: the normal body with extra fields DigiCert might add one day, at every object level.
 * - `unknownStatus`: the normal body with a `status` value no documentation lists.
 * - `raw`: exactly the given status, `Content-Type` and body, as a broken or hostile API might answer (an HTML page
 *   with status 200, JSON of the wrong shape, `__proto__` keys, a valid body with crafted values).
 * - `oversized`: a 200 `application/json` body of `bytes` bytes, generated as it is sent (the server never holds it),
 *   with a `Content-Length` unless `declareLength: false`. Sending stops when the client hangs up.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | {
    readonly kind: "serverError"
    readonly status: number
    readonly retryAfter?: number
    readonly html?: boolean
  }
  | { readonly kind: "rateLimited"; readonly retryAfter?: number }
  | {
    readonly kind: "respond"
    readonly status: number
    readonly code: string
    readonly message?: string
    readonly retryAfter?: number
  }
  | { readonly kind: "resetBeforeBody" }
  | { readonly kind: "resetDuringBody" }
  | { readonly kind: "truncatedJson" }
  | { readonly kind: "slowHeaders"; readonly delayMs: number }
  | { readonly kind: "slowBody"; readonly delayMs: number }
  | { readonly kind: "unknownFields" }
  | { readonly kind: "unknownStatus" }
  | { readonly kind: "raw"; readonly status: number; readonly body: string; readonly contentType?: string }
  | { readonly kind: "oversized"; readonly bytes: number; readonly declareLength?: boolean }

/**
 * The name of each fault kind.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = Fault["kind"]

/**
 * Fault kinds that can be drawn by probability.
 *
 * @since 0.1.0
 * @category constants
 */
export const probabilisticKinds = [
  "serverError",
  "rateLimited",
  "resetBeforeBody",
  "resetDuringBody",
  "truncatedJson",
  "slowHeaders",
  "slowBody",
  "unknownFields",
  "unknownStatus"
] as const

/**
 * Probabilistic faults: each field is the chance (0..1) that a request gets that fault; one draw per request from a
 * generator seeded with `seed` (default: the server's seed), so a run with the same arrival order is repeatable.
 * `serverError` picks 500/502/503/504 at random, half of them with `Retry-After: 1`, a third with an HTML body.
 *
 * @since 0.1.0
 * @category models
 */
export type Probabilities =
  & { readonly [K in (typeof probabilisticKinds)[number]]?: number }
  & {
    readonly seed?: number
    /** Delay used by `slowHeaders` and `slowBody` (default 1000 ms). */
    readonly slowMs?: number
  }

/**
 * A queue of faults for one order (or `"*"`: any order) on one endpoint (or `"*"` / absent: all three). Each
 * request that matches takes the next fault; when the queue is empty the order answers normally again.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptEntry {
  readonly orderId: number | "*"
  readonly endpoint?: Endpoint | "listOrders" | "listSubaccountOrders" | "listStatusChanges" | "*"
  readonly faults: ReadonlyArray<Fault>
}

/**
 * `n` times the same fault, for script queues: `Faults.times(2, Faults.serverError(503))`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const times = (n: number, fault: Fault): ReadonlyArray<Fault> => Array.from({ length: n }, () => fault)

/**
 * A 5xx (or any status) with DigiCert's JSON error body, or an HTML page with `html: true`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serverError = (
  status: number,
  options?: { readonly retryAfter?: number; readonly html?: boolean }
): Fault => ({ kind: "serverError", status, ...options })

/**
 * Any status with a DigiCert error body, e.g. `Faults.respond(403, "access_denied|missing_permission")`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const respond = (status: number, code: string, message?: string): Fault =>
  message === undefined ? { kind: "respond", status, code } : { kind: "respond", status, code, message }

/**
 * Socket destroyed before the response.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resetBeforeBody: Fault = { kind: "resetBeforeBody" }

/**
 * Socket destroyed after the headers and part of the body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resetDuringBody: Fault = { kind: "resetDuringBody" }

/**
 * A complete response carrying cut JSON.
 *
 * @since 0.1.0
 * @category constructors
 */
export const truncatedJson: Fault = { kind: "truncatedJson" }

/**
 * Extra unknown fields in a valid body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unknownFields: Fault = { kind: "unknownFields" }

/**
 * An unknown status value in a valid body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unknownStatus: Fault = { kind: "unknownStatus" }

/**
 * Exactly this answer: `Faults.raw(200, "<html>Maintenance</html>", "text/html")`. The content type defaults to
 * `application/json`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const raw = (status: number, body: string, contentType?: string): Fault =>
  contentType === undefined ? { kind: "raw", status, body } : { kind: "raw", status, body, contentType }

/**
 * A 200 JSON body of `bytes` bytes (an array that never closes in time), with or without a `Content-Length`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oversized = (bytes: number, options?: { readonly declareLength?: boolean }): Fault => {
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`oversized: bytes must be a positive integer`)
  return options?.declareLength === undefined
    ? { kind: "oversized", bytes }
    : { kind: "oversized", bytes, declareLength: options.declareLength }
}

/**
 * The status value injected by `unknownStatus`.
 *
 * @since 0.1.0
 * @category constants
 */
export const unknownStatusValue = "awaiting_future_check"

/**
 * Draw at most one fault per call from {@link Probabilities}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDraw = (probabilities: Probabilities, defaultSeed: number): () => Fault | undefined => {
  const random = Random.make(Random.hash(probabilities.seed ?? defaultSeed, 0xfa17))
  const slowMs = probabilities.slowMs ?? 1000
  const table = probabilisticKinds.flatMap((kind) => {
    const p = probabilities[kind] ?? 0
    return p > 0 ? [[kind, p] as const] : []
  })
  if (table.length === 0) return () => undefined
  return () => {
    let r = random()
    for (const [kind, p] of table) {
      if (r < p) return concrete(kind, random, slowMs)
      r -= p
    }
    return undefined
  }
}

const concrete = (kind: (typeof probabilisticKinds)[number], random: Random.Random, slowMs: number): Fault => {
  switch (kind) {
    case "serverError": {
      const status = Random.pick(random, [500, 502, 503, 504])
      const html = random() < 1 / 3
      return random() < 0.5 ? { kind, status, html, retryAfter: 1 } : { kind, status, html }
    }
    case "slowHeaders":
    case "slowBody":
      return { kind, delayMs: slowMs }
    case "rateLimited":
    case "resetBeforeBody":
    case "resetDuringBody":
    case "truncatedJson":
    case "unknownFields":
    case "unknownStatus":
      return { kind }
  }
}

/**
 * Parse the bin's `--faults` spec: `kind=probability` pairs joined by commas, plus `seed=N` and `slowMs=N`, e.g.
 * `serverError=0.02,resetDuringBody=0.01,seed=7`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (spec: string): Either.Either<Probabilities, string> => {
  const out: Record<string, number> = {}
  for (const part of spec.split(",")) {
    const match = /^\s*(\w+)\s*=\s*([0-9.]+)\s*$/.exec(part)
    if (match === null) return Either.left(`invalid fault "${part}" (expected kind=probability)`)
    const [, key, text] = match
    const value = Number(text)
    if (!Number.isFinite(value)) return Either.left(`invalid number in fault "${part}"`)
    if (key === "seed" || key === "slowMs") {
      if (!Number.isSafeInteger(value)) return Either.left(`${key} must be an integer in "${part}"`)
    } else if (!(probabilisticKinds as ReadonlyArray<string>).includes(key)) {
      return Either.left(`unknown fault kind "${key}" (one of ${probabilisticKinds.join(", ")}, seed, slowMs)`)
    } else if (value > 1) {
      return Either.left(`fault probability must be between 0 and 1 in "${part}"`)
    }
    out[key] = value
  }
  const total = probabilisticKinds.reduce((sum, kind) => sum + (out[kind] ?? 0), 0)
  if (total > 1) return Either.left(`fault probabilities add up to more than 1 (${total})`)
  return Either.right(out as Probabilities)
}

/**
 * How the server answers during one phase of an outage, whatever the request (the key is not even checked, as when
 * a load balancer or a maintenance page answers in DigiCert's place):
 *
 * - `unavailable`: 503 with DigiCert's JSON error body `service_unavailable`, with `Retry-After: <seconds>` when given.
 * - `badGateway`: 502 with an HTML page, as a proxy sends it.
 * - `reset`: the connection is destroyed before any byte of a response.
 * - `refused`: the listening socket is closed (and open connections dropped) for the phase, so connections are
 *   refused; it listens again on the same port when the phase ends.
 * - `hang`: no answer at all; the connection is destroyed when the phase ends (past any sane client timeout).
 *
 * @since 0.2.0
 * @category models
 */
export type OutageAnswer =
  | { readonly kind: "unavailable"; readonly retryAfter?: number }
  | { readonly kind: "badGateway" }
  | { readonly kind: "reset" }
  | { readonly kind: "refused" }
  | { readonly kind: "hang" }

/**
 * A scripted outage: from a time (`atMs` after the server started, or after `TestServer.outage` was called) or from
 * the `atRequest`-th request the server receives (1 = the first), one phase after the other, each answering every
 * request the same way for `durationMs`. The API is back when the last phase ends.
 *
 * @since 0.2.0
 * @category models
 */
export interface Outage {
  readonly start: { readonly atMs: number } | { readonly atRequest: number }
  readonly phases: ReadonlyArray<{ readonly durationMs: number; readonly answer: OutageAnswer }>
}

/**
 * An outage of one phase: `Faults.outage({ atMs: 2000 }, 20_000, { kind: "unavailable" })`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const outage = (start: Outage["start"], durationMs: number, answer: OutageAnswer): Outage => ({
  start,
  phases: [{ durationMs, answer }]
})

const OUTAGE_ANSWERS: Record<string, OutageAnswer> = {
  unavailable: { kind: "unavailable" },
  "503": { kind: "unavailable" },
  badgateway: { kind: "badGateway" },
  "502": { kind: "badGateway" },
  reset: { kind: "reset" },
  refused: { kind: "refused" },
  hang: { kind: "hang" }
}

// Core's duration grammar (`N` then `ms`, `s`, `m` or `h`), the one `--rate-limit` reads, reached through its window
// parser: core exports no duration parser of its own. That parser wants at least 1, so a zero start is read as 1.
const durationMs = (text: string): number | undefined => {
  const zero = /^0+(?=\D)/.exec(text)
  const parsed = RollingWindowLimiter.parse(`1/${zero === null ? text : `1${text.slice(zero[0].length)}`}`)
  if (Either.isLeft(parsed) || parsed.right === "off" || parsed.right.length !== 1 || text !== text.trim()) {
    return undefined
  }
  return zero === null ? Duration.toMillis(Duration.decode(parsed.right[0]!.window)) : 0
}

/**
 * Parses one outage as the bin's `--faults` takes it: `START+DURATION:ANSWER[+DURATION:ANSWER...]`, where `START` is
 * a time after start-up (`10s`, `500ms`, `2m`, `1h`: core's duration grammar, as `--rate-limit` reads it) or a request
 * number (`#200`), and `ANSWER` one of `unavailable` (or
 * `503`, with `/N` for `Retry-After: N`), `badgateway` (or `502`), `reset`, `refused`, `hang`. For example
 * `10s+5s:503/2+20s:reset`: from 10 s, 503 with `Retry-After: 2` for 5 s, then resets for 20 s.
 *
 * @since 0.2.0
 * @category parsing
 */
export const parseOutage = (text: string): Either.Either<Outage, string> => {
  const [startText, ...phaseTexts] = text.trim().split("+")
  const invalid = (why: string) =>
    Either.left(`invalid outage "${text}": ${why} (expected START+DURATION:ANSWER, e.g. 10s+20s:503 or #100+30s:reset)`)
  if (startText === undefined || phaseTexts.length === 0) return invalid("no phase")
  let start: Outage["start"]
  if (startText.startsWith("#")) {
    const n = Number(startText.slice(1))
    if (!/^#\d{1,9}$/.test(startText) || n < 1) return invalid(`bad request number "${startText}"`)
    start = { atRequest: n }
  } else {
    const ms = durationMs(startText)
    if (ms === undefined) return invalid(`bad start "${startText}"`)
    start = { atMs: ms }
  }
  const phases: Array<Outage["phases"][number]> = []
  for (const phase of phaseTexts) {
    const m = /^(\w+):(\w+)(?:\/(\d{1,6}))?$/.exec(phase)
    const ms = m === null ? undefined : durationMs(m[1]!)
    const answer = m === null ? undefined : OUTAGE_ANSWERS[m[2]!.toLowerCase()]
    if (m === null || ms === undefined || ms === 0 || answer === undefined) return invalid(`bad phase "${phase}"`)
    if (m[3] !== undefined && answer.kind !== "unavailable") return invalid(`only 503 takes a Retry-After`)
    phases.push({
      durationMs: ms,
      answer: m[3] === undefined ? answer : { kind: "unavailable", retryAfter: Number(m[3]) }
    })
  }
  return Either.right({ start, phases })
}

/**
 * Parses the bin's whole `--faults` spec: the `kind=probability` pairs of {@link parse} and any number of
 * `outage=...` items ({@link parseOutage}), e.g. `serverError=0.02,outage=30s+20s:503+10s:reset,seed=7`.
 *
 * @since 0.2.0
 * @category parsing
 */
export const parseSpec = (
  spec: string
): Either.Either<{ readonly probabilities: Probabilities; readonly outages: ReadonlyArray<Outage> }, string> => {
  const outages: Array<Outage> = []
  const rest: Array<string> = []
  for (const part of spec.split(",")) {
    const m = /^\s*outage\s*=(.*)$/.exec(part)
    if (m === null) {
      rest.push(part)
      continue
    }
    const parsed = parseOutage(m[1]!)
    if (Either.isLeft(parsed)) return Either.left(parsed.left)
    outages.push(parsed.right)
  }
  if (rest.length === 0) return Either.right({ probabilities: {}, outages })
  return Either.map(parse(rest.join(",")), (probabilities) => ({ probabilities, outages }))
}
