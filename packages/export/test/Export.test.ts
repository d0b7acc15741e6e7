/**
 * `Export` in-process against the testkit server over HTTP: the rows stream of many orders, and `toFiles` stopped by
 * a failing input part-way, then resumed to the bytes of an uninterrupted run. (The CLI tests repeat the resume with
 * real signals and processes; this proves the module itself.)
 */
import { CertCentralClient } from "@certcentral/core"
import { OrderScript, TestServer } from "@certcentral/testkit"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Data, Effect, Exit, Layer, Redacted, Stream } from "effect"
import * as path from "node:path"
import { Export, type OrderIds } from "../src/index.js"

const NOT_FOUND = 880001
const ids = Array.from({ length: 60 }, (_, i) => 9000 + i * 11)

const server = TestServer.layer({ rateLimit: "off", orders: { [NOT_FOUND]: OrderScript.notFound } })
const client = Layer.unwrapEffect(
  Effect.map(
    TestServer.TestServer,
    (s) =>
      CertCentralClient.layer({ apiKey: Redacted.make(s.apiKey), baseUrl: s.baseUrl, rateLimit: "off" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
  )
)
const env = Layer.mergeAll(client, NodeFileSystem.layer).pipe(Layer.provideMerge(server))

class InputCut extends Data.TaggedError("InputCut") {}

describe("Export", () => {
  it.scoped("streams the rows of many orders in input order, failed orders and bad ids aside, repeats once", () =>
    Effect.gen(function*() {
      const failed: Array<number> = []
      const bad: Array<number> = []
      const input = [ids[0]!, NOT_FOUND, ids[1]!, -5, ids[0]!, ids[2]!]
      const rows = Chunk.toReadonlyArray(
        yield* Stream.runCollect(Export.rows(Stream.fromIterable(input), {
          concurrency: 4,
          onFailure: (f) => Effect.sync(() => failed.push(f.orderId)),
          onBadLine: (b) => Effect.sync(() => bad.push(b.line))
        }))
      )
      const orderIds = rows.map((row) => row.order_id)
      // input order, each order's rows together, the repeated id once
      expect([...new Set(orderIds)]).toEqual([ids[0], ids[1], ids[2]])
      expect(orderIds).toEqual([...orderIds].sort((a, b) => input.indexOf(a) - input.indexOf(b)))
      expect(rows.filter((row) => row.source === "order").map((row) => row.order_id)).toEqual([ids[0], ids[1], ids[2]])
      expect(failed).toEqual([NOT_FOUND])
      expect(bad).toEqual([4])
    }).pipe(Effect.provide(env)))

  it.scoped("stopped by its input part-way, leaves files a resume finishes to an uninterrupted run's bytes", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const lines = [...ids.slice(0, 30), NOT_FOUND, "not-an-id", ...ids.slice(30)]
      const entries = (upTo?: number): Stream.Stream<OrderIds.Entry, InputCut> => {
        const all = Stream.fromIterable(lines.map((line, i) =>
          typeof line === "number"
            ? { _tag: "Id" as const, orderId: line as never, line: i + 1 }
            : { _tag: "BadLine" as const, line: i + 1, input: line, message: `not an order id: ${line}` }
        ))
        return upTo === undefined ? all : Stream.concat(Stream.take(all, upTo), Stream.fail(new InputCut()))
      }
      const reference = path.join(dir, "reference.csv")
      const whole = yield* Export.toFiles(entries(), { output: reference, concurrency: 8 })
      expect(whole).toMatchObject({ exported: 60, failed: 1, badLines: 1, alreadyComplete: false })

      const output = path.join(dir, "resumed.csv")
      const stopped = yield* Effect.exit(Export.toFiles(entries(40), { output, concurrency: 8 }))
      expect(Exit.isFailure(stopped) && stopped.cause._tag === "Fail" && stopped.cause.error._tag).toBe("InputCut")
      // what was written is a prefix of the uninterrupted run's output
      const partial = yield* fs.readFileString(output)
      const full = yield* fs.readFileString(reference)
      expect(full.startsWith(partial)).toBe(true)
      expect(partial.length).toBeGreaterThan(0)

      const resumed = yield* Export.toFiles(entries(), { output, concurrency: 8, resume: true })
      expect(resumed).toMatchObject({ exported: 60, failed: 1, badLines: 1, resumed: true })
      expect(yield* fs.readFileString(output)).toBe(full)
      expect(yield* fs.readFileString(`${output}.errors.ndjson`)).toBe(
        yield* fs.readFileString(`${reference}.errors.ndjson`)
      )
      // a second resume of a complete export does nothing
      const again = yield* Export.toFiles(entries(), { output, resume: true })
      expect(again.alreadyComplete).toBe(true)
      expect(yield* fs.readFileString(output)).toBe(full)
    }).pipe(Effect.provide(env)))
})
