/**
 * Runs the `certcentral-export` CLI as a child process, the way a user does: the built `dist/bin.js` on plain Node,
 * as the installed bin and `pnpm certcentral-export` run it (`support/built.ts` brings dist/ up to date with the
 * sources: the real-process layer's global setup, and {@link start} before a worker's first process; a TypeScript
 * loader would cost each process about a second of CPU). Files that start processes are named `*.process.test.ts`.
 * Every run goes through {@link start}, whose `done` scans stdout, stderr, the output, the errors file and the
 * checkpoint for API keys (see `secrets.ts`) and rejects when one is there: no CLI test can skip the guard.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { spawn } from "node:child_process"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { ensureBuilt } from "./built.js"
import * as InProcess from "./inProcess.js"
import * as Secrets from "./secrets.js"

export const root = fileURLToPath(new URL("../../../..", import.meta.url))
export const bin = fileURLToPath(new URL("../../dist/bin.js", import.meta.url))

export interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
  readonly stdout: string
}

export interface Started {
  readonly child: ChildProcessWithoutNullStreams
  /** Resolves when the process has exited and the secret guard found nothing; rejects otherwise. */
  readonly done: Promise<Run>
}

const flagValue = (args: ReadonlyArray<string>, flag: string): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === flag) return args[i + 1]
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1)
  }
  return undefined
}

/** Every file a run with these arguments may write: the output, the errors file and the checkpoint (and its temp). */
export const filesOf = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const output = flagValue(args, "--output")
  if (output === undefined || output.trim() === "") return []
  const resolved = path.resolve(root, output)
  const errors = flagValue(args, "--errors")
  return [
    resolved,
    errors === undefined ? `${resolved}.errors.ndjson` : path.resolve(root, errors),
    `${resolved}.checkpoint.json`,
    `${resolved}.checkpoint.json.tmp`,
    `${resolved}.orders.txt`,
    `${resolved}.orders.txt.tmp`
  ]
}

/** Starts the CLI with exactly `env` (plus `PATH`); `stdin` is written and closed (closed empty when absent). */
export const start = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>,
  stdin?: string
): Started => {
  ensureBuilt()
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = "", stderr = ""
  child.stdout.on("data", (d) => (stdout += d))
  child.stderr.on("data", (d) => (stderr += d))
  child.stdin.on("error", () => {
    // the CLI may exit (misuse) before reading stdin
  })
  if (stdin !== undefined) child.stdin.end(stdin)
  else child.stdin.end()
  const keys = Secrets.keysFor(env)
  const done = new Promise<Run>((resolve, reject) =>
    child.on("close", (code, signal) => {
      try {
        Secrets.assertNoLeaks(keys, { stdout, stderr }, filesOf(args))
        resolve({ code, signal, stdout, stderr })
      } catch (e) {
        reject(e)
      }
    })
  )
  return { child, done }
}

/** Runs the CLI to its end. */
export const run = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>, stdin?: string) =>
  start(args, env, stdin).done

/** The environment pointing the CLI at a testkit server, its key registered with the guard. */
export const envFor = (server: { readonly apiKey: string; readonly baseUrl: string }): Record<string, string> => {
  Secrets.register(server.apiKey)
  return { DIGICERT_API_KEY: server.apiKey, DIGICERT_BASE_URL: server.baseUrl }
}

/** Waits until `file` has more than `minBytes` bytes (polling; no blind sleep). */
export const waitForSize = async (
  file: string,
  minBytes: number,
  timeoutMs = 60_000,
  running?: Started
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (running !== undefined && (running.child.exitCode !== null || running.child.signalCode !== null)) {
      throw new Error(`the CLI exited before ${file} grew past ${minBytes} bytes`)
    }
    try {
      if (fs.statSync(file).size > minBytes) return
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`${file} did not grow past ${minBytes} bytes within ${timeoutMs} ms`)
}

/** Waits until the checkpoint of `output` covers at least `entries` input entries. */
export const waitForCheckpoint = async (output: string, entries: number, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      if (JSON.parse(fs.readFileSync(`${output}.checkpoint.json`, "utf8")).entries >= entries) return
    } catch {
      // not written yet, or being replaced
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`no checkpoint of ${output} with ${entries} entries within ${timeoutMs} ms`)
}

/**
 * Runs the CLI in this process (`inProcess.ts`, against the server at `DIGICERT_BASE_URL` through undici), for the
 * cases that do not need a process of their own; the same secret guard applies.
 */
export const runInProcess = async (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>,
  stdin?: string
): Promise<Run> => {
  const result = await InProcess.runPromise(args, { env, http: NodeHttpClient.layerUndici, stdin })
  return { code: result.exitCode, signal: null, stdout: result.stdout, stderr: result.stderrText }
}
