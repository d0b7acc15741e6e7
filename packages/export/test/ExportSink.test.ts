import { CertCentralError } from "@certcentral/core"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Queue, Schedule, Stream, TestClock } from "effect"
import * as path from "node:path"
import { CertificateRow, Checkpoint, ExportSink, type OrderIds, type Outcomes, RowEncoder } from "../src/index.js"

const row = (orderId: number, source: CertificateRow.Source = "order"): CertificateRow.CertificateRow => {
  const cells: Record<string, unknown> = {}
  for (const column of CertificateRow.columns) cells[column] = null
  return {
    ...cells,
    order_id: orderId,
    source,
    common_name: `o${orderId}.example`,
    dns_names: [],
    organization_units: []
  } as unknown as CertificateRow.CertificateRow
}

/** The outcome of entry `i`: every 7th a bad line, every 5th a failed order, the others one or two rows. */
const outcomeOf = (i: number): Outcomes.Outcome => {
  const orderId = OrderIdOf(i)
  if (i % 7 === 6) return { _tag: "BadLine", line: i + 1, input: `bad${i}`, message: "not an order id" }
  if (i % 5 === 4) {
    return {
      _tag: "Failed",
      orderId,
      line: i + 1,
      error: new CertCentralError.NotFoundError({
        endpoint: "listReissues",
        orderId,
        status: 404,
        errors: [],
        message: "no such order"
      })
    }
  }
  return {
    _tag: "Exported",
    orderId,
    line: i + 1,
    rows: i % 2 === 0 ? [row(orderId)] : [row(orderId), row(orderId, "reissue")]
  }
}
const OrderIdOf = (i: number) => (1000 + i) as OrderIds.Id["orderId"]
const entryOf = (outcome: Outcomes.Outcome): OrderIds.Entry =>
  outcome._tag === "BadLine" ? outcome : { _tag: "Id", orderId: outcome.orderId, line: outcome.line }

const outcomes = (n: number) => Array.from({ length: n }, (_, i) => outcomeOf(i))

/** Writes outcomes through a sink opened with `options`; the outcomes come from the entries `remaining` lets by. */
const write = (options: ExportSink.Options, all: ReadonlyArray<Outcomes.Outcome>, failAfter?: number) =>
  Effect.scoped(Effect.gen(function*() {
    const files = yield* ExportSink.open(options)
    if (files.complete) return Option.none<ExportSink.Summary>()
    const byLine = new Map(all.map((o) => [o.line, o]))
    const entries = files.remaining(Stream.fromIterable(all.map(entryOf)))
    const stream = Stream.map(entries, (entry) => byLine.get(entry.line)!).pipe(
      Stream.rechunk(3),
      Stream.zipWithIndex,
      Stream.mapEffect(([o, i]) =>
        failAfter !== undefined && i >= failAfter ? Effect.fail("crash" as const) : Effect.succeed(o)
      )
    )
    return Option.some(yield* Stream.run(stream, files.sink))
  }))

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "sink-" }))
const read = (file: string) => Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file))

