import { OrderScript, Samples, TestServer } from "@certcentral/testkit"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import Papa from "papaparse"
import { CertificateRow } from "../src/index.js"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
  readonly stdout: string
}

const start = (args: ReadonlyArray<string>, env: Record<string, string>, stdin?: string) => {
  const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = "", stderr = ""
  child.stdout.on("data", (d) => (stdout += d))
  child.stderr.on("data", (d) => (stderr += d))
  if (stdin !== undefined) child.stdin.end(stdin)
  else child.stdin.end()
  const done = new Promise<Run>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  return { child, done }
}

let server: TestServer.Handle
let slow: TestServer.Handle
let dir: string
const env = () => ({ DIGICERT_API_KEY: server.apiKey, DIGICERT_BASE_URL: server.baseUrl })
const run = (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}, stdin?: string) =>
  start([...args], { ...env(), ...extraEnv }, stdin).done
const file = (name: string) => path.join(dir, name)
const write = (name: string, text: string) => {
  fs.writeFileSync(file(name), text)
  return file(name)
}

const generated = Array.from({ length: 40 }, (_, i) => 5000 + i * 13)
const idsText = [...Samples.orderIds, ...generated].join("\n") + "\n"
const NOT_FOUND = 777001
const FORBIDDEN = 777002

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-export-cli-"))
  server = await TestServer.start({
    rateLimit: "off",
    orders: { [NOT_FOUND]: OrderScript.notFound, [FORBIDDEN]: OrderScript.missingPermission }
  })
  slow = await TestServer.start({
    rateLimit: "off",
    latency: { meanMs: 150, jitterMs: 50 },
    orders: { [NOT_FOUND]: OrderScript.notFound, [FORBIDDEN]: OrderScript.missingPermission }
  })
})

