/**
 * What only the built bin shows, run as a user runs it (`dist/bin.js`, the esbuild bundle, on plain Node; see
 * `support/cli.ts`): its exit codes and one-line messages without stack traces, `--help` and `--version` of the bundle,
 * SIGINT -> 130 with a checkpoint to resume from, and SIGKILL mid-export then `--resume` to byte-identical files. The
 * flags, messages and exit codes themselves are checked in this process, in `Cli.test.ts`.
 */
import { OrderScript, Samples, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ensureBuilt } from "./support/built.js"
import * as Cli from "./support/cli.js"
import * as Secrets from "./support/secrets.js"

// the built bin is what these tests start: bring dist/ up to date first, within the hook's timeout
beforeAll(() => ensureBuilt(), 120_000)

const start = Cli.start

let server: TestServer.Handle
// where the interrupted runs go: its answers are held after the first few, so that a signal surely lands mid-export
let held: TestServer.Handle
let dir: string
const env = () => Cli.envFor(server)
const run = (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}) =>
  start([...args], { ...env(), ...extraEnv }).done
const file = (name: string) => path.join(dir, name)
const write = (name: string, text: string) => {
  fs.writeFileSync(file(name), text)
  return file(name)
}

const generated = Array.from({ length: 40 }, (_, i) => 5000 + i * 13)
const NOT_FOUND = 777001
const FORBIDDEN = 777002

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-bin-"))
  server = await TestServer.start({
    rateLimit: "off",
    orders: { [NOT_FOUND]: OrderScript.notFound, [FORBIDDEN]: OrderScript.missingPermission }
  })
  held = await TestServer.start({
    rateLimit: "off",
    orders: { [NOT_FOUND]: OrderScript.notFound, [FORBIDDEN]: OrderScript.missingPermission }
  })
})

afterAll(async () => {
  await server.close()
  await held.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe("the certcentral-export bundle", () => {
  it("prints its help and the package's version, exit 0", async () => {
    const [help, printed] = await Promise.all([run(["--help"]), run(["--version"])])
    expect(help.code).toBe(0)
    expect(help.stderr).toBe("")
    expect(help.stdout).toContain("--orders path")
    expect(help.stdout).toContain("--max-outage duration")
    expect(help.stdout).not.toContain("A user-defined piece of text")
    const { version } = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    expect(printed.code).toBe(0)
    expect(printed.stdout.trim()).toBe(version)
  })

  it("exits 2 with one line and no stack trace for misuse, 3 for a refused key, 0 for a clean export", async () => {
    const orders = write("ids.txt", "5000\n5013\n")
    const out = ["--output", file("u.csv")]
    const wrongKey = "Z8NC3VT5QK1RW7MB2XJ9PLD4FGH6YES0"
    Secrets.register(wrongKey)
    // five processes side by side
    const [refused, clean, ...misuse] = await Promise.all([
      run(["--orders", orders, "--output", file("auth.csv")], { DIGICERT_API_KEY: wrongKey }),
      run(["--orders", orders, "--output", file("clean.csv"), "--rate-limit", "off", "--quiet"]),
      run(["--orders", orders, ...out, "--frobnicate"]),
      run(["--orders", file("missing.txt"), ...out]),
      run(["--orders", orders, ...out], { DIGICERT_API_KEY: "" })
    ])
    for (const result of misuse) {
      expect(result.code).toBe(2)
      const lines = result.stderr.split("\n").filter((line) => line.trim() !== "")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^certcentral-export: /)
      expect(result.stderr).not.toMatch(/\bat .*\(.*:\d+:\d+\)|\n\s+at /)
      expect(result.stdout).toBe("")
    }
    expect(refused.code).toBe(3)
    expect(refused.stderr).toMatch(/401.*DIGICERT_API_KEY/)
    expect(clean.code).toBe(0)
    expect(clean.stderr).toBe("")
  })

  const resumeInput = [
    ...generated.slice(0, 20),
    NOT_FOUND,
    "bad-line",
    ...generated.slice(20),
    FORBIDDEN,
    ...Samples.orderIds
  ].join("\n") + "\n"

  // the interrupted runs get this many answers (some 15 orders), then none until the signal has landed
  const HOLD_AFTER = 45
  const holding = async <A>(afterRequests: number, f: () => Promise<A>): Promise<A> => {
    held.hold({ afterRequests })
    try {
      return await f()
    } finally {
      held.release()
    }
  }

  it("resumes after SIGKILL to files byte-identical to an uninterrupted run", async () => {
    const orders = write("resume.txt", resumeInput)
    const args = (
      output: string
    ) => ["--orders", orders, "--output", output, "--rate-limit", "off", "--concurrency", "2"]
    // the uninterrupted run, in this process (the same code as the bundle's)
    const reference = await Cli.runInProcess([...args(file("ref.ndjson")), "--quiet"], env())
    expect(reference.code).toBe(1)

    const killed = await holding(HOLD_AFTER, async () => {
      const first = start(args(file("killed.ndjson")), Cli.envFor(held))
      await Cli.waitForSize(file("killed.ndjson"), 2000, 60_000, first)
      await Cli.waitForCheckpoint(file("killed.ndjson"), 3)
      first.child.kill("SIGKILL")
      return first.done
    })
    expect(killed.signal).toBe("SIGKILL")
    expect(fs.statSync(file("killed.ndjson")).size).toBeLessThan(fs.statSync(file("ref.ndjson")).size)

    server.resetStats()
    const resumed = await start([...args(file("killed.ndjson")), "--resume"], env()).done
    expect(resumed.code).toBe(1)
    // only what the checkpoint did not cover was fetched again
    expect(server.stats().byRoute.subaccountOrder).toBeLessThan(generated.length + 5)
    expect(fs.readFileSync(file("killed.ndjson"))).toEqual(fs.readFileSync(file("ref.ndjson")))
    expect(fs.readFileSync(file("killed.ndjson.errors.ndjson"))).toEqual(
      fs.readFileSync(file("ref.ndjson.errors.ndjson"))
    )
  }, 180_000)

  it("stops within a few seconds on SIGINT, leaving complete rows and a checkpoint to resume from", async () => {
    const orders = write("sigint.txt", resumeInput)
    const args = (
      output: string
    ) => ["--orders", orders, "--output", output, "--rate-limit", "off", "--concurrency", "2"]
    const reference = await Cli.runInProcess([...args(file("ref-int.csv")), "--quiet"], env())
    expect(reference.code).toBe(1)

    const [interrupted, took] = await holding(HOLD_AFTER, async () => {
      const first = start(args(file("int.csv")), Cli.envFor(held))
      await Cli.waitForSize(file("int.csv"), 3000, 60_000, first)
      const sent = Date.now()
      first.child.kill("SIGINT")
      const interrupted = await first.done
      return [interrupted, Date.now() - sent] as const
    })
    expect(took).toBeLessThan(10_000)
    expect(interrupted.code).toBe(130)
    expect(interrupted.stderr).toContain("--resume")
    const partial = fs.readFileSync(file("int.csv"), "utf8")
    expect(partial.endsWith("\r\n")).toBe(true)
    expect(fs.existsSync(file("int.csv.checkpoint.json"))).toBe(true)

    const resumed = await run([...args(file("int.csv")), "--resume", "--quiet"])
    expect(resumed.code).toBe(1)
    expect(fs.readFileSync(file("int.csv"))).toEqual(fs.readFileSync(file("ref-int.csv")))
    expect(fs.readFileSync(file("int.csv.errors.ndjson"))).toEqual(fs.readFileSync(file("ref-int.csv.errors.ndjson")))
  }, 180_000)
})
