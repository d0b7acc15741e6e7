#!/usr/bin/env -S npx tsx
/**
 * `certcentral-testkit`: run the stand-in server until SIGINT/SIGTERM.
 *
 * ```
 * certcentral-testkit --port 8080 [--host 127.0.0.1] [--api-key K] [--orders-seed N] [--orders N]
 *   [--rate-limit 100/5s,1000/3m|off] [--faults serverError=0.02,resetDuringBody=0.01,seed=7]
 *   [--faults outage=30s+10s:503/2+20s:reset,outage=#500+15s:refused]
 *   [--latency MEAN[~JITTER]] [--retry-after SECONDS] [--chunked] [--history SECONDS]
 * ```
 *
 * `--history SECONDS`: a changing account (`AccountHistory`, status change list served) for rehearsing `--refresh`:
 * SECONDS after start an order is revoked, one reissued, one given a duplicate, one has a reissue rejected, one is
 * placed and one is gone.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { parseArgs } from "node:util"
import * as Account from "./Account.js"
import * as AccountHistory from "./AccountHistory.js"
import * as Faults from "./Faults.js"
import * as OrderData from "./OrderData.js"
import * as RateLimit from "./RateLimit.js"
import * as TestServer from "./TestServer.js"

const usage = "usage: certcentral-testkit [--port N] [--host H] [--api-key K] [--orders-seed N] [--orders N] " +
  "[--rate-limit 100/5s,1000/3m|off] [--faults kind=p,...,outage=START+DURATION:ANSWER...] " +
  "[--latency MEAN[~JITTER]] [--retry-after S] [--chunked] [--history SECONDS]"

const fail = (message: string): never => {
  process.stderr.write(`certcentral-testkit: ${message}\n${usage}\n`)
  process.exit(2)
}

const integer = (flag: string, text: string | undefined, min: number): number | undefined => {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    return fail(`--${flag} must be an integer >= ${min}, got "${text}"`)
  }
  return Number(text)
}

/** `--history`: six orders of the generated account change `seconds` after now, one of each kind. */
const demoHistory = (seed: number, orders: number, seconds: number) => {
  const ids = Account.generatedIds(orders)
  const order = (id: number) =>
    OrderData.subaccountOrder(seed, id, { showArchived: false, includeValidationStatus: false })
  const issued = ids.filter((id) => order(id).status === "issued" && order(id).certificate !== undefined)
  const withDuplicates = issued.filter((id) => OrderData.allDuplicates(seed, id).some((d) => d.archived === "0"))
  const plain = issued.filter((id) => OrderData.allDuplicates(seed, id).length === 0)
  if (plain.length < 4 || withDuplicates.length < 1) fail("--history needs a larger account: give --orders 100 or more")
  const at = Date.now() + seconds * 1000
  const placed = Math.max(...ids) + 1
  const events: Array<AccountHistory.Event> = [
    { _tag: "Revoked", orderId: plain[0]!, at },
    { _tag: "Reissued", orderId: plain[1]!, at },
    { _tag: "Duplicated", orderId: withDuplicates[0]!, at },
    { _tag: "ReissueRejected", orderId: plain[2]!, at },
    { _tag: "Placed", orderId: placed, at },
    { _tag: "Removed", orderId: plain[3]!, at }
  ]
  const names = events.map((e) => `${e._tag.toLowerCase()} ${e.orderId}`).join(", ")
  return {
    history: AccountHistory.make(seed, ids, events),
    description: `history: at ${new Date(at).toISOString()} (in ${seconds} s): ${names}`
  }
}

const main = async () => {
  let values
  try {
    values = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "api-key": { type: "string" },
        "orders-seed": { type: "string" },
        orders: { type: "string" },
        "rate-limit": { type: "string" },
        faults: { type: "string" },
        latency: { type: "string" },
        "retry-after": { type: "string" },
        chunked: { type: "boolean" },
        history: { type: "string" },
        help: { type: "boolean", short: "h" }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
  if (values.help === true) {
    process.stdout.write(`${usage}\n`)
    return
  }
  const port = integer("port", values.port, 0)
  if (port !== undefined && port > 65535) fail(`--port must be at most 65535, got ${port}`)
  const seed = integer("orders-seed", values["orders-seed"], 0)
  const retryAfter = integer("retry-after", values["retry-after"], 0)
  const account = integer("orders", values.orders, 0)
  const rateLimit = values["rate-limit"] === undefined
    ? undefined
    : Either.getOrElse(RateLimit.parse(values["rate-limit"]), (message) => fail(`--rate-limit: ${message}`))
  const faults = values.faults === undefined
    ? undefined
    : Either.getOrElse(Faults.parseSpec(values.faults), (message) => fail(`--faults: ${message}`))
  let latency: TestServer.Options["latency"]
  if (values.latency !== undefined) {
    const match = /^(\d+)(?:~(\d+))?$/.exec(values.latency)
    if (match === null) fail(`--latency must be MEAN or MEAN~JITTER in ms, got "${values.latency}"`)
    latency = { meanMs: Number(match![1]), jitterMs: Number(match![2] ?? 0) }
  }
  if (values["api-key"] === "") fail("--api-key must not be empty")
  const changeAfter = integer("history", values.history, 1)
  const history = changeAfter === undefined ? undefined : demoHistory(seed ?? 1, account ?? 250, changeAfter)

  const handle = await TestServer.start({
    ...(port !== undefined ? { port } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values["api-key"] !== undefined ? { apiKey: values["api-key"] } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(rateLimit !== undefined ? { rateLimit } : {}),
    ...(faults !== undefined ? { faults: faults.probabilities, outages: faults.outages } : {}),
    ...(latency !== undefined ? { latency } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
    ...(account !== undefined ? { account } : {}),
    ...(values.chunked === true ? { chunked: true } : {}),
    ...(history !== undefined ? { history: history.history } : {})
  }).catch((error: unknown) => fail(`cannot listen: ${error instanceof Error ? error.message : String(error)}`))

  const stop = () => {
    handle.close().then(() => process.exit(0))
    setTimeout(() => process.exit(0), 2000).unref()
  }
  // Before the lines that announce the server: a signal sent as soon as they are read must find the handlers.
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  process.stdout.write(
    `certcentral-testkit listening\nDIGICERT_BASE_URL=${handle.baseUrl}\nDIGICERT_API_KEY=${handle.apiKey}\n` +
      `rate limit: ${RateLimit.format(rateLimit ?? RateLimit.digicertWindows)}\n` +
      (values.chunked === true ? "bodies: chunked, no Content-Length\n" : "") +
      (history !== undefined ? `${history.description}\n` : "")
  )
}

main()
