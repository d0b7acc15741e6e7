/**
 * What every benchmark shares: the testkit server in a child process, running the CLI and the baseline as child
 * processes (wall time, peak RSS, time to first row), order files, the machine's description.
 */
import type { TestServer } from "@certcentral/testkit"
import * as cp from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Message, Reply, Sample } from "./server-child.js"

export const benchDir = path.dirname(fileURLToPath(import.meta.url))
export const rootDir = path.resolve(benchDir, "..")
export const workDir = path.join(os.tmpdir(), `certcentral-bench-${process.pid}`)

/** Epoch milliseconds with sub-millisecond precision, comparable with the server's `requestTimes`. */
export const now = (): number => performance.timeOrigin + performance.now()

/** A `.ts` script loads the workspace packages' TypeScript sources, not their dist/ (see the packages' `exports`). */
export const sourceCondition = ["--conditions", "@certcentral/source"] as const

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------------------------
// the server

export interface ServerStats {
  readonly stats: TestServer.Stats
  readonly timeline: ReadonlyArray<Sample>
  /** CPU the server process used since it started or was last reset. */
  readonly cpuMillis: number
}

export interface Server {
  readonly baseUrl: string
  readonly apiKey: string
  readonly stats: () => Promise<ServerStats>
  readonly reset: () => Promise<void>
  readonly close: () => Promise<void>
}

