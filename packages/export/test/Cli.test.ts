/**
 * The CLI's flags, messages and exit codes, run in this process (`support/inProcess.ts`: the program with a map of
 * environment variables, a captured stderr and stdout) against a testkit server through undici, or a scripted
 * `HttpClient`. What only the built bin shows (its exit codes, `--help` and `--version`, signals) is in
 * `CliProcess.process.test.ts`.
 */
import { OrderScript, Samples, TestServer } from "@certcentral/testkit"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import Papa from "papaparse"
import { CertificateRow } from "../src/index.js"
import * as Cli from "./support/cli.js"
import * as InProcess from "./support/inProcess.js"
import * as Secrets from "./support/secrets.js"

let server: TestServer.Handle
let dir: string
const env = () => Cli.envFor(server)
const runWith = (args: ReadonlyArray<string>, runEnv: Record<string, string>, stdin?: string) =>
  InProcess.runPromise(args, { env: runEnv, http: NodeHttpClient.layerUndici, stdin }).then((result) => ({
    code: result.exitCode,
    stderr: result.stderrText,
    lines: result.stderr,
    stdout: result.stdout
  }))
const run = (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}, stdin?: string) =>
  runWith(args, { ...env(), ...extraEnv }, stdin)
const file = (name: string) => path.join(dir, name)
const write = (name: string, text: string) => {
  fs.writeFileSync(file(name), text)
  return file(name)
}

// 20 generated orders besides the samples: 10 for --include, 6 scripted with faults, the rest plain
const generated = Array.from({ length: 20 }, (_, i) => 5000 + i * 13)
const idsText = [...Samples.orderIds, ...generated].join("\n") + "\n"
const NOT_FOUND = 777001
const FORBIDDEN = 777002

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-cli-"))
  server = await TestServer.start({
    rateLimit: "off",
    orders: { [NOT_FOUND]: OrderScript.notFound, [FORBIDDEN]: OrderScript.missingPermission }
  })
})

