/**
 * The goals of issue 15, side by side in one run: the README's command (`pnpm certcentral-export`, the whole process
 * tree: pnpm, its shell, node) against `baseline.mjs`, with the testkit's bodies framed by `Content-Length` and chunked.
 *
 * - throughput: wall and CPU (user + system of the tree, from `/usr/bin/time`), limits off, concurrency 16; then with
 *   40 ± 20 ms server latency;
 * - memory: peak RSS of the tree (the sum of its processes' VmRSS, polled every 50 ms) over a large export, and
 *   whether it is flat (peak of the last quarter of the run over the second's);
 * - start-up: `--help` and a one-order export against `node -e 0` plus loading the baseline's imports.
 *
 * Sizes come from the environment so that single cases can be rerun: GOALS_ORDERS (6000), GOALS_MEMORY_ORDERS
 * (40000), GOALS_ROUNDS (1).
 */
import * as cp from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"
import type { Row, Server } from "./harness.js"
import { baselineScript, median, orderFile, outputFile, rootDir, round, startServer } from "./harness.js"

const papaparse = pathToFileURL(createRequire(import.meta.url).resolve("papaparse")).href

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)

interface TreeRun {
  readonly exitCode: number | null
  readonly wallMillis: number
  readonly cpuMillis: number
  readonly peakTreeRssKb: number
  /** Tree RSS samples over the run, for flatness. */
  readonly samples: ReadonlyArray<number>
}

const children = (): Map<number, Array<number>> => {
  const map = new Map<number, Array<number>>()
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      const list = map.get(ppid) ?? []
      list.push(Number(entry))
      map.set(ppid, list)
    } catch {
      // gone
    }
  }
  return map
}

const rssKb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

/** The summed RSS of `root`'s descendants (not `root` itself: it is `/usr/bin/time`). */
const treeRssKb = (root: number): number => {
  const map = children()
  let total = 0
  const stack = [...(map.get(root) ?? [])]
  while (stack.length > 0) {
    const pid = stack.pop()!
    total += rssKb(pid)
    stack.push(...(map.get(pid) ?? []))
  }
  return total
}

/** Runs `command args` under `/usr/bin/time` (CPU of the whole tree, as waited for) and polls the tree's RSS. */
const runTree = (command: string, args: ReadonlyArray<string>, extraEnv: Record<string, string>) =>
  new Promise<TreeRun>((resolve, reject) => {
    const timeFile = outputFile(`time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`)
    const started = performance.now()
    const child = cp.spawn("/usr/bin/time", ["-o", timeFile, "-f", "%U %S", command, ...args], {
      cwd: rootDir,
      env: { ...process.env, ...extraEnv },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (t: string) => (stderr = (stderr + t).slice(-4000)))
    const samples: Array<number> = []
    const timer = setInterval(() => {
      if (child.pid !== undefined) samples.push(treeRssKb(child.pid))
    }, 50)
    child.on("error", reject)
    child.on("exit", (code) => {
      clearInterval(timer)
      const wallMillis = performance.now() - started
      const [user, system] = fs.readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number)
      if (code !== 0 && code !== 1) console.error(stderr)
      resolve({
        exitCode: code,
        wallMillis,
        cpuMillis: ((user ?? 0) + (system ?? 0)) * 1000,
        peakTreeRssKb: Math.max(0, ...samples),
        samples
      })
    })
  })

const documented = (server: Server, orders: string, output: string, more: ReadonlyArray<string> = []) =>
  runTree("pnpm", [
    "--silent",
    "certcentral-export",
    "--orders",
    orders,
    "--output",
    output,
    "--rate-limit",
    "off",
    "--concurrency",
    "16",
    "--base-url",
    server.baseUrl,
    "--quiet",
    ...more
  ], { DIGICERT_API_KEY: server.apiKey })

const baseline = (server: Server, orders: string, output: string) =>
  runTree("node", [baselineScript, orders, output, server.baseUrl, "16"], { DIGICERT_API_KEY: server.apiKey })

const ok = (what: string, r: TreeRun) => {
  if (r.exitCode !== 0) throw new Error(`${what} exited with ${r.exitCode}`)
}

/** Peak of the last quarter of the samples over the peak of the second quarter. */
const flatness = (samples: ReadonlyArray<number>) => {
  const q = Math.floor(samples.length / 4)
  if (q === 0) return 1
  return Math.max(...samples.slice(3 * q)) / Math.max(...samples.slice(q, 2 * q))
}

