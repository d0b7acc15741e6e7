import { beforeAll, describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ensureBuilt } from "../../export/test/support/built.js"
import * as Faults from "../src/Faults.js"

// The bin as it is published and as `pnpm certcentral-testkit` runs it: the built JavaScript on plain Node (built
// first when a source changed, one test worker at a time; the workspace's one build helper). A TypeScript loader in
// each process cost about 2.5 s of CPU a start, the built bin about 1 s.
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url))

beforeAll(() => ensureBuilt(), 120_000)

// without the tests' source condition, which would point plain Node at the workspace's TypeScript sources
const { NODE_OPTIONS: _, ...env } = process.env

const run = (args: ReadonlyArray<string>, untilLine?: RegExp) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], env })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString()
      if (untilLine !== undefined && untilLine.test(stdout)) child.kill("SIGTERM")
    })
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

describe("certcentral-testkit bin", () => {
  it("prints the base URL and key, and stops on SIGTERM", async () => {
    const r = await run(["--port", "0", "--api-key", "K1", "--rate-limit", "10/1s,100/1m"], /DIGICERT_API_KEY=.*\n/)
    expect(r.stdout).toMatch(/DIGICERT_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/services\/v2/)
    expect(r.stdout).toContain("DIGICERT_API_KEY=K1")
    expect(r.stdout).toContain("rate limit: 10/1s,100/1m")
    expect(r.code).toBe(0)
  })

  // four process start-ups side by side (in a row they wait on each other's I/O too)
  it("exits 2 with a one-line error on bad flags", { timeout: 240_000 }, async () => {
    const bad = [["--rate-limit", "5/x"], ["--port", "abc"], ["--faults", "nope=1"], ["--what"]]
    for (const r of await Promise.all(bad.map((args) => run(args)))) {
      expect(r.code).toBe(2)
      expect(r.stderr.split("\n")[0]).toMatch(/^certcentral-testkit: /)
      expect(r.stderr).not.toContain("    at ")
    }
  })
})

describe("Faults.parse", () => {
  it("reads kind=probability pairs with seed and slowMs", () => {
    expect(Faults.parse("serverError=0.02,resetDuringBody=0.01,seed=7,slowMs=500")).toEqual(
      Either.right({ serverError: 0.02, resetDuringBody: 0.01, seed: 7, slowMs: 500 })
    )
    for (const spec of ["serverError", "bogus=0.1", "serverError=2", "serverError=0.6,truncatedJson=0.6", "seed=1.5"]) {
      expect(Either.isLeft(Faults.parse(spec))).toBe(true)
    }
  })
})

describe("certcentral-testkit bin outages", () => {
  it("takes scripted outages in --faults and refuses bad ones with one line", async () => {
    const [ok, bad] = await Promise.all([
      run(["--port", "0", "--faults", "outage=1s+2s:503+1s:reset"], /DIGICERT_API_KEY=.*\n/),
      run(["--faults", "outage=1s+2s:down"])
    ])
    expect(ok.stdout).toMatch(/DIGICERT_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/services\/v2/)
    expect(ok.stderr).toBe("")
    expect(bad.code).toBe(2)
    expect(bad.stderr.split("\n")[0]).toMatch(/^certcentral-testkit: --faults: invalid outage/)
  })
})
