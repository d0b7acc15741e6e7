import { CertCentralClient, CertCentralError, RollingWindowLimiter, SubaccountOrder } from "@certcentral/core"
import { OrderData, Samples } from "@certcentral/testkit"
import { FileSystem, HttpClient, HttpClientResponse } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Chunk, Clock, Effect, Fiber, Layer, Option, Redacted, Schema, Stream, TestClock } from "effect"
import * as path from "node:path"
import { Export, OrderIds, Progress } from "../src/index.js"

const stats = (requests: number) =>
  Effect.succeed({
    requests,
    retries: 1,
    rateLimited: 2,
    pauses: 1,
    circuit: "closed" as const,
    unavailableSince: undefined,
    nextProbeAt: undefined,
    outages: 0,
    outageMillis: 0,
    gaveUp: false
  })

/** DigiCert-shaped answers from the testkit's generator, without a server, after `latency` on the clock. */
const digicertClient = (latency: Duration.DurationInput) =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      yield* Effect.sleep(latency)
      const match = /\/order\/certificate\/(\d+)\/(duplicate|reissue)$|\/account\/subaccount\/order\/(\d+)$/.exec(
        url.pathname
      )!
      const body = OrderData.render(
        match[2] === "duplicate" ? "duplicates" : match[2] === "reissue" ? "reissues" : "subaccountOrder",
        1,
        Number(match[1] ?? match[3]),
        { showArchived: false, includeValidationStatus: false }
      )
      return HttpClientResponse.fromWeb(
        request,
        new Response(body, { status: 200, headers: { "content-type": "application/json" } })
      )
    })
  )

/**
 * Runs an export of `orders` orders under `windows` on the TestClock, reading the ETA every `step`; returns the worst
 * error of the predicted end against the real one from 15% to 85% done, as a share of the run's length.
 */
const etaError = (options: {
  readonly windows: ReadonlyArray<RollingWindowLimiter.Window>
  readonly orders: number
  readonly latency: Duration.DurationInput
  readonly step: Duration.DurationInput
  readonly concurrency?: number
  readonly planned?: number
  readonly render?: (snap: Progress.Snapshot) => string
}) =>
  Effect.gen(function*() {
    const client = CertCentralClient.layer({
      apiKey: Redacted.make("test-key"),
      baseUrl: "http://certcentral.test/services/v2",
      rateLimit: options.windows
    }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, digicertClient(options.latency))))
    const tracker = yield* Progress.makeWith({ windows: options.windows, requestsPerOrder: options.planned })
    yield* tracker.setTotal(options.orders)
    const ids = Array.from({ length: options.orders }, (_, i) => 10_000 + i)
    // what Export.toFiles does with a tracker, without the files: the clock alone moves this run
    const run = Effect.gen(function*() {
      const stats = (yield* CertCentralClient.CertCentralClient).stats
      yield* tracker.start({ exported: 0, failed: 0, badLines: 0, rows: 0 }, stats)
      yield* Export.outcomes(OrderIds.fromIterable(ids), { concurrency: options.concurrency ?? 8 }).pipe(
        Stream.runForEach((outcome) =>
          tracker.record(outcome._tag === "Exported" ? { _tag: "Exported", rows: outcome.rows.length } : outcome)
        )
      )
    }).pipe(Effect.ensuring(tracker.finish), Effect.provide(client))
    const fiber = yield* Effect.fork(run)
    const seen: Array<{ readonly at: number; readonly done: number; readonly eta: number | undefined }> = []
    const lines: Array<string> = []
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* TestClock.adjust(options.step)
      const snap = yield* tracker.snapshot
      seen.push({ at: snap.elapsedMillis, done: snap.ordersDone / options.orders, eta: snap.etaMillis })
      if (options.render !== undefined) lines.push(options.render(snap))
    }
    yield* Fiber.join(fiber)
    const end = (yield* tracker.snapshot).elapsedMillis
    // the predicted end against the real one, as a share of the run's length
    const errors = seen.filter((s) => s.done >= 0.15 && s.done <= 0.85).map((s) =>
      s.eta === undefined ? Infinity : Math.abs(s.at + s.eta - end) / end
    )
    return { worst: Math.max(...errors), samples: errors.length, end, lines }
  })

