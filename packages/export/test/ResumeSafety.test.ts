/**
 * Exit 2, never silent corruption: an output directory that cannot be written, an output or errors file replaced,
 * edited or truncated under `--resume`, and a checkpoint that does not describe the files (from another run, another
 * format, edited). Each gives exit 2 with one line on stderr and leaves every existing file as it was. Every run is in
 * this process against the in-memory stand-in on the test clock.
 */
import { OrderScript } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestContext from "effect/TestContext"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Interrupt from "./support/interrupt.js"
import * as StandInRun from "./support/standIn.js"

const NOT_FOUND = 999001
const idsA = Array.from({ length: 200 }, (_, i) => 60_000 + i * 3)
const idsB = Array.from({ length: 200 }, (_, i) => 70_000 + i * 5)
const asRoot = process.getuid?.() === 0
const apiOptions = { rateLimit: "off", orders: { [NOT_FOUND]: OrderScript.notFound } } as const

let dir: string
/** Interrupted exports (as by SIGINT) of two different inputs, to copy from. */
let stateA: string
let stateB: string

const checkpointEntries = (output: string): number => {
  try {
    return JSON.parse(fs.readFileSync(`${output}.checkpoint.json`, "utf8")).entries
  } catch {
    return 0 // not written yet
  }
}

/** An export interrupted once its output is past `minBytes` and its checkpoint covers 5 entries. */
const interrupted = (name: string, ids: ReadonlyArray<number | string>, minBytes: number) =>
  Effect.gen(function*() {
    const state = path.join(dir, name)
    fs.mkdirSync(state)
    fs.writeFileSync(path.join(state, "ids.txt"), ids.join("\n") + "\n")
    const output = path.join(state, "out.csv")
    // answers take 50 ms (plus or minus 25) of the test clock: the run is still going at the point of interruption
    const slow = yield* StandInRun.api({ ...apiOptions, latency: { meanMs: 50, jitterMs: 25 } })
    const result = yield* StandInRun.run(
      slow,
      // without the client's limiter (the API has none here): its waits would only cost TestClock wake-ups
      [
        "--orders",
        path.join(state, "ids.txt"),
        "--output",
        output,
        "--concurrency",
        "2",
        "--rate-limit",
        "off",
        "--quiet"
      ],
      { interruptWhen: Interrupt.until(() => Interrupt.sizeOf(output) > minBytes && checkpointEntries(output) >= 5) }
    )
    if (result.exitCode !== 130) {
      throw new Error(`the export of ${name} was not interrupted: ${result.exitCode} ${result.stderrText}`)
    }
    return state
  })

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-resume-safety-"))
  ;[stateA, stateB] = await Effect.runPromise(
    Effect.all([
      interrupted("a", [...idsA.slice(0, 5), NOT_FOUND, "bad line", ...idsA.slice(5)], 20_000),
      // another input, stopped earlier than a
      interrupted("b", [NOT_FOUND, ...idsB], 6_000)
    ]).pipe(Effect.provide(TestContext.TestContext))
  )
}, 120_000)