export const run = async () => {
  const orders = env("GOALS_ORDERS", 6000)
  const memoryOrders = env("GOALS_MEMORY_ORDERS", 40_000)
  const rounds = env("GOALS_ROUNDS", 1)
  const rows: Array<Row> = []
  const results: Record<string, unknown> = { orders, memoryOrders, rounds }
  const file = orderFile(orders)

  const compare = async (name: string, server: Server, goal: number) => {
    const ours: Array<TreeRun> = []
    const theirs: Array<TreeRun> = []
    for (let i = 0; i < rounds; i++) {
      const b = await baseline(server, file, outputFile("goals-baseline.csv"))
      ok("baseline", b)
      theirs.push(b)
      const o = await documented(server, file, outputFile("goals-ours.csv"))
      ok("pnpm certcentral-export", o)
      ours.push(o)
      console.log(
        `  ${name}: ours ${round(o.wallMillis)} ms (${round(o.cpuMillis)} CPU), baseline ${round(b.wallMillis)} ms (${
          round(b.cpuMillis)
        } CPU)`
      )
    }
    const wall = median(ours.map((r) => r.wallMillis)) / median(theirs.map((r) => r.wallMillis))
    const cpu = median(ours.map((r) => r.cpuMillis)) / median(theirs.map((r) => r.cpuMillis))
    const rowsOurs = fs.readFileSync(outputFile("goals-ours.csv"), "utf8").length
    const rowsTheirs = fs.readFileSync(outputFile("goals-baseline.csv"), "utf8").length
    results[name] = {
      ours: ours.map((r) => ({ wallMillis: round(r.wallMillis), cpuMillis: round(r.cpuMillis) })),
      baseline: theirs.map((r) => ({ wallMillis: round(r.wallMillis), cpuMillis: round(r.cpuMillis) })),
      wallRatio: round(wall, 3),
      cpuRatio: round(cpu, 3)
    }
    rows.push({
      benchmark: `goals, ${name}`,
      metric: `wall, pnpm certcentral-export / baseline (${orders} orders, c=16, limits off)`,
      value: `${round(median(ours.map((r) => r.wallMillis)))} / ${
        round(median(theirs.map((r) => r.wallMillis)))
      } ms = ${round(wall, 2)}`,
      goal: `<= ${goal}`,
      met: wall <= goal
    }, {
      benchmark: `goals, ${name}`,
      metric: "CPU (user+sys of the process tree), ours / baseline",
      value: `${round(median(ours.map((r) => r.cpuMillis)))} / ${round(median(theirs.map((r) => r.cpuMillis)))} ms = ${
        round(cpu, 2)
      }`,
      goal: `<= ${goal}`,
      met: cpu <= goal
    }, {
      benchmark: `goals, ${name}`,
      metric: "output bytes, ours / baseline",
      value: `${rowsOurs} / ${rowsTheirs}`,
      goal: "",
      met: undefined
    })
  }

  for (const chunked of [false, true]) {
    const server = await startServer({ rateLimit: "off", chunked })
    try {
      await compare(chunked ? "chunked bodies" : "Content-Length bodies", server, 1.0)
    } finally {
      await server.close()
    }
  }
  {
    const server = await startServer({ rateLimit: "off", latency: { meanMs: 40, jitterMs: 20 } })
    try {
      await compare("40 ± 20 ms latency", server, 0.8)
    } finally {
      await server.close()
    }
  }

  // memory: one large export each
  {
    const server = await startServer({ rateLimit: "off" })
    try {
      const big = orderFile(memoryOrders)
      const b = await baseline(server, big, outputFile("goals-memory-baseline.csv"))
      ok("baseline", b)
      const o = await documented(server, big, outputFile("goals-memory-ours.csv"))
      ok("pnpm certcentral-export", o)
      const mb = (kb: number) => round(kb / 1024, 1)
      const ratio = o.peakTreeRssKb / b.peakTreeRssKb
      const flat = flatness(o.samples)
      results["memory"] = {
        oursPeakMb: mb(o.peakTreeRssKb),
        baselinePeakMb: mb(b.peakTreeRssKb),
        ratio: round(ratio, 3),
        flatness: round(flat, 3)
      }
      rows.push({
        benchmark: "goals, memory",
        metric: `peak RSS of the process tree, ${memoryOrders} orders, ours / baseline`,
        value: `${mb(o.peakTreeRssKb)} / ${mb(b.peakTreeRssKb)} MB = ${round(ratio, 2)}`,
        goal: "< 250 MB and <= 1.1",
        met: o.peakTreeRssKb < 250 * 1024 && ratio <= 1.1
      }, {
        benchmark: "goals, memory",
        metric: "flat: peak of the last quarter / the second's",
        value: `${round(flat, 2)}`,
        goal: "<= 1.1",
        met: flat <= 1.1
      })
    } finally {
      await server.close()
    }
  }

  // start-up
  {
    const server = await startServer({ rateLimit: "off" })
    try {
      const best = async (f: () => Promise<TreeRun>) => {
        const runs: Array<TreeRun> = []
        for (let i = 0; i < 3; i++) runs.push(await f())
        return Math.min(...runs.map((r) => r.wallMillis))
      }
      const bare = await best(() => runTree("node", ["-e", "0"], {}))
      const baselineLoad = await best(() =>
        runTree("node", ["--input-type=module", "-e", `await import("${papaparse}"); await import("node:fs")`], {})
      )
      const help = await best(() => runTree("pnpm", ["--silent", "certcentral-export", "--help"], {}))
      const one = await best(() => documented(server, orderFile(1), outputFile("goals-one.csv")))
      const reference = baselineLoad
      results["startup"] = {
        nodeMillis: round(bare),
        baselineImportsMillis: round(baselineLoad),
        helpMillis: round(help),
        oneOrderMillis: round(one)
      }
      for (const [what, ms] of [["--help", help], ["one-order export", one]] as const) {
        rows.push({
          benchmark: "goals, start-up",
          metric: `pnpm certcentral-export ${what} / (node -e 0 with the baseline's imports), best of 3`,
          value: `${round(ms)} / ${round(reference)} ms = ${round(ms / reference, 2)} (bare node ${round(bare)} ms)`,
          goal: "<= 2",
          met: ms / reference <= 2
        })
      }
    } finally {
      await server.close()
    }
  }
  return { results, rows }
}
