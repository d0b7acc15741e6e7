/**
 * Client CPU per order, no network: an in-memory `HttpClient` answers canned testkit bodies (`OrderData.render`,
 * rendered before timing). Times the parts on their own (JSON.parse + Schema decode of the three bodies, the join
 * into rows, the CSV encoding) and the whole pipeline (client, `Export.outcomes`, CSV), and records a V8 CPU profile
 * of the whole pipeline (the profiler `node --cpu-prof` uses, through `node:inspector`, so that module loading and
 * the part timings stay out of it). Prints its figures as JSON on stdout.
 *
 * usage: tsx bench/cpu-child.ts ORDERS CONCURRENCY PROFILE_PATH
 */
import { CertCentralClient, DuplicateCertificate, ReissueCertificate, SubaccountOrder } from "@certcentral/core"
import { CertificateRow, Export, OrderIds, RowEncoder } from "@certcentral/export"
import { OrderData } from "@certcentral/testkit"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Effect, Either, Layer, Redacted, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as inspector from "node:inspector"

const [ordersText, concurrencyText, profilePath] = process.argv.slice(2) as [string, string, string]
const orders = Number(ordersText)
const concurrency = Number(concurrencyText)
const FIRST = 300_001
const WARMUP = 500
const query: OrderData.Query = { showArchived: false, includeValidationStatus: false }

// canned bodies, by path
const bodies = new Map<string, string>()
let bodyBytes = 0
const ids: Array<number> = []
for (let i = 0; i < orders + WARMUP; i++) {
  const id = FIRST + i
  ids.push(id)
  const put = (path: string, body: string) => {
    bodies.set(`/services/v2${path}`, body)
    if (i >= WARMUP) bodyBytes += body.length
  }
  put(`/account/subaccount/order/${id}`, OrderData.render("subaccountOrder", 1, id, query))
  put(`/order/certificate/${id}/duplicate`, OrderData.render("duplicates", 1, id, query))
  put(`/order/certificate/${id}/reissue`, OrderData.render("reissues", 1, id, query))
}
const body = (path: string) => bodies.get(`/services/v2${path}`)!

const millisPerOrder = (n: number, f: (id: number) => void): number => {
  for (let i = 0; i < WARMUP; i++) f(ids[i]!)
  const t0 = performance.now()
  for (let i = WARMUP; i < WARMUP + n; i++) f(ids[i]!)
  return (performance.now() - t0) / n
}

// --- the parts
const decodeOrder = Schema.decodeUnknownEither(SubaccountOrder.SubaccountOrder)
const decodeDuplicates = Schema.decodeUnknownEither(DuplicateCertificate.DuplicateList)
const decodeReissues = Schema.decodeUnknownEither(ReissueCertificate.ReissueList)
const decoded = new Map<number, CertificateRow.OrderParts>()
const joined = new Map<number, ReadonlyArray<CertificateRow.CertificateRow>>()

const parseMillis = millisPerOrder(orders, (id) => {
  JSON.parse(body(`/account/subaccount/order/${id}`))
  JSON.parse(body(`/order/certificate/${id}/duplicate`))
  JSON.parse(body(`/order/certificate/${id}/reissue`))
})
const decodeMillis = millisPerOrder(orders, (id) => {
  const order = Either.getOrThrow(decodeOrder(JSON.parse(body(`/account/subaccount/order/${id}`))))
  const duplicates = Either.getOrThrow(decodeDuplicates(JSON.parse(body(`/order/certificate/${id}/duplicate`))))
  const reissues = Either.getOrThrow(decodeReissues(JSON.parse(body(`/order/certificate/${id}/reissue`))))
  decoded.set(id, { order, duplicates: duplicates.certificates, reissues: reissues.certificates })
})
let rowCount = 0
const joinMillis = millisPerOrder(orders, (id) => {
  const rows = CertificateRow.fromOrder(id, decoded.get(id)!)
  joined.set(id, rows)
})
for (let i = WARMUP; i < WARMUP + orders; i++) rowCount += joined.get(ids[i]!)!.length
let csvBytes = 0
const encodeMillis = millisPerOrder(orders, (id) => {
  csvBytes += RowEncoder.csv.encode(joined.get(id)!).length
})
const ndjsonMillis = millisPerOrder(orders, (id) => {
  RowEncoder.ndjson.encode(joined.get(id)!)
})
decoded.clear()
joined.clear()

// --- the whole pipeline: client (retries, limiter off, spans), export stream, CSV
const memoryHttp = HttpClient.make((request, url) =>
  Effect.sync(() => {
    const text = bodies.get(url.pathname)
    return HttpClientResponse.fromWeb(
      request,
      text === undefined
        ? new Response("{\"errors\":[{\"code\":\"not_found|order\",\"message\":\"Order not found.\"}]}", {
          status: 404
        })
        : new Response(text, {
          status: 200,
          headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) }
        })
    )
  })
)
const layer = CertCentralClient.layer({
  apiKey: Redacted.make("bench-key"),
  baseUrl: "http://bench.invalid/services/v2",
  rateLimit: "off"
}).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, memoryHttp)))

const pipeline = (from: number, to: number) =>
  Export.outcomes(OrderIds.fromIterable(ids.slice(from, to)), { concurrency }).pipe(
    Stream.runForEach((outcome) =>
      Effect.sync(() => {
        if (outcome._tag !== "Exported") throw new Error(`order ${JSON.stringify(outcome)} failed`)
        RowEncoder.csv.encode(outcome.rows)
      })
    ),
    Effect.provide(layer)
  )

const session = new inspector.Session()
session.connect()
const post = (method: string, params?: object) =>
  new Promise<any>((resolve, reject) =>
    session.post(method, params, (error, result) => (error === null ? resolve(result) : reject(error)))
  )

const main = async () => {
  await Effect.runPromise(pipeline(0, WARMUP))
  await post("Profiler.enable")
  await post("Profiler.setSamplingInterval", { interval: 200 })
  await post("Profiler.start")
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Effect.runPromise(pipeline(WARMUP, WARMUP + orders))
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const { profile } = await post("Profiler.stop")
  fs.writeFileSync(profilePath, JSON.stringify(profile))
  const parts = {
    parseMillis,
    decodeMillis,
    joinMillis,
    encodeMillis,
    ndjsonEncodeMillis: ndjsonMillis
  }
  process.stdout.write(JSON.stringify({
    orders,
    concurrency,
    rowsPerOrder: rowCount / orders,
    bodyBytesPerOrder: bodyBytes / orders,
    csvBytesPerOrder: csvBytes / orders,
    parts,
    pipelineMillisPerOrder: wall / orders,
    pipelineCpuMillisPerOrder: (cpu.user + cpu.system) / 1000 / orders
  }))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
