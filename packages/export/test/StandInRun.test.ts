import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as StandInRun from "./support/standIn.js"

describe("the CLI in this process against the in-memory stand-in, on the test clock", () => {
  it.effect("exports orders under DigiCert's windows with the clock moved, not waited for", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-run-"))
      const ids = path.join(dir, "ids.txt")
      fs.writeFileSync(ids, Array.from({ length: 150 }, (_, i) => 1000 + i).join("\n"))
      const api = yield* StandInRun.api()
      const result = yield* StandInRun.run(api, ["--orders", ids, "--output", path.join(dir, "out.csv")])
      expect(result.exitCode).toBe(0)
      const stats = yield* api.standIn.stats
      expect(stats.requests).toBe(450)
      expect(stats.rateLimited).toBe(0)
      expect(fs.readFileSync(path.join(dir, "out.csv"), "utf8").split("\n")[0]).toMatch(/^order_id,source,/)
    }))
})
