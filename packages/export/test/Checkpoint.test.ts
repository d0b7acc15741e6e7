import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import * as path from "node:path"
import { Checkpoint } from "../src/index.js"

const sample: Checkpoint.Checkpoint = {
  version: 2,
  format: "csv",
  include: ["order", "duplicates", "reissues"],
  showArchived: false,
  errors: "/tmp/out.csv.errors.ndjson",
  entries: 42,
  inputDigest: "a".repeat(64),
  outputBytes: 1234,
  errorsBytes: 56,
  outputDigest: "b".repeat(64),
  errorsDigest: "c".repeat(64),
  exported: 40,
  failed: 1,
  badLines: 1,
  rows: 97,
  complete: false
}

const inTempDir = <A, E>(f: (dir: string, fs: FileSystem.FileSystem) => Effect.Effect<A, E, FileSystem.FileSystem>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    return yield* f(dir, fs)
  }).pipe(Effect.provide(NodeFileSystem.layer))

describe("Checkpoint", () => {
  it.scoped("reads nothing where there is none, then exactly what was written; a rewrite replaces it whole", () =>
    inTempDir((dir, fs) =>
      Effect.gen(function*() {
        const file = Checkpoint.pathFor(path.join(dir, "out.csv"))
        expect(file).toBe(path.join(dir, "out.csv.checkpoint.json"))
        expect(yield* Checkpoint.read(file)).toEqual(Option.none())
        yield* Checkpoint.write(file, sample)
        expect(yield* Checkpoint.read(file)).toEqual(Option.some(sample))
        const done = { ...sample, entries: 50, complete: true, source: "--orders-from account --filter status=issued" }
        yield* Checkpoint.write(file, done)
        expect(yield* Checkpoint.read(file)).toEqual(Option.some(done))
        // the temporary file was renamed into place, never left behind
        expect(yield* fs.readDirectory(dir)).toEqual(["out.csv.checkpoint.json"])
      })
    ))

  it.scoped("still reads a version 1 checkpoint (sizes only, no digests)", () =>
    inTempDir((dir, fs) =>
      Effect.gen(function*() {
        const file = path.join(dir, "v1.checkpoint.json")
        const { errorsDigest: _e, outputDigest: _o, ...v1 } = { ...sample, version: 1 as const }
        yield* fs.writeFileString(file, JSON.stringify(v1))
        expect(yield* Checkpoint.read(file)).toEqual(Option.some(v1))
      })
    ))

  it.scoped("refuses what is not a checkpoint with a ResumeError, and an unreadable one with an OutputError", () =>
    inTempDir((dir, fs) =>
      Effect.gen(function*() {
        const refused = (file: string) =>
          Effect.map(Effect.exit(Checkpoint.read(file)), (exit) =>
            Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined)
        const cases = {
          "cut.json": JSON.stringify(sample).slice(0, 40),
          "version3.json": JSON.stringify({ ...sample, version: 3 }),
          "format.json": JSON.stringify({ ...sample, format: "xlsx" }),
          "missing-field.json": JSON.stringify({ ...sample, entries: undefined }),
          "not-an-object.json": "[]"
        }
        for (const [name, text] of Object.entries(cases)) {
          const file = path.join(dir, name)
          yield* fs.writeFileString(file, text)
          const error = yield* refused(file)
          expect(error?._tag, name).toBe("ResumeError")
          expect(error?.message, name).toBe(`checkpoint ${file} is unreadable or from another version`)
        }
        // a directory where the checkpoint should be: the file cannot be read at all
        const dirCheckpoint = path.join(dir, "dir.checkpoint.json")
        yield* fs.makeDirectory(dirCheckpoint)
        const error = yield* refused(dirCheckpoint)
        expect(error?._tag).toBe("OutputError")
        expect(error?.message).toMatch(new RegExp(`^cannot read checkpoint ${dirCheckpoint}: `))
      })
    ))

  it.scoped("removes the checkpoint and a temporary file left by a crash, and is fine when there is none", () =>
    inTempDir((dir, fs) =>
      Effect.gen(function*() {
        const file = path.join(dir, "out.ndjson.checkpoint.json")
        yield* Checkpoint.write(file, sample)
        yield* fs.writeFileString(`${file}.tmp`, "{\"half\":")
        yield* Checkpoint.remove(file)
        expect(yield* fs.readDirectory(dir)).toEqual([])
        yield* Checkpoint.remove(file)
        expect(yield* Checkpoint.read(file)).toEqual(Option.none())
      })
    ))
})