/** Starts the testkit server in a child process. `sample` records requests and 429s every 250 ms. */
export const startServer = async (options: TestServer.Options, sample = false): Promise<Server> => {
  const child = cp.fork(path.join(benchDir, "server-child.ts"), [], {
    execArgv: [...sourceCondition, "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const pending: Array<(reply: Reply) => void> = []
  child.on("message", (reply: Reply) => pending.shift()?.(reply))
  const ask = (message: Message) =>
    new Promise<Reply>((resolve, reject) => {
      pending.push(resolve)
      child.send(message, (error) => error !== null && reject(error))
    })
  const started = await ask({ type: "start", options, sample })
  if (started.type !== "started") throw new Error("testkit server did not start")
  return {
    baseUrl: started.baseUrl,
    apiKey: started.apiKey,
    stats: async () => {
      const reply = await ask({ type: "stats" })
      if (reply.type !== "stats") throw new Error("unexpected reply")
      return reply
    },
    reset: async () => void (await ask({ type: "reset" })),
    close: async () => {
      await Promise.race([ask({ type: "close" }), sleep(3000)])
      child.kill()
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// child processes

export interface RunOptions {
  readonly env?: Record<string, string>
  /** Poll this file's size: the first time it grows past `headerBytes` is the time to first row. */
  readonly output?: string
  readonly headerBytes?: number
  readonly execArgv?: ReadonlyArray<string>
  /** Receives the child's stdout (ignored otherwise). */
  readonly onStdout?: (text: string) => void
}

export interface RunResult {
  readonly exitCode: number | null
  readonly startedAt: number
  readonly wallMillis: number
  /** Peak resident set (VmHWM), kB; polled every 10 ms from /proc. */
  readonly peakRssKb: number | undefined
  /** Milliseconds from spawn until the output first held a row. */
  readonly firstRowMillis: number | undefined
  /** Epoch time of that moment. */
  readonly firstRowAt: number | undefined
  readonly stderr: string
}

const readHwm = (pid: number): number | undefined => {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(status)
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}

const fileSize = (file: string): number => {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

/** Runs `node [execArgv] script args` and measures it; `.ts` scripts run through tsx. */
export const runNode = (script: string, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const startedAt = now()
    const loader = script.endsWith(".ts") ? [...sourceCondition, "--import", "tsx"] : []
    const child = cp.spawn(process.execPath, [...(options.execArgv ?? []), ...loader, script, ...args], {
      cwd: rootDir,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", options.onStdout === undefined ? "ignore" : "pipe", "pipe"]
    })
    if (options.onStdout !== undefined) {
      child.stdout!.setEncoding("utf8")
      child.stdout!.on("data", options.onStdout)
    }
    let stderr = ""
    child.stderr!.setEncoding("utf8")
    child.stderr!.on("data", (text: string) => {
      stderr = (stderr + text).slice(-20_000)
    })
    let peak: number | undefined
    let firstRowAt: number | undefined
    const poll = () => {
      const hwm = child.pid === undefined ? undefined : readHwm(child.pid)
      if (hwm !== undefined) peak = Math.max(peak ?? 0, hwm)
      if (firstRowAt === undefined && options.output !== undefined) {
        if (fileSize(options.output) > (options.headerBytes ?? 0)) firstRowAt = now()
      }
    }
    const timer = setInterval(poll, 10)
    child.on("error", (error) => {
      clearInterval(timer)
      reject(error)
    })
    child.on("exit", (code) => {
      const end = now()
      clearInterval(timer)
      resolve({
        exitCode: code,
        startedAt,
        wallMillis: end - startedAt,
        peakRssKb: peak,
        firstRowMillis: firstRowAt === undefined ? undefined : firstRowAt - startedAt,
        firstRowAt,
        stderr
      })
    })
  })

/**
 * The CLI a user runs: by default the packed `@certcentral/core` and `@certcentral/export` installed with the
 * registry's effect packages into `bench/.cli/` (what `npm install @certcentral/export` gives, plain JavaScript from
 * `dist/`), so that neither tsx's loader nor TypeScript sources are measured. `BENCH_CLI=source` runs the workspace
 * source through tsx instead (quicker to iterate on, slower to start and bigger by about 100 MB).
 */
export const cliFromSource = process.env["BENCH_CLI"] === "source"
export const sourceCliScript = path.join(rootDir, "packages/export/src/bin.ts")
export const installedCliDir = path.join(benchDir, ".cli")
export const installedCliScript = path.join(installedCliDir, "node_modules/@certcentral/export/dist/bin.js")
export const cliScript = cliFromSource ? sourceCliScript : installedCliScript
export const baselineScript = path.join(benchDir, "baseline.mjs")

/** Builds and packs core and export and installs them into `bench/.cli/` (once per `pnpm bench`). */
export const installCli = (): void => {
  if (cliFromSource) return
  const sh = (command: string, args: ReadonlyArray<string>, cwd: string) =>
    cp.execFileSync(command, args, { cwd, stdio: ["ignore", "ignore", "inherit"] })
  const packs = path.join(installedCliDir, "packs")
  fs.rmSync(installedCliDir, { recursive: true, force: true })
  fs.mkdirSync(packs, { recursive: true })
  sh("pnpm", ["build"], rootDir)
  for (const name of ["core", "export"]) {
    sh("pnpm", ["pack", "--pack-destination", packs], path.join(rootDir, "packages", name))
  }
  // the effect versions the workspace is tested with
  const pinned = JSON.parse(fs.readFileSync(path.join(benchDir, "package.json"), "utf8")) as {
    dependencies: Record<string, string>
  }
  const peers = ["effect", "@effect/platform", "@effect/platform-node"].map((p) => `${p}@${pinned.dependencies[p]}`)
  fs.writeFileSync(path.join(installedCliDir, "package.json"), "{ \"private\": true, \"type\": \"module\" }\n")
  const tarballs = fs.readdirSync(packs).map((f) => path.join(packs, f))
  sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs, ...peers], installedCliDir)
  if (!fs.existsSync(installedCliScript)) throw new Error(`${installedCliScript} missing after the install`)
}

export interface CliOptions {
  readonly server: Server
  readonly orders: string
  readonly output: string
  readonly rateLimit: string
  readonly concurrency: number
  readonly headerBytes?: number
  readonly execArgv?: ReadonlyArray<string>
  /** Extra environment, e.g. `NODE_OPTIONS`. */
  readonly env?: Record<string, string>
  /** Further flags, e.g. `--share-limits`. */
  readonly args?: ReadonlyArray<string>
}

/** Runs the `certcentral-export` CLI against the server (not `--quiet`: its summary line is parsed). */
export const runCli = (o: CliOptions): Promise<RunResult> =>
  runNode(cliScript, [
    "--orders",
    o.orders,
    "--output",
    o.output,
    "--rate-limit",
    o.rateLimit,
    "--concurrency",
    String(o.concurrency),
    "--base-url",
    o.server.baseUrl,
    ...(o.args ?? [])
  ], {
    env: { ...o.env, DIGICERT_API_KEY: o.server.apiKey },
    output: o.output,
    ...(o.headerBytes === undefined ? {} : { headerBytes: o.headerBytes }),
    ...(o.execArgv === undefined ? {} : { execArgv: o.execArgv })
  })

/** Runs the user's script (`baseline.ts`) against the server. */
export const runBaseline = (o: Omit<CliOptions, "rateLimit">): Promise<RunResult> =>
  runNode(baselineScript, [o.orders, o.output, o.server.baseUrl, String(o.concurrency)], {
    env: { DIGICERT_API_KEY: o.server.apiKey },
    output: o.output,
    ...(o.headerBytes === undefined ? {} : { headerBytes: o.headerBytes })
  })

/** The CLI's closing summary: `...; 3000 requests, 0 retries, 0 429 responses in 11s.` */
export const cliSummary = (stderr: string) => {
  const m = /(\d+) requests, (\d+) retries, (\d+) 429 responses/.exec(stderr)
  return m === null ? undefined : { requests: Number(m[1]), retries: Number(m[2]), rateLimited: Number(m[3]) }
}

/** Fails loudly when a child did not finish its job. */
export const check = (what: string, result: RunResult) => {
  if (result.exitCode !== 0) {
    throw new Error(`${what} exited with ${result.exitCode}:\n${result.stderr.slice(-2000)}`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// inputs and the machine

/** A file of `count` order ids, one per line, starting at `first`. */
export const orderFile = (count: number, first = 100_001): string => {
  fs.mkdirSync(workDir, { recursive: true })
  const file = path.join(workDir, `orders-${first}-${count}.txt`)
  if (!fs.existsSync(file)) {
    const lines: Array<string> = []
    for (let i = 0; i < count; i++) lines.push(String(first + i))
    fs.writeFileSync(file, lines.join("\n") + "\n")
  }
  return file
}

export const outputFile = (name: string): string => {
  fs.mkdirSync(workDir, { recursive: true })
  return path.join(workDir, name)
}

export const lineCount = (file: string): number => {
  const text = fs.readFileSync(file, "utf8")
  let n = 0
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++
  return n
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  readonly date: string
}

export const machine = (): Machine => ({
  cpu: os.cpus()[0]?.model.trim() ?? "unknown",
  cores: os.cpus().length,
  memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  node: process.version,
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString()
})

export const round = (x: number, digits = 0): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** One line of the printed table: what was measured, the figure, the goal, met or not. */
export interface Row {
  readonly benchmark: string
  readonly metric: string
  readonly value: string
  readonly goal: string
  readonly met: boolean | undefined
}
