#!/usr/bin/env -S npx tsx
/**
 * `certcentral-testkit`: run the stand-in server until SIGINT/SIGTERM.
 *
 * ```
 * certcentral-testkit --port 8080 [--host 127.0.0.1] [--api-key K] [--orders-seed N] [--orders N]
 *   [--rate-limit 100/5s,1000/3m|off] [--faults serverError=0.02,resetDuringBody=0.01,seed=7]
 *   [--faults outage=30s+10s:503/2+20s:reset,outage=#500+15s:refused]
 *   [--latency MEAN[~JITTER]] [--retry-after SECONDS] [--chunked]
 * ```
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { parseArgs } from "node:util"
import * as Faults from "./Faults.js"
import * as RateLimit from "./RateLimit.js"
import * as TestServer from "./TestServer.js"

const usage = "usage: certcentral-testkit [--port N] [--host H] [--api-key K] [--orders-seed N] [--orders N] " +
  "[--rate-limit 100/5s,1000/3m|off] [--faults kind=p,...,outage=START+DURATION:ANSWER...] " +
  "[--latency MEAN[~JITTER]] [--retry-after S] [--chunked]"

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
    ...(values.chunked === true ? { chunked: true } : {})
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
      (values.chunked === true ? "bodies: chunked, no Content-Length\n" : "")
  )
}

main()