afterAll(async () => {
  await server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe("certcentral-export", () => {
  it("exports CSV and NDJSON with the same rows, exit 0, and an empty errors file", async () => {
    const orders = write("ids.txt", idsText)
    const csv = await run(["--orders", orders, "--output", file("a.csv"), "--rate-limit", "off", "--quiet"])
    expect(csv.stderr).toBe("")
    expect(csv.code).toBe(0)
    const nd = await run(["--orders", orders, "--output", file("a.ndjson"), "--rate-limit", "off"])
    expect(nd.code).toBe(0)
    expect(nd.stderr).toContain("Done")
    expect(fs.readFileSync(file("a.csv.errors.ndjson"), "utf8")).toBe("")

    const rows = fs.readFileSync(file("a.ndjson"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l))
    const parsed = Papa.parse<Record<string, string>>(fs.readFileSync(file("a.csv"), "utf8"), {
      header: true,
      skipEmptyLines: true
    })
    expect(parsed.meta.fields).toEqual(CertificateRow.columns)
    expect(parsed.data).toHaveLength(rows.length)
    const cell = (v: unknown) => v === null ? "" : Array.isArray(v) ? v.join(";") : String(v)
    rows.forEach((row, i) => {
      for (const column of CertificateRow.columns) {
        expect(parsed.data[i]![column]!.replace(/^'(?=[=+\-@\t\r])/, "")).toBe(cell(row[column]))
      }
    })
    // input order, order row first
    const orderIds = [...new Set(rows.map((r) => r.order_id))]
    expect(orderIds).toEqual([...Samples.orderIds, ...generated])
    expect(rows[0]).toMatchObject({ order_id: Samples.pendingOrderId, source: "order", certificate_id: 101015 })
    const sub = rows.filter((r) => r.order_id === Samples.subSubaccountOrderId && r.source === "order")
    expect(sub).toHaveLength(1)
    expect(sub[0].certificate_id).toBeNull()
    expect(sub[0].dns_names).toEqual([])
  })

  it("calls only the endpoints named by --include", async () => {
    const orders = write("few.txt", generated.slice(0, 10).join("\n"))
    server.resetStats()
    const result = await run([
      "--orders",
      orders,
      "--output",
      file("dup.ndjson"),
      "--include",
      "duplicates",
      "--rate-limit",
      "off",
      "--quiet"
    ])
    expect(result.code).toBe(0)
    const stats = server.stats()
    expect(stats.byRoute.duplicates).toBe(10)
    expect(stats.byRoute.subaccountOrder).toBe(0)
    expect(stats.byRoute.reissues).toBe(0)
    const rows = fs.readFileSync(file("dup.ndjson"), "utf8").split("\n").filter((l) => l !== "").map((l) =>
      JSON.parse(l)
    )
    for (const row of rows) {
      expect(row.source).toBe("duplicate")
      expect(row.order_status).toBeNull()
      expect(row.organization_units).toEqual([])
    }
  })

  it("retries faults to a complete output identical to a clean run", { timeout: 120_000 }, async () => {
    const orders = write("ids-faults.txt", idsText)
    const clean = await run(["--orders", orders, "--output", file("clean.csv"), "--rate-limit", "off", "--quiet"])
    expect(clean.code).toBe(0)
    for (const orderId of generated.slice(0, 6)) {
      server.script({ orderId, endpoint: "duplicates", faults: [{ kind: "serverError", status: 503 }] })
      server.script({ orderId, endpoint: "subaccountOrder", faults: [{ kind: "resetDuringBody" }] })
      server.script({ orderId, endpoint: "reissues", faults: [{ kind: "rateLimited", retryAfter: 0 }] })
    }
    server.resetStats()
    const faulty = await run(["--orders", orders, "--output", file("faulty.csv"), "--rate-limit", "off", "--quiet"])
    server.clearScript()
    expect(faulty.code).toBe(0)
    expect(server.stats().requests).toBeGreaterThan((Samples.orderIds.length + generated.length) * 3)
    expect(fs.readFileSync(file("faulty.csv"), "utf8")).toBe(fs.readFileSync(file("clean.csv"), "utf8"))
  })

  it("writes permanent failures and bad lines to the errors file, in input order, and exits 1", async () => {
    const orders = write(
      "mixed.csv",
      `order_id,comment\n5000,ok\n${NOT_FOUND},gone\nx12,typo\n${FORBIDDEN},no\n5013,ok\n`
    )
    const result = await run(["--orders", orders, "--output", file("mixed.csv.out"), "--rate-limit", "off", "--quiet"])
    expect(result.code).toBe(1)
    const errors = fs.readFileSync(file("mixed.csv.out.errors.ndjson"), "utf8").trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    )
    expect(errors).toEqual([
      {
        order_id: NOT_FOUND,
        endpoint: "order",
        error: "NotFoundError",
        status: 404,
        code: "not_found|order",
        message: "not_found|order: Order not found."
      },
      {
        line: 4,
        input: "x12,typo",
        endpoint: null,
        error: "InvalidOrderIdError",
        status: null,
        code: null,
        message: "not an order id (expected digits only): \"x12\""
      },
      {
        order_id: FORBIDDEN,
        endpoint: "order",
        error: "PermissionError",
        status: 403,
        code: "access_denied|missing_permission",
        message: "access_denied|missing_permission: You do not have permission to perform this action."
      }
    ])
    const out = fs.readFileSync(file("mixed.csv.out"), "utf8")
    expect(out).not.toContain(String(NOT_FOUND))
    expect(out).not.toContain(String(FORBIDDEN))
    expect(out).toContain("\r\n5013,order,")
  })

  it("reads ids from stdin with -", async () => {
    const result = await run(["--orders", "-", "--output", file("stdin.ndjson"), "--quiet"], {}, "5000\n5013\n")
    expect(result.code).toBe(0)
    const orderIds = fs.readFileSync(file("stdin.ndjson"), "utf8").trimEnd().split("\n").map((l) =>
      JSON.parse(l).order_id
    )
    expect([...new Set(orderIds)]).toEqual([5000, 5013])
  })

  it("stops after a few requests with exit 3 when the API refuses the key, never echoing it", async () => {
    const orders = write("many.txt", generated.join("\n"))
    // a key that looks real, so that an echo of it anywhere is caught by the suite's secret guard
    const wrongKey = "Q7XK2M4VN8RT5WZ3YB6PLJ9HCD1FGE0S"
    Secrets.register(wrongKey)
    server.resetStats()
    const result = await run(["--orders", orders, "--output", file("auth.csv"), "--concurrency", "8"], {
      DIGICERT_API_KEY: wrongKey
    })
    expect(result.code).toBe(3)
    const lines = result.stderr.split("\n").filter((line) => line.trim() !== "")
    expect(lines.at(-1)).toMatch(/401.*DIGICERT_API_KEY/)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(result.stdout).toBe("")
    const stats = server.stats()
    expect(stats.keys.invalid).toBeGreaterThanOrEqual(1)
    expect(stats.keys.invalid).toBeLessThanOrEqual(3)
    expect(stats.keys.valid).toBe(0)
    // no order was written as failed: the run was aborted, not finished
    expect(fs.readFileSync(file("auth.csv.errors.ndjson"), "utf8")).toBe("")
  })

  const asRoot = process.getuid?.() === 0

  it("gives exit 2 and one line on stderr, saying what to do, for misuse", async () => {
    const orders = write("u.txt", "1\n")
    const unreadable = write("unreadable.txt", "1\n")
    fs.chmodSync(unreadable, 0o000)
    const out = ["--output", file("u.csv")]
    const noKey = { DIGICERT_BASE_URL: server.baseUrl }
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, Record<string, string> | "raw", RegExp]> = [
      [out, {}, /--orders/],
      [["--orders", orders], {}, /--output/],
      [["--orders", orders, ...out, "--frobnicate"], {}, /frobnicate/],
      [["--orders", orders, ...out, "--concurrency", "0"], {}, /--concurrency must be a positive integer/],
      [["--orders", orders, ...out, "--concurrency", "-3"], {}, /--concurrency must be a positive integer/],
      // a value that is not a number at all gets @effect/cli's message, which quotes it
      [["--orders", orders, ...out, "--concurrency", "many"], {}, /'many' is not a integer/],
      [["--orders", orders, ...out, "--format", "xlsx"], {}, /one of the following cases: csv, ndjson/],
      [["--orders", orders, ...out, "--rate-limit", "lots"], {}, /--rate-limit/],
      [["--orders", orders, ...out, "--rate-limit", "100/5x"], {}, /--rate-limit/],
      [["--orders", orders, ...out, "--rate-limit", "0/5s"], {}, /--rate-limit/],
      [["--orders", orders, ...out, "--rate-limit", "100/0s"], {}, /--rate-limit/],
      [["--orders", orders, ...out, "--rate-limit", ""], {}, /--rate-limit/],
      [["--orders", orders, ...out, "--include", "orders"], {}, /--include.*use order, duplicates, reissues/],
      [["--orders", orders, ...out, "--region", "mars"], {}, /one of the following cases: us, eu/],
      [["--orders", orders, ...out, "--base-url", "ftp://x"], {}, /--base-url/],
      [["--orders", file("missing.txt"), ...out], {}, /cannot read orders file .*missing\.txt/],
      [["--orders", dir, ...out], {}, /cannot read orders file .*directory/],
      [
        ["--orders", orders, "--output", path.join(dir, "no", "such", "dir.csv")],
        {},
        /directory .*no\/such does not exist; create it/
      ],
      [["--orders", orders, ...out], { DIGICERT_API_KEY: "" }, /DIGICERT_API_KEY is not set/],
      [["--orders", orders, ...out], "raw", /DIGICERT_API_KEY is not set/],
      [["--orders", orders, ...out, "--max-outage", "5x"], {}, /--max-outage must be a duration/],
      [["--orders", orders, ...out, "--max-outage", "-1s"], {}, /--max-outage must be a duration/],
      ...(asRoot ? [] : [[["--orders", unreadable, ...out], {}, /cannot read orders file .*unreadable\.txt/] as const])
    ]
    // what the executable adds (its exit code, no stack trace) is checked on the bundle in CliProcess.process.test.ts
    const results = await Promise.all(
      cases.map(([args, extra]) => runWith(args, extra === "raw" ? noKey : { ...env(), ...extra }))
    )
    results.forEach((result, i) => {
      const [args, , message] = cases[i]!
      const label = args.join(" ")
      expect(result.code, label).toBe(2)
      const lines = result.stderr.split("\n").filter((line) => line.trim() !== "")
      expect(lines, label).toHaveLength(1)
      expect(lines[0], label).toMatch(/^certcentral-export: /)
      expect(lines[0], label).toMatch(message)
      expect(result.stderr, label).not.toMatch(/\bat .*\(.*:\d+:\d+\)|\n\s+at /)
      expect(result.stdout, label).toBe("")
    })
    // nothing was created by a refused run
    expect(fs.existsSync(file("u.csv"))).toBe(false)
  })

  it("prints every flag of the contract on --help, each with its own description, and exits 0", async () => {
    const help = await run(["--help"])
    expect(help.code).toBe(0)
    expect(help.stderr).toBe("")
    // eslint-disable-next-line no-control-regex
    const page = help.stdout.replace(/\u001b\[[0-9;]*m/g, "")
    // every flag of the contract, each with its own description under it (typed ones first say their type)
    const described = [
      ["--orders path", "Order ids, one per line"],
      ["--orders-from account | subaccounts", "One of the following: account, subaccounts"],
      ["--filter key=value...", "With --orders-from, repeatable"],
      ["--output path", "The file to write"],
      ["--format csv | ndjson", "One of the following: csv, ndjson"],
      ["--errors path", "Failed orders and bad input lines"],
      ["--include list", "Endpoints to call"],
      ["--concurrency n", "An integer."],
      ["--rate-limit spec", "Rolling windows as N/DURATION"],
      ["--base-url url", "Services API v2 base URL"],
      ["--region us | eu", "One of the following: us, eu"],
      ["--show-archived", "A true or false value."],
      ["--resume", "A true or false value."],
      ["--quiet", "A true or false value."],
      ["--max-outage duration", "How long the API may stay unavailable"],
      ["--share-limits redis-url", "Share this key's rate limits"]
    ]
    for (const [heading, first] of described) expect(page, heading).toContain(`\n${heading}\n\n  ${first}`)
    expect(page).toContain("An integer.\n\n  Orders in flight at once")
    expect(page).not.toContain("A user-defined piece of text")
  })

  it("prints the version of packages/export/package.json on --version", async () => {
    const { version } = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    const result = await run(["--version"])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe(version)
    expect(result.stderr).toBe("")
  })

  it("takes its HttpClient from its context: a scripted 401 is exit 3 with one line, the key never echoed", async () => {
    const key = "HV3KQ9ZT6WN2MB8XC4RJ7PLD5FGS1YEA"
    Secrets.register(key)
    let requests = 0
    const refusing = Layer.succeed(
      HttpClient.HttpClient,
      HttpClient.make((request) =>
        Effect.sync(() => {
          requests++
          return HttpClientResponse.fromWeb(
            request,
            new Response(
              JSON.stringify({ errors: [{ code: "invalid_api_key", message: "The API key is invalid." }] }),
              {
                status: 401,
                headers: { "content-type": "application/json" }
              }
            )
          )
        })
      )
    )
    const orders = write("scripted.txt", "5000\n5013\n")
    const result = await InProcess.runPromise(["--orders", orders, "--output", file("scripted.csv"), "--quiet"], {
      env: { DIGICERT_API_KEY: key, DIGICERT_BASE_URL: "https://digicert.invalid/services/v2" },
      http: refusing
    })
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toHaveLength(1)
    expect(result.stderr[0]).toMatch(/^certcentral-export: the API refused the key \(HTTP 401 invalid_api_key\)/)
    expect(requests).toBeGreaterThanOrEqual(1)
    expect(requests).toBeLessThanOrEqual(3)
  })

  it("does nothing on --resume of a completed export, keeping its exit code", async () => {
    const orders = write("complete.txt", `5000\n${NOT_FOUND}\n5013\n`)
    const args = ["--orders", orders, "--output", file("complete.csv"), "--rate-limit", "off"]
    const first = await run([...args, "--quiet"])
    expect(first.code).toBe(1)
    const written = fs.readFileSync(file("complete.csv"))
    server.resetStats()
    const again = await run([...args, "--resume"])
    expect(again.code).toBe(1)
    expect(again.lines).toEqual([expect.stringContaining("already complete")])
    expect(server.stats().requests).toBe(0)
    expect(fs.readFileSync(file("complete.csv"))).toEqual(written)
  })

  it("refuses --resume with other options than the checkpoint's, leaving the files untouched", async () => {
    const orders = write("mismatch.txt", "5000\n5013\n")
    const args = ["--orders", orders, "--output", file("mismatch.csv"), "--rate-limit", "off", "--quiet"]
    expect((await run(args)).code).toBe(0)
    const written = fs.readFileSync(file("mismatch.csv"))
    const mismatch = await run([...args, "--resume", "--include", "order"])
    expect(mismatch.code).toBe(2)
    expect(mismatch.lines).toHaveLength(1)
    expect(fs.readFileSync(file("mismatch.csv"))).toEqual(written)
  })

  it("stops an interrupted run with exit 130 and a summary naming --resume, which then completes it", async () => {
    const slow = await TestServer.start({
      rateLimit: "off",
      latency: { meanMs: 60, jitterMs: 20 },
      orders: { [NOT_FOUND]: OrderScript.notFound, [FORBIDDEN]: OrderScript.missingPermission }
    })
    try {
      const orders = write("interrupted.txt", idsText)
      const args = [
        "--orders",
        orders,
        "--output",
        file("interrupted.csv"),
        "--rate-limit",
        "off",
        "--concurrency",
        "2"
      ]
      const reference = await run([...args.slice(0, 3), file("interrupted-ref.csv"), ...args.slice(4), "--quiet"])
      expect(reference.code).toBe(0)
      const interrupted = await InProcess.runPromise(args, {
        env: Cli.envFor(slow),
        http: NodeHttpClient.layerUndici,
        interruptWhen: Effect.promise(() => Cli.waitForSize(file("interrupted.csv"), 2000))
      })
      expect(interrupted.exitCode).toBe(130)
      expect(interrupted.stderr.at(-1)).toContain("--resume")
      const resumed = await run([...args, "--resume", "--quiet"])
      expect(resumed.code).toBe(0)
      expect(fs.readFileSync(file("interrupted.csv"))).toEqual(fs.readFileSync(file("interrupted-ref.csv")))
    } finally {
      await slow.close()
    }
  })

  it("refuses --resume when the output exists without a checkpoint", async () => {
    const orders = write("r.txt", "5000\n")
    fs.writeFileSync(file("foreign.csv"), "something else\n")
    const result = await run(["--orders", orders, "--output", file("foreign.csv"), "--resume"])
    expect(result.code).toBe(2)
    expect(fs.readFileSync(file("foreign.csv"), "utf8")).toBe("something else\n")
  })
})
