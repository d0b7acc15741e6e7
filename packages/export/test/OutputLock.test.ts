/**
 * `OutputLock` in-process: two exports on one output in one process (the second refused, nothing changed, the first's
 * files those of a run alone), locks of dead processes and of this pid's former life taken over, another host's
 * respected, concurrent takers of one stale lock, and the lock released however the run ends.
 */
import { CertCentralClient } from "@certcentral/core"
import { TestServer } from "@certcentral/testkit"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Exit, Fiber, Layer, Redacted, Stream } from "effect"
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Export, OrderIds, OutputLock } from "../src/index.js"
import { expectSameBytes } from "./support/files.js"

const ids = Array.from({ length: 20 }, (_, i) => 7000 + i * 13)

const server = TestServer.layer({ rateLimit: "off" })
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

/** A pid that no longer exists: a child that ran and exited. */
const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid

const lockText = (holder: Partial<OutputLock.Holder>) =>
  JSON.stringify({ pid: deadPid(), host: os.hostname(), since: Date.now() - 60_000, nonce: "former", ...holder }) +
  "\n"

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/**
 * The files there and the lock's digest: the first export goes on writing the orders it has in flight while the
 * second one tries, so that its own files are compared at the end, to a run alone.
 */
const snapshot = (dir: string, output: string) => ({
  names: fs.readdirSync(dir).filter((name) => !name.endsWith(".tmp")).sort(),
  lock: createHash("sha256").update(fs.readFileSync(OutputLock.pathFor(output))).digest("hex")
})

