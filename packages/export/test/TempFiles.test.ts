/**
 * No temporary file outlives a failure: the checkpoint's `.tmp` when its rename fails or the disk fills (ENOSPC, on a
 * small tmpfs when the tests run as root), and a listing's `.tmp` when it cannot be renamed into place.
 */
import { CertCentralClient } from "@certcentral/core"
import { TestServer } from "@certcentral/testkit"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { Checkpoint, Export, OrderIds, OrderListing } from "../src/index.js"

const server = TestServer.layer({ rateLimit: "off", account: 40 })
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

const checkpoint: Checkpoint.Checkpoint = {
  version: 2,
  format: "csv",
  include: ["order"],
  showArchived: false,
  errors: "/x.errors.ndjson",
  entries: 0,
  inputDigest: "",
  outputBytes: 0,
  errorsBytes: 0,
  exported: 0,
  failed: 0,
  badLines: 0,
  rows: 0,
  complete: false
}

const temporaries = (dir: string) => fs.readdirSync(dir).filter((name) => name.endsWith(".tmp"))

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "temp-files-"))

describe("temporary files", () => {
  it.effect("a checkpoint whose rename fails leaves no .tmp, and the old one as it was", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      // a non-empty directory where the checkpoint goes: the rename over it fails
      const file = path.join(dir, "out.csv.checkpoint.json")
      fs.mkdirSync(path.join(file, "inside"), { recursive: true })
      const result = yield* Effect.either(Checkpoint.write(file, checkpoint))
      expect(Either.isLeft(result)).toBe(true)
      expect(temporaries(dir)).toEqual([])
      expect(fs.readdirSync(file)).toEqual(["inside"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("a listing that cannot be renamed into place leaves no .tmp", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const file = path.join(dir, "out.csv.orders.txt")
      fs.mkdirSync(path.join(file, "inside"), { recursive: true })
      const error = yield* Effect.flip(OrderListing.toFile(file, { from: "account" }))
      expect(error._tag).toBe("OutputError")
      expect(error.message).toMatch(/^cannot rename into place /)
      expect(temporaries(dir)).toEqual([])
    }).pipe(Effect.provide(env)))

  describe("on a full disk", () => {
    const mountPoint = path.join(os.tmpdir(), `temp-files-tmpfs-${process.pid}`)
    let mounted = false
    const asRoot = process.getuid?.() === 0
    beforeAll(() => {
      if (!asRoot) return
      fs.mkdirSync(mountPoint, { recursive: true })
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint], { stdio: "ignore" })
        mounted = true
      } catch {
        // no mount in this sandbox: the test says so below
      }
    })
    afterAll(() => {
      if (mounted) execFileSync("umount", [mountPoint], { stdio: "ignore" })
      fs.rmSync(mountPoint, { recursive: true, force: true })
    })

    // a 64 KiB tmpfs needs root (mount); elsewhere the test is skipped, with this reason in its name
    it.effect.skipIf(!asRoot)(
      "(root only: a 64 KiB tmpfs) an export that meets ENOSPC leaves no .tmp behind",
      () =>
        Effect.gen(function*() {
          if (!mounted) return yield* Effect.dieMessage(`cannot mount a tmpfs at ${mountPoint} as root`)
          const output = path.join(mountPoint, "out.csv")
          const ids = Array.from({ length: 400 }, (_, i) => 5000 + i * 7)
          const result = yield* Effect.either(
            Export.toFiles(OrderIds.fromIterable(ids), { output, checkpointEvery: 0 })
          )
          if (Either.isRight(result)) throw new Error("expected the export to fill the disk")
          expect(result.left.message).toMatch(/ENOSPC/)
          expect(temporaries(mountPoint)).toEqual([])
          expect(fs.readdirSync(mountPoint).filter((name) => name.includes(".lock"))).toEqual([])
        }).pipe(Effect.provide(env))
    )
  })
})
