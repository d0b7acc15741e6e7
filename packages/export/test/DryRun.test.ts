/**
 * `--dry-run` through the CLI in this process, against the in-memory stand-in on the test clock: the plan on stdout
 * with exact figures, no per-order request (none at all for an ids file), the listing written as a real run writes it,
 * and neither the output nor the errors file created.
 */
import { Account } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as StandInRun from "./support/standIn.js"

const SEED = 41
const ORDERS = 3000
const account = Account.withDuplicates(SEED, ORDERS, 0.1)
const withDuplicates = account.filter((id) => Account.hasDuplicates(SEED, id)).length

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "dry-run-"))

/** The files a dry run may leave beside `output`, by suffix. */
const leftBeside = (output: string) =>
  fs.readdirSync(path.dirname(output)).filter((name) => name.startsWith(path.basename(output))).sort()

describe("--dry-run", () => {
  it.effect("an ids file: read, planned, bad lines counted, not a single request, no key needed, nothing written", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const ids = path.join(dir, "ids.csv")
      // three hinted without duplicates, one with, one unknown, a repeat and two bad lines
      fs.writeFileSync(
        ids,
        [
          "order_id,has_duplicates",
          "1001,false",
          "1002,0",
          "1003,false",
          "1004,true",
          "1005,",
          "1001,false",
          "x1",
          "-3"
        ]
          .join("\n") + "\n"
      )
      const output = path.join(dir, "out.csv")
      const api = yield* StandInRun.api()
      const result = yield* StandInRun.run(api, ["--orders", ids, "--output", output, "--dry-run"], { env: {} })
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toBe(
        "5 orders, 1 with duplicates, 1 not known, 2 bad input lines: 12 requests, 2.40 per order " +
          "(order 5, duplicates 2, reissues 5), at least 0s at 100/5s,1000/3m\n"
      )
      expect(result.stderr.filter((line) => line.startsWith("bad input line"))).toEqual([
        expect.stringMatching(/^bad input line 8: /),
        expect.stringMatching(/^bad input line 9: /)
      ])
      expect(result.stderr.at(-1)).toMatch(/^Dry run: nothing was requested or written/)
      expect((yield* api.standIn.stats).requests).toBe(0)
      expect(leftBeside(output)).toEqual([])
    }))

  it.effect("ids on stdin, with --rate-limit off: planned from what stdin holds, nothing requested", () =>
    Effect.gen(function*() {
      const api = yield* StandInRun.api()
      const output = path.join(tempDir(), "out.csv")
      const result = yield* StandInRun.run(
        api,
        ["--orders", "-", "--output", output, "--dry-run", "--rate-limit", "off", "--quiet"],
        { env: {}, stdin: "1001\n1002\nabc\n1001\n" }
      )
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toBe(
        "2 orders, duplicates not known, 1 bad input line: 6 requests, 3.00 per order " +
          "(order 2, duplicates 2, reissues 2), no rate limit: as fast as the API answers\n"
      )
      expect(result.stderr).toEqual([])
      expect((yield* api.standIn.stats).requests).toBe(0)
      expect(leftBeside(output)).toEqual([])
    }))

  it.effect("--orders-from account: only list requests, the listing file written, the plan's figures exact", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "out.csv")
      const api = yield* StandInRun.api({ seed: SEED, account })
      const result = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--dry-run"])
      expect(result.exitCode).toBe(0)
      expect(withDuplicates).toBe(300)
      // 3 pages + 3,000 order + 300 duplicates + 3,000 reissues = 6,303: six full 3-minute windows, then 303 at
      // 100 per 5 s (18m, 18m05s, 18m10s, 18m15s)
      expect(result.stdout).toBe(
        "3,000 orders, 300 with duplicates: 6,303 requests, 2.10 per order " +
          "(list 3, order 3,000, duplicates 300, reissues 3,000), at least 18m15s at 100/5s,1000/3m\n"
      )
      const stats = yield* api.standIn.stats
      expect(stats.requests).toBe(3)
      expect(stats.byRoute.listOrders).toBe(3)
      expect(leftBeside(output)).toEqual(["out.csv.orders.txt"])
      const listing = fs.readFileSync(`${output}.orders.txt`, "utf8").trimEnd().split("\n")
      expect(listing).toHaveLength(ORDERS + 1)
      expect(result.stderr.at(-1)).toBe(
        `Dry run: no order was requested and ${output} was not written. The listing is in ${output}.orders.txt: ` +
          "the same command with --resume instead of --dry-run exports exactly these orders; without --resume it " +
          "lists again."
      )
    }))

  it.effect("the same command with --resume exports the dry run's listing: exactly the planned requests, no list", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "out.csv")
      // exported twice below (the dry run's listing, then listed again): 100 orders, a tenth with duplicates, make every
      // kind of request
      const small = Account.withDuplicates(SEED, 100, 0.1)
      const api = yield* StandInRun.api({ seed: SEED, account: small, rateLimit: "off" })
      const dry = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--dry-run", "--quiet"])
      // 211 requests at 100 per 5 s: at 0, 5 and 10 s
      expect(dry.stdout).toBe(
        "100 orders, 10 with duplicates: 211 requests, 2.11 per order " +
          "(list 1, order 100, duplicates 10, reissues 100), at least 10s at 100/5s,1000/3m\n"
      )
      yield* api.standIn.resetStats
      const real = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--resume", "--quiet"])
      expect(real.exitCode).toBe(0)
      const stats = yield* api.standIn.stats
      expect(stats.byRoute).toMatchObject({ listOrders: 0, subaccountOrder: 100, duplicates: 10, reissues: 100 })
      expect(stats.requests).toBe(210)
      // the same rows as a run that lists again
      const again = path.join(dir, "again.csv")
      expect((yield* StandInRun.run(api, ["--orders-from", "account", "--output", again, "--quiet"])).exitCode).toBe(0)
      expect(fs.readFileSync(output, "utf8")).toBe(fs.readFileSync(again, "utf8"))

      // now that out.csv holds an export, --resume would continue it: the note names the listing file instead
      const next = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--dry-run"])
      expect(next.exitCode).toBe(0)
      expect(next.stderr.at(-1)).toContain(
        `--orders ${output}.orders.txt exports exactly these orders (${output} holds an earlier export)`
      )
    }))

  it.effect("--include and --rate-limit off shape the plan", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "out.ndjson")
      const api = yield* StandInRun.api({ seed: SEED, account })
      const noDuplicates = yield* StandInRun.run(api, [
        "--orders-from",
        "account",
        "--output",
        output,
        "--include",
        "order,reissues",
        "--dry-run"
      ])
      expect(noDuplicates.exitCode).toBe(0)
      expect(noDuplicates.stdout).toBe(
        "3,000 orders, 300 with duplicates: 6,003 requests, 2.00 per order (list 3, order 3,000, reissues 3,000), " +
          "at least 18m at 100/5s,1000/3m\n"
      )
      const unlimited = yield* StandInRun.run(api, [
        "--orders-from",
        "account",
        "--output",
        output,
        "--include",
        "duplicates",
        "--rate-limit",
        "off",
        "--dry-run",
        "--quiet"
      ])
      expect(unlimited.exitCode).toBe(0)
      expect(unlimited.stdout).toBe(
        "3,000 orders, 300 with duplicates: 303 requests, 0.10 per order (list 3, duplicates 300), " +
          "no rate limit: as fast as the API answers\n"
      )
      expect(unlimited.stderr).toEqual([])
      expect((yield* api.standIn.stats).requests).toBe(6)
      expect(leftBeside(output)).toEqual(["out.ndjson.orders.txt"])
    }))

  it.effect("--help describes --dry-run", () =>
    Effect.gen(function*() {
      const result = yield* StandInRun.run(yield* StandInRun.api(), ["--help"], { env: {} })
      expect(result.exitCode).toBe(0)
      // eslint-disable-next-line no-control-regex
      expect(result.stdout.replace(/\u001b\[[0-9;]*m/g, "")).toContain(
        "\n--dry-run\n\n  A true or false value.\n\n  Plan only: read the ids"
      )
    }))

  it.effect("misuse and an interrupted export at the output: exit 2, one line, nothing requested or replaced", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const output = path.join(dir, "out.csv")
      const api = yield* StandInRun.api({ seed: SEED, account })
      const withResume = yield* StandInRun.run(api, [
        "--orders-from",
        "account",
        "--output",
        output,
        "--dry-run",
        "--resume"
      ])
      expect(withResume.exitCode).toBe(2)
      expect(withResume.stderr).toEqual(["certcentral-export: --dry-run plans a fresh run: not with --resume"])

      // an export interrupted after its listing: its checkpoint is not complete
      fs.writeFileSync(`${output}.orders.txt`, "order_id,has_duplicates\n100001,false\n")
      fs.writeFileSync(
        `${output}.checkpoint.json`,
        JSON.stringify({
          version: 2,
          format: "csv",
          include: ["order", "duplicates", "reissues"],
          showArchived: false,
          errors: `${output}.errors.ndjson`,
          source: "--orders-from account",
          entries: 0,
          inputDigest: "",
          outputBytes: 0,
          errorsBytes: 0,
          exported: 0,
          failed: 0,
          badLines: 0,
          rows: 0,
          complete: false
        })
      )
      const interrupted = yield* StandInRun.run(api, ["--orders-from", "account", "--output", output, "--dry-run"])
      expect(interrupted.exitCode).toBe(2)
      expect(interrupted.stderr).toEqual([
        `certcentral-export: ${output} holds an interrupted export: finish it with --resume first, or plan with another --output`
      ])
      expect(fs.readFileSync(`${output}.orders.txt`, "utf8")).toBe("order_id,has_duplicates\n100001,false\n")
      expect((yield* api.standIn.stats).requests).toBe(0)
    }))
})