describe("OutputLock", () => {
  it.scoped("refuses a second export on the same output while the first runs, changing nothing on disk", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const reference = path.join(dir, "alone.csv")
      yield* Export.toFiles(OrderIds.fromIterable(ids), { output: reference })

      const output = path.join(dir, "out.csv")
      const halfway = yield* Deferred.make<void>()
      const goOn = yield* Deferred.make<void>()
      // the first export writes half its ids, then waits while the second one tries
      const input = OrderIds.fromIterable(ids).pipe(
        Stream.rechunk(1),
        Stream.tap((entry) =>
          entry.line === 11 ? Effect.zipRight(Deferred.succeed(halfway, undefined), Deferred.await(goOn)) : Effect.void
        )
      )
      const first = yield* Effect.fork(Export.toFiles(input, { output }))
      yield* Deferred.await(halfway)
      const before = snapshot(dir, output)
      const second = yield* Effect.either(Export.toFiles(OrderIds.fromIterable([1, 2, 3]), { output }))
      expect(snapshot(dir, output)).toEqual(before)
      if (Either.isRight(second) || second.left._tag !== "OutputLockedError") {
        throw new Error(`expected OutputLockedError, got ${JSON.stringify(second)}`)
      }
      expect(second.left.holder.pid).toBe(process.pid)
      expect(second.left.message).toMatch(
        /out\.csv is being written by another certcentral-export \(pid \d+, since \d\d:\d\d:\d\d\)$/
      )
      yield* Deferred.succeed(goOn, undefined)
      const summary = yield* Fiber.join(first)
      expect(summary.exported).toBe(ids.length)
      expectSameBytes(output, reference)
      expect(fs.existsSync(OutputLock.pathFor(output))).toBe(false)
    }).pipe(Effect.provide(env)))

  it.scoped("takes over a lock left by a process that no longer exists, and releases it at the end", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      fs.writeFileSync(OutputLock.pathFor(output), lockText({}))
      const summary = yield* Export.toFiles(OrderIds.fromIterable(ids.slice(0, 3)), { output })
      expect(summary.exported).toBe(3)
      expect(fs.readdirSync(dir).filter((name) => name.includes(".lock"))).toEqual([])
    }).pipe(Effect.provide(env)))

  it.scoped("takes over a lock naming this pid that this process does not hold (a container's former pid 1)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      fs.writeFileSync(OutputLock.pathFor(output), lockText({ pid: process.pid }))
      yield* OutputLock.acquire(output)
      expect(JSON.parse(fs.readFileSync(OutputLock.pathFor(output), "utf8")).nonce).not.toBe("former")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("takes over a lock file that is not a lock (unreadable content)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      fs.writeFileSync(OutputLock.pathFor(output), "garbage")
      yield* OutputLock.acquire(output)
      expect(JSON.parse(fs.readFileSync(OutputLock.pathFor(output), "utf8")).pid).toBe(process.pid)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("respects a lock of another host, whose process it cannot check, and names the host", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      const text = lockText({ host: "elsewhere.example", pid: 4242 })
      fs.writeFileSync(OutputLock.pathFor(output), text)
      const result = yield* Effect.either(Effect.scoped(OutputLock.acquire(output)))
      if (Either.isRight(result) || result.left._tag !== "OutputLockedError") throw new Error("expected a refusal")
      expect(result.left.message).toMatch(/\(pid 4242 on elsewhere\.example, since /)
      expect(fs.readFileSync(OutputLock.pathFor(output), "utf8")).toBe(text)
      expect(fs.readdirSync(dir)).toEqual(["out.csv.lock"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("lets exactly one of many concurrent takers have a stale lock", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      fs.writeFileSync(OutputLock.pathFor(output), lockText({}))
      const release = yield* Deferred.make<void>()
      const refusedAll = yield* Deferred.make<void>()
      let refused = 0
      const taker = Effect.scoped(Effect.zipRight(OutputLock.acquire(output), Deferred.await(release))).pipe(
        Effect.either,
        Effect.tap((result) =>
          Either.isLeft(result) && ++refused === 7 ? Deferred.succeed(refusedAll, undefined) : Effect.void
        )
      )
      // the winner holds on until the seven others are refused (two winners would never get there)
      const takers = yield* Effect.fork(
        Effect.all(Array.from({ length: 8 }, () => taker), { concurrency: "unbounded" })
      )
      yield* Deferred.await(refusedAll)
      yield* Deferred.succeed(release, undefined)
      const results = yield* Fiber.join(takers)
      expect(results.filter(Either.isRight)).toHaveLength(1)
      for (const result of results.filter(Either.isLeft)) expect(result.left._tag).toBe("OutputLockedError")
      expect(fs.readdirSync(dir)).toEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("is taken again for free inside a scope that holds it, and released when the outer scope ends", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      yield* OutputLock.withLock(output)(Effect.gen(function*() {
        yield* Effect.scoped(OutputLock.acquire(output))
        // the inner scope's end does not release the outer hold
        expect(fs.existsSync(OutputLock.pathFor(output))).toBe(true)
      }))
      expect(fs.existsSync(OutputLock.pathFor(output))).toBe(false)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("is released after a failed export and after an interrupted one", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const output = path.join(dir, "out.csv")
      const failing = Stream.concat(OrderIds.fromIterable(ids.slice(0, 3)), Stream.fail("input broke"))
      const failed = yield* Effect.exit(Export.toFiles(failing, { output }))
      expect(Exit.isFailure(failed)).toBe(true)
      expect(fs.existsSync(OutputLock.pathFor(output))).toBe(false)

      const started = yield* Deferred.make<void>()
      const hanging = Stream.concat(
        OrderIds.fromIterable(ids.slice(0, 3)),
        Stream.fromEffect(Effect.zipRight(Deferred.succeed(started, undefined), Effect.never)).pipe(Stream.drain)
      )
      const running = yield* Effect.fork(Export.toFiles(hanging, { output }))
      yield* Deferred.await(started)
      expect(fs.existsSync(OutputLock.pathFor(output))).toBe(true)
      yield* Fiber.interrupt(running)
      expect(fs.existsSync(OutputLock.pathFor(output))).toBe(false)
      // and the next run takes it
      yield* Effect.scoped(OutputLock.acquire(output))
    }).pipe(Effect.provide(env)))
})
