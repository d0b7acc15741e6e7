/**
 * Issue 23: a wrong `--orders` file of one 300 MB line (digits and letters, no line break) gives exit 1 and one bad
 * line, with the CLI's peak RSS (VmHWM, polled from /proc) under 250 MB: the reader holds a bounded part of a line,
 * never the line.
 */
import * as fs from "node:fs"
import type { Row } from "./harness.js"
import { outputFile, round, runCli, startServer, workDir } from "./harness.js"

export interface Options {
  /** Size of the one line, MB. */
  readonly megabytes: number
}

export const defaults: Options = { megabytes: Number(process.env["BENCH_LONG_LINE_MB"] ?? 300) }

/** A file of one line of `megabytes` MB, written 1 MB at a time. */
const oneLineFile = (megabytes: number): string => {
  fs.mkdirSync(workDir, { recursive: true })
  const file = `${workDir}/one-line-${megabytes}mb.txt`
  if (!fs.existsSync(file)) {
    const block = Buffer.from("0123456789abcdef".repeat(65_536))
    const fd = fs.openSync(file, "w")
    try {
      for (let i = 0; i < megabytes; i++) fs.writeSync(fd, block)
    } finally {
      fs.closeSync(fd)
    }
  }
  return file
}

export const run = async (o: Options = defaults) => {
  const server = await startServer({ rateLimit: "off" })
  try {
    const output = outputFile("one-line.csv")
    const result = await runCli({
      server,
      orders: oneLineFile(o.megabytes),
      output,
      rateLimit: "off",
      concurrency: 16
    })
    const errors = fs.readFileSync(`${output}.errors.ndjson`, "utf8").split("\n").filter((line) => line !== "")
    const lines = errors.map((line) => (JSON.parse(line) as { line?: number }).line)
    const peakRssMB = round(result.peakRssKb! / 1024, 1)
    console.log(
      `  ${o.megabytes} MB line: exit ${result.exitCode}, bad lines ${JSON.stringify(lines)}, peak RSS ${peakRssMB} MB`
    )
    const rows: Array<Row> = [
      {
        benchmark: "long-line",
        metric: `peak RSS, --orders of one ${o.megabytes} MB line`,
        value: `${peakRssMB} MB in ${round(result.wallMillis)} ms`,
        goal: "< 250 MB",
        met: peakRssMB < 250
      },
      {
        benchmark: "long-line",
        metric: "exit code and bad lines",
        value: `exit ${result.exitCode}, bad lines ${JSON.stringify(lines)}`,
        goal: "exit 1, [1]",
        met: result.exitCode === 1 && JSON.stringify(lines) === "[1]"
      }
    ]
    return {
      results: {
        megabytes: o.megabytes,
        exitCode: result.exitCode,
        badLines: lines,
        peakRssMB,
        wallMillis: round(result.wallMillis)
      },
      rows
    }
  } finally {
    await server.close()
  }
}
