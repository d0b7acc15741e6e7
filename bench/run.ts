/**
 * `pnpm bench [name ...]`: runs the benchmarks (all, or those named: rate-limit, shared-limits, throughput, throughput-latency, memory,
 * cpu, http-client, goals, outage, listing, long-line, eta) against the
 * testkit server on loopback, prints a table and writes `bench/results.json` (benchmarks not run keep their last
 * figures there).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Cpu from "./cpu.js"
import * as Eta from "./eta.js"
import * as Goals from "./goals.js"
import type { Row } from "./harness.js"
import { benchDir, cliFromSource, installCli, machine, round, workDir } from "./harness.js"
import * as HttpClientBench from "./httpClient.js"
import * as Listing from "./listing.js"
import * as LongLine from "./longLine.js"
import * as Memory from "./memory.js"
import * as Outage from "./outage.js"
import * as RateLimit from "./rateLimit.js"
import * as RefreshBench from "./refresh.js"
import * as SharedLimits from "./sharedLimits.js"
import * as Throughput from "./throughput.js"

const benchmarks: Record<string, () => Promise<{ readonly results: unknown; readonly rows: ReadonlyArray<Row> }>> = {
  "rate-limit": () => RateLimit.run(),
  "shared-limits": () => SharedLimits.run(),
  throughput: () => Throughput.run(),
  "throughput-latency": () => Throughput.run(Throughput.withLatency),
  memory: () => Memory.run(),
  cpu: () => Cpu.run(),
  "http-client": () => HttpClientBench.run(),
  goals: () => Goals.run(),
  outage: async () => {
    const results = await Outage.run()
    return { results, rows: Outage.rows(results) }
  },
  listing: () => Listing.run(),
  refresh: () => RefreshBench.run(),
  "long-line": () => LongLine.run(),
  eta: () => Eta.run()
}

const printTable = (rows: ReadonlyArray<Row>) => {
  const header = ["benchmark", "metric", "value", "goal", "met"]
  const cells = rows.map((
    r
  ) => [r.benchmark, r.metric, r.value, r.goal, r.met === undefined ? "" : r.met ? "yes" : "NO"])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: ReadonlyArray<string>) => c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")
  console.log(line(header))
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"))
  for (const c of cells) console.log(line(c))
}

const main = async () => {
  const asked = process.argv.slice(2)
  const unknown = asked.filter((name) => !(name in benchmarks))
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(benchmarks).join(", ")}`)
    process.exit(2)
  }
  const names = asked.length > 0 ? asked : Object.keys(benchmarks)
  const resultsFile = path.join(benchDir, "results.json")
  const previous = fs.existsSync(resultsFile)
    ? JSON.parse(fs.readFileSync(resultsFile, "utf8")) as { benchmarks?: Record<string, unknown> }
    : {}
  const results: Record<string, unknown> = { ...previous.benchmarks }
  const rows: Array<Row> = []
  const info = machine()
  console.log(`machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB; node ${info.node}; ${info.platform}`)
  const started = performance.now()
  if (
    names.some((name) =>
      name !== "cpu" && name !== "http-client" && name !== "goals" && name !== "refresh" && name !== "eta"
    )
  ) {
    console.log(cliFromSource ? "CLI: workspace source through tsx (BENCH_CLI=source)" : "CLI: packing and installing")
    installCli()
  }
  try {
    for (const name of names) {
      const t0 = performance.now()
      console.log(`\n== ${name} ...`)
      const { results: r, rows: table } = await benchmarks[name]!()
      const seconds = round((performance.now() - t0) / 1000, 1)
      results[name] = {
        machine: info,
        cli: cliFromSource ? "source (tsx)" : "installed package",
        seconds,
        ...(r as object)
      }
      rows.push(...table)
      printTable(table)
      console.log(`(${seconds} s)`)
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true })
  }
  console.log(`\n== all (${round((performance.now() - started) / 1000, 1)} s)`)
  printTable(rows)
  fs.writeFileSync(resultsFile, JSON.stringify({ machine: info, benchmarks: results }, null, 2) + "\n")
  console.log(`\nwritten ${path.relative(process.cwd(), resultsFile)}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