afterAll(async () => {
  await server.close()
  await slow.close()
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

  it("stops after a few requests with exit 3 when the API refuses the key", async () => {
    const orders = write("many.txt", generated.join("\n"))
    server.resetStats()
    const result = await run(["--orders", orders, "--output", file("auth.csv"), "--concurrency", "8"], {
      DIGICERT_API_KEY: "not-the-key"
    })
    expect(result.code).toBe(3)
    expect(result.stderr).toContain("401")
    expect(result.stderr).not.toContain("not-the-key")
    expect(server.stats().keys.invalid).toBeLessThanOrEqual(3)
  })

  it("gives exit 2 and one line on stderr for misuse", async () => {
    const orders = write("u.txt", "1\n")
    const cases: ReadonlyArray<[ReadonlyArray<string>, Record<string, string>]> = [
      [["--output", file("u.csv")], {}],
      [["--orders", orders, "--output", file("u.csv"), "--frobnicate"], {}],
      [["--orders", orders, "--output", file("u.csv"), "--concurrency", "0"], {}],
      [["--orders", orders, "--output", file("u.csv"), "--format", "xlsx"], {}],
      [["--orders", orders, "--output", file("u.csv"), "--rate-limit", "lots"], {}],
      [["--orders", orders, "--output", file("u.csv"), "--include", "orders"], {}],
      [["--orders", file("missing.txt"), "--output", file("u.csv")], {}],
      [["--orders", orders, "--output", path.join(dir, "no", "such", "dir.csv")], {}],
      [["--orders", orders, "--output", file("u.csv")], { DIGICERT_API_KEY: "" }]
    ]
    const results = await Promise.all(cases.map(([args, extra]) => run(args, extra)))
    results.forEach((result, i) => {
      const label = cases[i]![0].join(" ")
      expect(result.code, label).toBe(2)
      expect(result.stderr.trimEnd().split("\n"), label).toHaveLength(1)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    })
    const help = await run(["--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--orders")
  }, 240_000)

  const waitForRows = async (output: string, minBytes: number) => {
    for (let i = 0; i < 600; i++) {
      if (fs.existsSync(output) && fs.statSync(output).size > minBytes) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`no output in ${output}`)
  }

  const waitForCheckpoint = async (checkpoint: string, entries: number) => {
    for (let i = 0; i < 600; i++) {
      try {
        if (JSON.parse(fs.readFileSync(checkpoint, "utf8")).entries >= entries) return
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`no checkpoint with ${entries} entries`)
  }

  const resumeInput = [
    ...generated.slice(0, 20),
    NOT_FOUND,
    "bad-line",
    ...generated.slice(20),
    FORBIDDEN,
    ...Samples.orderIds
  ].join("\n") + "\n"

  it("resumes after SIGKILL to files byte-identical to an uninterrupted run", async () => {
    const orders = write("resume.txt", resumeInput)
    const args = (
      output: string
    ) => ["--orders", orders, "--output", output, "--rate-limit", "off", "--concurrency", "2"]
    const reference = await run([...args(file("ref.ndjson")), "--quiet"])
    expect(reference.code).toBe(1)

    const slowEnv = { DIGICERT_API_KEY: slow.apiKey, DIGICERT_BASE_URL: slow.baseUrl }
    const first = start(args(file("killed.ndjson")), slowEnv)
    await waitForRows(file("killed.ndjson"), 2000)
    await waitForCheckpoint(file("killed.ndjson.checkpoint.json"), 3)
    first.child.kill("SIGKILL")
    const killed = await first.done
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

    // a completed export: --resume does nothing and keeps the exit code
    const again = await run([...args(file("killed.ndjson")), "--resume"])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("already complete")
    expect(fs.readFileSync(file("killed.ndjson"))).toEqual(fs.readFileSync(file("ref.ndjson")))
  }, 180_000)

  it("stops within a few seconds on SIGINT, leaving complete rows and a checkpoint to resume from", async () => {
    const orders = write("sigint.txt", resumeInput)
    const args = (
      output: string
    ) => ["--orders", orders, "--output", output, "--rate-limit", "off", "--concurrency", "2"]
    const reference = await run([...args(file("ref-int.csv")), "--quiet"])
    expect(reference.code).toBe(1)

    const slowEnv = { DIGICERT_API_KEY: slow.apiKey, DIGICERT_BASE_URL: slow.baseUrl }
    const first = start(args(file("int.csv")), slowEnv)
    await waitForRows(file("int.csv"), 3000)
    const sent = Date.now()
    first.child.kill("SIGINT")
    const interrupted = await first.done
    expect(Date.now() - sent).toBeLessThan(10_000)
    expect(interrupted.code).toBe(130)
    expect(interrupted.stderr).toContain("--resume")
    const partial = fs.readFileSync(file("int.csv"), "utf8")
    expect(partial.endsWith("\r\n")).toBe(true)
    expect(fs.existsSync(file("int.csv.checkpoint.json"))).toBe(true)

    // other options than the checkpoint's: refused, files untouched
    const mismatch = await run([...args(file("int.csv")), "--resume", "--include", "order"])
    expect(mismatch.code).toBe(2)
    expect(fs.readFileSync(file("int.csv"), "utf8")).toBe(partial)

    const resumed = await run([...args(file("int.csv")), "--resume", "--quiet"])
    expect(resumed.code).toBe(1)
    expect(fs.readFileSync(file("int.csv"))).toEqual(fs.readFileSync(file("ref-int.csv")))
    expect(fs.readFileSync(file("int.csv.errors.ndjson"))).toEqual(fs.readFileSync(file("ref-int.csv.errors.ndjson")))
  }, 180_000)

  it("refuses --resume when the output exists without a checkpoint", async () => {
    const orders = write("r.txt", "5000\n")
    fs.writeFileSync(file("foreign.csv"), "something else\n")
    const result = await run(["--orders", orders, "--output", file("foreign.csv"), "--resume"])
    expect(result.code).toBe(2)
    expect(fs.readFileSync(file("foreign.csv"), "utf8")).toBe("something else\n")
  })
})