afterAll(() => {
  if (dir !== undefined) {
    fs.chmodSync(dir, 0o700)
    for (const entry of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, entry), 0o700)
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** Another export's output repeated until it is larger than `bytes` (however far either run got). */
const largerThan = (bytes: number, other: Buffer): Buffer => {
  const larger = Buffer.concat(Array.from({ length: Math.floor(bytes / other.length) + 1 }, () => other))
  expect(larger.length).toBeGreaterThan(bytes)
  return larger
}

/** A copy of an interrupted export in a directory of its own; returns the paths in it. */
const copyOf = (state: string, name: string) => {
  const target = path.join(dir, name)
  fs.cpSync(state, target, { recursive: true })
  const output = path.join(target, "out.csv")
  // the checkpoint names the errors file by its absolute path: point it at the copy's
  const checkpoint = `${output}.checkpoint.json`
  const cp = JSON.parse(fs.readFileSync(checkpoint, "utf8"))
  fs.writeFileSync(checkpoint, JSON.stringify({ ...cp, errors: `${output}.errors.ndjson` }) + "\n")
  return {
    dir: target,
    orders: path.join(target, "ids.txt"),
    output,
    errors: `${output}.errors.ndjson`,
    checkpoint: `${output}.checkpoint.json`
  }
}

type Copy = ReturnType<typeof copyOf>

const snapshot = (d: string) =>
  Object.fromEntries(fs.readdirSync(d).sort().map((name) => [name, fs.readFileSync(path.join(d, name))]))

/** Runs the CLI with `--resume` (unless `fresh`) and checks: exit 2, one line matching `message`, files untouched. */
const refused = (copy: Copy, message: RegExp, extra: ReadonlyArray<string> = [], fresh = false) =>
  Effect.gen(function*() {
    const before = snapshot(copy.dir)
    const api = yield* StandInRun.api(apiOptions)
    const result = yield* StandInRun.run(
      api,
      ["--orders", copy.orders, "--output", copy.output, "--quiet", ...(fresh ? [] : ["--resume"]), ...extra]
    )
    expect(result.exitCode, result.stderrText).toBe(2)
    const lines = result.stderr.filter((line) => line.trim() !== "")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^certcentral-export: /)
    expect(lines[0]).toMatch(message)
    const after = snapshot(copy.dir)
    expect(Object.keys(after)).toEqual(Object.keys(before))
    for (const name of Object.keys(before)) {
      expect(after[name]!.equals(before[name]!), `${name} changed`).toBe(true)
    }
  })

const replaceAt = (file: string, at: number, text: string) => {
  const bytes = fs.readFileSync(file)
  bytes.write(text, at, "utf8")
  fs.writeFileSync(file, bytes)
}

describe("--resume never continues files the checkpoint does not describe", () => {
  it.effect("refuses an output replaced by a file of the same size", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "same-size")
      const bytes = fs.readFileSync(copy.output)
      // one digit of a row in the middle of what the checkpoint covers
      const at = bytes.indexOf("\r\n", Math.floor(bytes.length / 2)) + 3
      replaceAt(copy.output, at, String.fromCharCode(bytes[at]! === 0x39 ? 0x30 : 0x39))
      yield* refused(copy, /out\.csv is not the file the checkpoint was written for.*start over without --resume/)
    }))

  it.effect("refuses an output replaced by a larger, different file", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "larger")
      const cp = JSON.parse(fs.readFileSync(copy.checkpoint, "utf8"))
      fs.writeFileSync(copy.output, largerThan(cp.outputBytes, fs.readFileSync(path.join(stateB, "out.csv"))))
      yield* refused(copy, /is not the file the checkpoint was written for/)
    }))

  it.effect("refuses a truncated output", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "truncated")
      fs.truncateSync(copy.output, Math.floor(fs.statSync(copy.output).size / 2))
      yield* refused(copy, /fewer than the \d+ the checkpoint records; start over without --resume/)
    }))

  it.effect("refuses an errors file edited in place", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "errors-edited")
      const text = fs.readFileSync(copy.errors, "utf8")
      expect(text).toContain("NotFoundError")
      fs.writeFileSync(copy.errors, text.replace("NotFoundError", "NotFoundErrow"))
      yield* refused(copy, /errors\.ndjson is not the file the checkpoint was written for/)
    }))

  it.effect("refuses a checkpoint from another run", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "other-run")
      const other = JSON.parse(fs.readFileSync(path.join(stateB, "out.csv.checkpoint.json"), "utf8"))
      // the other run's checkpoint, as if it had been written for these very paths
      fs.writeFileSync(copy.checkpoint, JSON.stringify({ ...other, errors: copy.errors }) + "\n")
      // which check refuses it first depends on how far each interrupted run got: the digest, the input or, when the
      // other run got further, the size
      yield* refused(
        copy,
        /is not the file the checkpoint was written for|the input differs|fewer than the \d+ the checkpoint records/
      )
    }))

  it.effect("refuses a checkpoint of another format", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "other-format")
      yield* refused(copy, /checkpoint was written with format csv/, ["--format", "ndjson"])
    }))

  it.effect("refuses an edited checkpoint", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "edited")
      const cp = JSON.parse(fs.readFileSync(copy.checkpoint, "utf8"))
      // fewer bytes than were committed: resuming would cut a row in two and append after it
      fs.writeFileSync(copy.checkpoint, JSON.stringify({ ...cp, outputBytes: cp.outputBytes - 10 }) + "\n")
      yield* refused(copy, /out\.csv is not the file the checkpoint was written for/)
      fs.writeFileSync(copy.checkpoint, "{\"version\": 1, \"format\": \"csv\"")
      yield* refused(copy, /checkpoint .* is unreadable or from another version/)
    }))

  it.effect("refuses a complete checkpoint whose output was replaced (nothing to resume is not said of other files)", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "complete")
      const cp = JSON.parse(fs.readFileSync(copy.checkpoint, "utf8"))
      fs.writeFileSync(copy.checkpoint, JSON.stringify({ ...cp, complete: true }) + "\n")
      // larger than what the checkpoint records, so that only the digest can tell
      fs.writeFileSync(copy.output, largerThan(cp.outputBytes, fs.readFileSync(path.join(stateB, "out.csv"))))
      yield* refused(copy, /is not the file the checkpoint was written for/)
    }))

  it.effect("still resumes a version 1 checkpoint (sizes only) to the same files", () =>
    Effect.gen(function*() {
      const copy = copyOf(stateA, "version-1")
      const { errorsDigest: _e, outputDigest: _o, ...cp } = JSON.parse(fs.readFileSync(copy.checkpoint, "utf8"))
      fs.writeFileSync(copy.checkpoint, JSON.stringify({ ...cp, version: 1 }) + "\n")
      const reference = copyOf(stateA, "version-2")
      const [v1, v2] = yield* Effect.all(
        [copy, reference].map((c) =>
          Effect.flatMap(StandInRun.api(apiOptions), (api) =>
            StandInRun.run(api, [
              "--orders",
              c.orders,
              "--output",
              c.output,
              "--quiet",
              "--resume",
              "--concurrency",
              "8",
              "--rate-limit",
              "off"
            ]))
        ),
        { concurrency: 2 }
      )
      expect(v1!.exitCode, v1!.stderrText).toBe(1)
      expect(v2!.exitCode, v2!.stderrText).toBe(1)
      expect(fs.readFileSync(copy.output).equals(fs.readFileSync(reference.output))).toBe(true)
      expect(fs.readFileSync(copy.errors).equals(fs.readFileSync(reference.errors))).toBe(true)
    }))
})

describe("an output directory that cannot be written", () => {
  it.effect.skipIf(asRoot)("gives exit 2 and touches nothing, fresh or resumed", () =>
    Effect.gen(function*() {
      const resumable = copyOf(stateA, "read-only-resume")
      const fresh = copyOf(stateA, "read-only-fresh")
      fs.chmodSync(resumable.dir, 0o500)
      fs.chmodSync(fresh.dir, 0o500)
      yield* refused(resumable, /cannot write to the directory .*read-only-resume/)
      // without --resume an export starts over, but not by truncating files it could not finish
      yield* refused(fresh, /cannot write to the directory .*read-only-fresh/, [], true)
      const empty = path.join(dir, "read-only-empty")
      fs.mkdirSync(empty, 0o500)
      const result = yield* StandInRun.run(
        yield* StandInRun.api(apiOptions),
        ["--orders", resumable.orders, "--output", path.join(empty, "out.csv")]
      )
      expect(result.exitCode).toBe(2)
      expect(result.stderrText.trimEnd().split("\n")).toHaveLength(1)
      expect(result.stderrText).toMatch(/cannot write to the directory/)
      expect(fs.readdirSync(empty)).toEqual([])
    }))
})
