import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Faults from "../src/Faults.js"

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))

const run = (args: ReadonlyArray<string>, untilLine?: RegExp) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // tsx as a loader in the one process (as an installed bin runs), not the tsx CLI: the CLI relays a signal to its
    // child only when the child has reported back within 30 ms, else it exits 143 itself (always so on Node 24)
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
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

  // four process start-ups side by side (tsx compiles the bin at each; in a row they wait on each other's I/O too): 60 s
  // was not enough for them in a row on a loaded machine
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
