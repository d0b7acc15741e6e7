/**
 * Goal 4, client CPU per order with no network. `cpu-child.ts` runs in its own process (so nothing else shares its
 * heap or its profile): it times the parts (JSON.parse, Schema decode, the join into rows, CSV and NDJSON encoding)
 * and the whole pipeline through an in-memory `HttpClient`, and records a V8 CPU profile of the pipeline, which is
 * summarised here (top functions by self time, time per package). The profile is kept in `bench/profiles/`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { summarize } from "./cpuprofile.js"
import type { Row } from "./harness.js"
import { benchDir, round, runNode } from "./harness.js"

export interface Options {
  readonly orders: number
  readonly concurrency: number
}

export const defaults: Options = { orders: 5_000, concurrency: 16 }

interface ChildResult {
  readonly orders: number
  readonly concurrency: number
  readonly rowsPerOrder: number
  readonly bodyBytesPerOrder: number
  readonly csvBytesPerOrder: number
  readonly parts: {
    readonly parseMillis: number
    readonly decodeMillis: number
    readonly joinMillis: number
    readonly encodeMillis: number
    readonly ndjsonEncodeMillis: number
  }
  readonly pipelineMillisPerOrder: number
  readonly pipelineCpuMillisPerOrder: number
}

const micros = (millis: number) => `${round(millis * 1000)} µs`

export const run = async (o: Options = defaults) => {
  const profiles = path.join(benchDir, "profiles")
  fs.mkdirSync(profiles, { recursive: true })
  const profile = path.join(profiles, "pipeline.cpuprofile")
  let stdout = ""
  const result = await runNode(
    path.join(benchDir, "cpu-child.ts"),
    [String(o.orders), String(o.concurrency), profile],
    {
      onStdout: (text) => (stdout += text)
    }
  )
  if (result.exitCode !== 0) throw new Error(`cpu-child exited with ${result.exitCode}:\n${result.stderr.slice(-2000)}`)
  const child = JSON.parse(stdout) as ChildResult
  const summary = summarize(profile, 12)
  const p = child.parts
  const rows: Array<Row> = [
    {
      benchmark: "cpu",
      metric: `pipeline CPU per order (${o.orders} orders, in-memory HttpClient)`,
      value: `${micros(child.pipelineCpuMillisPerOrder)} CPU, ${micros(child.pipelineMillisPerOrder)} wall`,
      goal: "",
      met: undefined
    },
    {
      benchmark: "cpu",
      metric: `parts per order (${round(child.rowsPerOrder, 2)} rows, ${round(child.bodyBytesPerOrder)} B JSON)`,
      value: `parse ${micros(p.parseMillis)}, parse+decode ${micros(p.decodeMillis)}, join ${
        micros(p.joinMillis)
      }, CSV ${micros(p.encodeMillis)}, NDJSON ${micros(p.ndjsonEncodeMillis)}`,
      goal: "",
      met: undefined
    },
    {
      benchmark: "cpu",
      metric: "profile: time by package (self)",
      value: summary.byPackage.slice(0, 5).map((e) => `${e.name} ${e.percent}%`).join(", "),
      goal: "",
      met: undefined
    },
    {
      benchmark: "cpu",
      metric: "profile: top functions (self)",
      value: summary.topFunctions.slice(0, 4).map((e) => `${e.name.split(" ")[0]} ${e.percent}%`).join(", "),
      goal: "",
      met: undefined
    }
  ]
  return {
    results: {
      ...child,
      profile: path.relative(path.dirname(benchDir), profile),
      gcPercent: summary.gcPercent,
      byPackage: summary.byPackage,
      topFunctions: summary.topFunctions
    },
    rows
  }
}