describe("Progress", () => {
  it.effect("counts outcomes on top of a resume's, with rates and an ETA from the clock", () =>
    Effect.gen(function*() {
      const tracker = yield* Progress.make
      yield* tracker.setTotal(100)
      yield* tracker.start({ exported: 10, failed: 0, badLines: 0, rows: 30 }, stats(40))
      yield* TestClock.adjust("10 seconds")
      for (let i = 0; i < 20; i++) yield* tracker.record({ _tag: "Exported", rows: 2 })
      yield* tracker.record({ _tag: "Failed" })
      yield* tracker.record({ _tag: "BadLine" })
      const snap = yield* tracker.snapshot
      expect(snap).toMatchObject({
        ordersDone: 31,
        ordersExported: 30,
        ordersFailed: 1,
        badLines: 1,
        rows: 70,
        resumedOrders: 10,
        elapsedMillis: 10_000,
        requests: 40,
        finished: false
      })
      // 21 orders in 10 s this run: 69 left take about 33 s
      expect(snap.ordersPerSecond).toBeCloseTo(2.1)
      expect(snap.requestsPerSecond).toBeCloseTo(4)
      expect(snap.etaMillis).toBeCloseTo(69 / 2.1 * 1000)
      expect(Progress.renderLine(snap)).toMatch(/^progress: 31\/100 orders, 70 rows, 2 failed, 40 requests \(4\.0\/s\)/)
      expect(Progress.renderBar(snap)).toMatch(/31\/100 orders .* 2×429 .* ETA 33s$/)
    }))

  it.effect("emits a snapshot every period and ends after the finished one", () =>
    Effect.gen(function*() {
      const tracker = yield* Progress.make
      yield* tracker.start({ exported: 0, failed: 0, badLines: 0, rows: 0 }, stats(0))
      const fiber = yield* Effect.fork(Stream.runCollect(tracker.changes("5 seconds")))
      yield* TestClock.adjust("5 seconds")
      yield* tracker.record({ _tag: "Exported", rows: 3 })
      yield* TestClock.adjust("5 seconds")
      yield* tracker.finish
      yield* TestClock.adjust("5 seconds")
      const snaps = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(snaps.map((s) => [s.rows, s.finished])).toEqual([[0, false], [0, false], [3, false], [3, true]])
      expect(Progress.renderSummary(snaps[3]!, "Done")).toMatch(/^Done: 1 order exported, 3 rows written.* in 10s\.$/)
    }))

  it.effect("shows how long the API has been unavailable and when the next try goes, and sums outages up", () =>
    Effect.gen(function*() {
      // an outage from 20 s to 80 s: the circuit opens at 20 s, probes every 16 s, closes at 80 s
      const health = Effect.map(Clock.currentTimeMillis, (now) => {
        const open = now >= 20_000 && now < 80_000
        const nextProbeAt = 20_000 + 16_000 * Math.ceil((now - 20_000 + 1) / 16_000)
        return {
          requests: 10,
          retries: 0,
          rateLimited: 0,
          pauses: 0,
          circuit: open ? "open" as const : "closed" as const,
          unavailableSince: open ? 20_000 : undefined,
          nextProbeAt: open ? nextProbeAt : undefined,
          outages: now >= 20_000 ? 1 : 0,
          outageMillis: now >= 20_000 ? Math.min(now, 80_000) - 20_000 : 0,
          gaveUp: false
        }
      })
      const tracker = yield* Progress.make
      yield* tracker.setTotal(10)
      yield* tracker.start({ exported: 0, failed: 0, badLines: 0, rows: 0 }, health)
      const fiber = yield* Effect.fork(Stream.runCollect(tracker.changes("20 seconds")))
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("20 seconds")
      yield* tracker.finish
      yield* TestClock.adjust("20 seconds")
      const snaps = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      // snapshots at 0, 20, ..., 120 s (the last one finished)
      expect(snaps.map((s) => Progress.renderOutage(s))).toEqual([
        undefined,
        "API unavailable for 0s, next try in 16s",
        "API unavailable for 20s, next try in 12s",
        "API unavailable for 40s, next try in 8s",
        undefined,
        undefined,
        undefined
      ])
      expect(Progress.renderLine(snaps[3]!)).toContain(", API unavailable for 40s, next try in 8s")
      expect(Progress.renderBar(snaps[3]!)).toContain(" · API unavailable for 40s, next try in 8s · ")
      expect(Progress.renderLine(snaps[4]!)).not.toContain("unavailable")
      expect(Progress.renderSummary(snaps.at(-1)!, "Done")).toMatch(
        /, 1 outage \(API unavailable for 1m in all\) in 1m40s\.$/
      )
      expect(Progress.renderSummary(snaps[0]!, "Done")).not.toContain("outage")
    }))

  it("writes durations without the parts that are zero", () => {
    expect([0, 500, 16_000, 90_000, 600_000, 3_900_000, 7_200_000].map(Progress.formatDuration)).toEqual([
      "0s",
      "500ms",
      "16s",
      "1m30s",
      "10m",
      "1h05m",
      "2h"
    ])
  })

  it.effect("shows a listing's pages and ids of page.total, then the export, with the listing's time and requests", () =>
    Effect.gen(function*() {
      const tracker = yield* Progress.make
      yield* tracker.startListing(stats(2))
      yield* tracker.recordPage({ listed: 1000, total: 2500, last: false })
      yield* TestClock.adjust("2 seconds")
      const listing = yield* tracker.snapshot
      expect(listing.listing).toEqual({ pages: 1, ids: 1000, total: 2500, done: false })
      expect(Progress.renderLine(listing)).toMatch(/^progress: listing orders, 1 page, 1000\/2500 ids, 2 requests/)
      expect(Progress.renderBar(listing)).toMatch(/^listing orders: 1 page, 1000\/2500 ids · 1\.0 req\/s · 2×429$/)
      yield* tracker.recordPage({ listed: 2500, total: 2500, last: true })
      yield* tracker.setTotal(2500)
      yield* tracker.start({ exported: 0, failed: 0, badLines: 0, rows: 0 }, stats(3))
      yield* TestClock.adjust("2 seconds")
      yield* tracker.record({ _tag: "Exported", rows: 1 })
      yield* tracker.finish
      const done = yield* tracker.snapshot
      // the clock started with the listing
      expect(done.elapsedMillis).toBe(4000)
      expect(Progress.renderBar(done)).toMatch(/1\/2500 orders/)
      expect(Progress.renderSummary(done, "Done")).toMatch(/^Done: 2500 orders listed in 2 pages, 1 order exported/)
    }))

  it.scoped("is fed by Export.toFiles from the context: outcomes, the client's requests, and the end", () =>
    Effect.gen(function*() {
      const order = Schema.decodeUnknownSync(SubaccountOrder.SubaccountOrder)(
        JSON.parse(Samples.subaccountOrderPending)
      )
      let requests = 0
      const answer = <A>(value: A, endpoint: CertCentralError.Endpoint, orderId: number) =>
        Effect.suspend(() => {
          requests++
          return orderId === 3 && endpoint === "listReissues"
            ? Effect.fail(
              new CertCentralError.NotFoundError({ endpoint, orderId, status: 404, errors: [], message: "gone" })
            )
            : Effect.succeed(value)
        })
      const client = Layer.succeed(CertCentralClient.CertCentralClient, {
        getSubaccountOrder: (id) => answer(order, "getSubaccountOrder", id),
        listDuplicates: (id) => answer([], "listDuplicates", id),
        listReissues: (id) => answer([], "listReissues", id),
        listOrders: () => Stream.die("not listed here"),
        listOrderPages: () => Stream.die("not listed here"),
        listSubaccountOrders: () => Stream.die("not listed here"),
        listSubaccountOrderPages: () => Stream.die("not listed here"),
        listStatusChanges: () => Effect.die("not listed here"),
        stats: Effect.suspend(() => stats(requests))
      })
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const progress = yield* Progress.Progress
      yield* progress.setTotal(4)
      // a reader that started before the export: it ends because the export finishes the service
      const reader = yield* Effect.fork(Stream.runCollect(progress.changes("1 minute")))
      const summary = yield* Export.toFiles(OrderIds.fromIterable([1, 2, "x", 3, 4]), {
        output: path.join(dir, "out.ndjson")
      }).pipe(Effect.provide(client))
      const snap = yield* progress.snapshot
      expect(snap).toMatchObject({
        total: 4,
        ordersDone: 4,
        ordersExported: 3,
        ordersFailed: 1,
        badLines: 1,
        rows: summary.rows,
        requests: 12,
        retries: 1,
        rateLimited: 2,
        finished: true
      })
      expect(summary.rows).toBe(3)
      yield* TestClock.adjust("1 minute")
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(reader))
      expect(seen.at(-1)?.finished).toBe(true)
    }).pipe(Effect.provide(Layer.merge(Progress.layer, NodeFileSystem.layer))))

  describe("ETA under rolling windows", () => {
    it.effect("predicts the end within 10% from 15% to 85% done under DigiCert's windows (100/5s, 1000/3m)", () =>
      Effect.gen(function*() {
        const run = yield* etaError({
          windows: RollingWindowLimiter.digicertDefault,
          orders: 400,
          planned: 3,
          latency: "0 millis",
          step: "1 second",
          render: Progress.renderLine
        })
        // 1200 requests: 1000 in the first 45 s, the rest from 3 min on
        expect(run.end).toBeGreaterThan(180_000)
        expect(run.samples).toBeGreaterThan(50)
        expect(run.worst).toBeLessThan(0.1)
        // the plain lines carry the same ETA
        expect(run.lines.filter((line) => line.includes(", ETA ")).length).toBeGreaterThan(run.lines.length / 2)
      }))

    it.effect("predicts the end within 10% under scaled windows (20/1s, 200/20s) with slow answers", () =>
      Effect.gen(function*() {
        // 450 requests: three of the long windows, 44 s of the test clock, 57 samples from 15% to 85% done
        const run = yield* etaError({
          windows: [{ limit: 20, window: "1 second" }, { limit: 200, window: "20 seconds" }],
          orders: 150,
          planned: 3,
          latency: "300 millis",
          step: "500 millis"
        })
        expect(run.samples).toBeGreaterThan(50)
        expect(run.worst).toBeLessThan(0.1)
      }))

    it.effect("without a plan, measures the requests per order and stays within 10% under DigiCert's windows", () =>
      Effect.gen(function*() {
        const run = yield* etaError({
          windows: RollingWindowLimiter.digicertDefault,
          orders: 400,
          latency: "0 millis",
          step: "1 second"
        })
        expect(run.samples).toBeGreaterThan(50)
        expect(run.worst).toBeLessThan(0.1)
      }))

    it.effect("goes by the API's pace when the answers, not the windows, are the bound", () =>
      Effect.gen(function*() {
        // 8 orders in flight, 3 requests each, 400 ms an answer: about 60 requests a second, far below 1000 per 5 s
        const run = yield* etaError({
          windows: [{ limit: 1000, window: "5 seconds" }],
          orders: 300,
          latency: "400 millis",
          step: "250 millis"
        })
        expect(run.worst).toBeLessThan(0.25)
      }))
  })
})
