/**
 * One HTTP client variant in a process of its own: GETs the testkit's three endpoints for consecutive order ids,
 * `CONCURRENCY` in flight, reading every JSON body, and prints `{ wallMillis, cpuMillis }` measured around the loop
 * (module loading excluded).
 *
 * usage: tsx bench/http-client-child.ts VARIANT BASE_URL API_KEY REQUESTS CONCURRENCY
 * VARIANT: undici-request (undici's request(), no Effect), layer-undici (Effect's HttpClient over
 * NodeHttpClient.layerUndici), layer-undici-untraced (the same with tracing off, as the client runs when no tracer is
 * installed)
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Undici from "undici"

const [variant, baseUrl, apiKey, requestsText, concurrencyText] = process.argv.slice(2)
const requests = Number(requestsText)
const concurrency = Number(concurrencyText)
const paths = ["order/certificate/ID/duplicate", "order/certificate/ID/reissue", "account/subaccount/order/ID"]
const url = (i: number) => `${baseUrl}/${paths[i % 3]!.replace("ID", String(100_001 + Math.floor(i / 3)))}`
const headers = { "x-dc-devkey": apiKey!, accept: "application/json" }

const measure = async (run: () => Promise<void>) => {
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  await run()
  const used = process.cpuUsage(cpu)
  process.stdout.write(
    JSON.stringify({ wallMillis: performance.now() - t0, cpuMillis: (used.user + used.system) / 1000 }) + "\n"
  )
}

const plain = async () => {
  const agent = new Undici.Agent()
  let next = 0
  const worker = async () => {
    while (next < requests) {
      const { body } = await agent.request({ ...split(url(next++)), method: "GET", headers })
      await body.json()
    }
  }
  await measure(() => Promise.all(Array.from({ length: concurrency }, worker)).then(() => undefined))
  await agent.close()
}

const split = (text: string) => {
  const u = new URL(text)
  return { origin: u.origin, path: u.pathname + u.search }
}

const overEffect = (layer: Layer.Layer<HttpClient.HttpClient>, traced = true) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const http = yield* HttpClient.HttpClient
      const one = (i: number) => Effect.flatMap(http.get(url(i), { headers }), (response) => response.json)
      const all = Effect.forEach(Array.from({ length: requests }, (_, i) => i), one, { concurrency, discard: true })
      yield* Effect.promise(() => measure(() => Effect.runPromise(Effect.withTracerEnabled(all, traced))))
    }).pipe(Effect.provide(layer), Effect.orDie)
  )

const variants: Record<string, () => Promise<void>> = {
  "undici-request": plain,
  "layer-undici": () => overEffect(NodeHttpClient.layerUndici),
  // as the client runs under Effect's own tracer: no platform span per request
  "layer-undici-untraced": () => overEffect(NodeHttpClient.layerUndici, false)
}
variants[variant!]!().catch((error) => {
  console.error(error)
  process.exit(1)
})
