import { CertCentralClient, CertCentralError, SubaccountOrder } from "@certcentral/core"
import { Samples } from "@certcentral/testkit"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Fiber, Layer, Schema, Stream, TestClock } from "effect"
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
})
