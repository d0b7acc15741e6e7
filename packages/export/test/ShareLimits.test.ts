/**
 * `--share-limits` misuse and setup, the CLI in this process: URLs refused before connecting, the environment
 * variable, an unreachable Redis and the conflict with `--rate-limit off`. The end-to-end runs against a real
 * redis-server are in `ShareLimits.process.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { freePort } from "../../core/test/fixtures/redisServer.js"
import * as Cli from "./support/cli.js"

let dir: string
const file = (name: string) => path.join(dir, name)

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-share-"))
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe("--share-limits: misuse and setup", () => {
  const env = { DIGICERT_API_KEY: "share-limits-test-key", DIGICERT_BASE_URL: "http://127.0.0.1:9/services/v2" }

  it("refuses a URL that is not redis:// or rediss:// before connecting: exit 2, one line", async () => {
    fs.writeFileSync(file("one.txt"), "101\n")
    for (const url of ["http://127.0.0.1:6379", "redis://", "not a url", "redis://127.0.0.1:6379/db1"]) {
      const run = await Cli.runInProcess([
        "--orders",
        file("one.txt"),
        "--output",
        file("x.csv"),
        "--share-limits",
        url
      ], env)
      expect(run.code).toBe(2)
      expect(run.stderr.trim().split("\n")).toHaveLength(1)
      expect(run.stderr).toContain("--share-limits")
    }
    expect(fs.existsSync(file("x.csv"))).toBe(false)
  })

  it("reads CERTCENTRAL_SHARE_LIMITS and checks it the same way", async () => {
    fs.writeFileSync(file("one.txt"), "101\n")
    const run = await Cli.runInProcess(["--orders", file("one.txt"), "--output", file("x.csv")], {
      ...env,
      CERTCENTRAL_SHARE_LIMITS: "memcached://127.0.0.1:11211"
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("--share-limits must be redis://")
  })

  it("Redis unreachable at start: exit 2 with one line that never shows the password", async () => {
    fs.writeFileSync(file("one.txt"), "101\n")
    const port = await freePort()
    const url = `redis://user:s3cret-redis-pass@127.0.0.1:${port}/2`
    for (const [args, extra] of [[["--share-limits", url], {}], [[], { CERTCENTRAL_SHARE_LIMITS: url }]] as const) {
      const run = await Cli.runInProcess(
        ["--orders", file("one.txt"), "--output", file("y.csv"), "--quiet", ...args],
        { ...env, ...extra }
      )
      expect(run.code).toBe(2)
      const lines = run.stderr.trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`cannot use Redis at redis://127.0.0.1:${port}/2 to share rate limits`)
      expect(run.stderr).not.toContain("s3cret-redis-pass")
      expect(run.stderr).not.toContain("user:")
    }
  })

  it("refuses --share-limits with --rate-limit off: exit 2", async () => {
    fs.writeFileSync(file("one.txt"), "101\n")
    const run = await Cli.runInProcess(
      ["--orders", file("one.txt"), "--output", file("z.csv"), "--rate-limit", "off", "--share-limits", "redis://h:1"],
      env
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("--rate-limit off")
  })
})
