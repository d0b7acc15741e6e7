import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cli from "./support/cli.js"
import * as Secrets from "./support/secrets.js"

// The guard every CLI run of the suite goes through (support/cli.ts): it must find a key wherever a run may leave one.
describe("the secret guard", () => {
  const key = "guard-test-key-7f3a9c"

  it("finds a key in stdout, stderr and each file a run writes, and names where without the key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-guard-"))
    try {
      const output = path.join(dir, "out.csv")
      const args = ["--orders", "x", "--output", output, "--errors", path.join(dir, "e.ndjson")]
      expect(Cli.filesOf(args)).toEqual([
        output,
        path.join(dir, "e.ndjson"),
        `${output}.checkpoint.json`,
        `${output}.checkpoint.json.tmp`,
        `${output}.orders.txt`,
        `${output}.orders.txt.tmp`
      ])
      for (const file of Cli.filesOf(args)) fs.writeFileSync(file, "clean\n")
      expect(Secrets.findLeaks([key], { stdout: "", stderr: "all fine" }, Cli.filesOf(args))).toEqual([])
      for (const file of Cli.filesOf(args)) {
        fs.writeFileSync(file, `a,b\r\n1,${key}\r\n`)
        expect(Secrets.findLeaks([key], {}, Cli.filesOf(args))).toEqual([file])
        fs.writeFileSync(file, "clean\n")
      }
      expect(Secrets.findLeaks([key], { stdout: `x ${key}`, stderr: "" }, [])).toEqual(["stdout"])
      expect(() => Secrets.assertNoLeaks([key], { stderr: `401 ${key}` }, [])).toThrow(/found in: stderr$/)
      try {
        Secrets.assertNoLeaks([key], { stderr: key }, [])
      } catch (e) {
        expect(String(e)).not.toContain(key)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("guards the key of the run's environment and every registered key", () => {
    Secrets.register("registered-key-1234")
    expect(Secrets.keysFor({ DIGICERT_API_KEY: "env-key-5678" })).toEqual(
      expect.arrayContaining(["registered-key-1234", "env-key-5678"])
    )
    expect(Secrets.keysFor({ DIGICERT_API_KEY: "  " })).not.toContain("  ")
  })
})