describe("ExportSink", () => {
  it.scoped("writes rows to the output and failures and bad lines to the errors file, in order, and completes", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      const summary = yield* write({ output }, outcomes(20))
      expect(Option.getOrThrow(summary)).toMatchObject({ exported: 14, failed: 4, badLines: 2, alreadyComplete: false })
      const text = yield* read(output)
      const exported = outcomes(20).flatMap((o) => o._tag === "Exported" ? o.rows : [])
      expect(text).toBe(RowEncoder.csv.header + RowEncoder.csv.encode(exported))
      const errors = (yield* read(`${output}.errors.ndjson`)).trimEnd().split("\n").map((l) => JSON.parse(l))
      expect(errors.map((e) => e.order_id ?? `line ${e.line}`)).toEqual([1004, "line 7", 1009, "line 14", 1014, 1019])
      const checkpoint = JSON.parse(yield* read(Checkpoint.pathFor(output)))
      expect(checkpoint).toMatchObject({ complete: true, entries: 20, outputBytes: Buffer.byteLength(text) })
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("resumes a run that failed part-way to files byte-identical to an uninterrupted run's", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const all = outcomes(40)
      const reference = path.join(dir, "reference.ndjson")
      yield* write({ output: reference }, all)
      const output = path.join(dir, "out.ndjson")
      const crashed = yield* Effect.exit(write({ output }, all, 17))
      expect(Exit.isFailure(crashed)).toBe(true)
      const checkpoint = JSON.parse(yield* read(Checkpoint.pathFor(output)))
      expect(checkpoint.complete).toBe(false)
      expect(checkpoint.entries).toBeGreaterThan(0)
      yield* write({ output, resume: true }, all)
      expect(yield* read(output)).toBe(yield* read(reference))
      expect(yield* read(`${output}.errors.ndjson`)).toBe(yield* read(`${reference}.errors.ndjson`))
      // once complete, another resume does nothing
      expect(yield* write({ output, resume: true }, all)).toEqual(Option.none())
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("refuses to resume with another input, other options or an edited output", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      yield* Effect.exit(write({ output }, outcomes(30), 20))
      const other = outcomes(30).map((o, i) => i === 2 && o._tag === "Exported" ? { ...o, orderId: OrderIdOf(99) } : o)
      const differentInput = yield* Effect.flip(write({ output, resume: true }, other))
      expect(differentInput).toMatchObject({ _tag: "ResumeError", reason: "InputDiffers" })
      expect(String((differentInput as { message: string }).message)).toMatch(/input differs/)
      const differentFormat = yield* Effect.flip(write({ output, resume: true, format: "ndjson" }, outcomes(30)))
      expect(differentFormat).toMatchObject({ reason: "OptionsDiffer", option: "format", recorded: "csv" })
      expect(String((differentFormat as { message: string }).message)).toMatch(/written with format csv$/)
      // ids listed by the export itself (--orders-from) are not the ids of a file
      const listed = yield* Effect.flip(write({ output, resume: true, source: "--orders-from account" }, outcomes(30)))
      expect(listed).toMatchObject({ reason: "OptionsDiffer", option: "source" })
      expect(listed).not.toHaveProperty("recorded")
      // the library says what differs without the CLI's flags; the CLI adds them
      expect(String((listed as { message: string }).message)).toMatch(/written with ids the caller gave$/)
      const fs = yield* FileSystem.FileSystem
      const text = yield* read(output)
      yield* fs.writeFileString(output, "X" + text.slice(1))
      const edited = yield* Effect.flip(write({ output, resume: true }, outcomes(30)))
      expect(edited).toMatchObject({ reason: "FilesDiffer" })
      expect(String((edited as { message: string }).message)).toMatch(/is not the file the checkpoint was written for/)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("refuses to resume when the output exists without a checkpoint, and a missing directory, with reasons and no flags", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const fs = yield* FileSystem.FileSystem
      const output = path.join(dir, "plain.csv")
      yield* fs.writeFileString(output, "hello\n")
      const error = yield* Effect.flip(write({ output, resume: true }, outcomes(3)))
      expect(error).toMatchObject({ _tag: "ResumeError", reason: "NoCheckpoint" })
      expect(String((error as { message: string }).message)).not.toMatch(/--/)
      const missing = yield* Effect.flip(write({ output: path.join(dir, "no", "such.csv") }, outcomes(3)))
      expect(missing).toMatchObject({ _tag: "OutputError", reason: "DirectoryMissing" })
      expect(String((missing as { message: string }).message)).toMatch(/does not exist$/)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("commits on its Schedule, only after something new is written, and marks the end complete", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      const entriesOnDisk = Effect.map(read(Checkpoint.pathFor(output)), (text) => JSON.parse(text).entries as number)
      // the commits run on real file I/O: wait for it (not for time, which only the TestClock moves)
      const until = (what: string, done: Effect.Effect<boolean, unknown, FileSystem.FileSystem>) =>
        Effect.gen(function*() {
          for (let i = 0; i < 1000; i++) {
            if (yield* Effect.orElseSucceed(done, () => false)) return
            yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
          }
          throw new Error(`never ${what}`)
        })
      const all = outcomes(12)
      const queue = yield* Queue.unbounded<Option.Option<Outcomes.Outcome>>()
      const files = yield* ExportSink.open({ output, checkpoint: Schedule.spaced("10 seconds") })
      expect(yield* entriesOnDisk).toBe(0)
      const run = yield* Effect.fork(
        Stream.run(
          Stream.fromQueue(queue).pipe(Stream.takeWhile(Option.isSome), Stream.map((o) => o.value)),
          files.sink
        )
      )
      const size = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.stat(output)).pipe(
        Effect.map((i) => Number(i.size))
      )
      yield* Queue.offerAll(queue, all.slice(0, 4).map(Option.some))
      // the first write is committed at once
      yield* until("committed the first 4", Effect.map(entriesOnDisk, (n) => n === 4))
      const before = yield* size
      yield* Queue.offerAll(queue, all.slice(4, 8).map(Option.some))
      yield* until("wrote 4 more", Effect.map(size, (n) => n > before))
      // written, but the schedule holds the next commit back
      expect(yield* entriesOnDisk).toBe(4)
      yield* TestClock.adjust("10 seconds")
      yield* until("committed 8 after the schedule's 10 seconds", Effect.map(entriesOnDisk, (n) => n === 8))
      yield* Queue.offerAll(queue, [...all.slice(8).map(Option.some), Option.none()])
      const summary = yield* Fiber.join(run)
      expect(summary).toMatchObject({ exported: 9, failed: 2, badLines: 1 })
      expect(JSON.parse(yield* read(Checkpoint.pathFor(output)))).toMatchObject({ entries: 12, complete: true })
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
