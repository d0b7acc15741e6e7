/**
 * Brings every package's dist/ up to date with its sources (`scripts/built.mjs`, which rebuilds only what changed,
 * with `tsc -b`), because the CLI's child processes run the built JavaScript, as the installed bin and
 * `pnpm certcentral-export` do. A type error stops the run with tsc's message instead of testing stale code.
 *
 * {@link ensureBuilt} is what `support/cli.ts` calls before it starts the first CLI process of a test worker, and
 * what the real-process files (`*.process.test.ts`) and the testkit's tests of its bin and of keep-alive (a server
 * process of their own) call in `beforeAll`, so the build's time counts against the hook's timeout rather than a
 * test's: one build helper, and one lock, for the workspace. The in-process tests run the sources and never pay it;
 * once built, the check costs a few milliseconds per worker.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("../../../../scripts/built.mjs", import.meta.url))

const build = (): void => {
  // without the tests' source condition: the build tool runs on plain Node
  const { NODE_OPTIONS: _, ...env } = process.env
  execFileSync(process.execPath, [script], { stdio: ["ignore", "inherit", "inherit"], env })
}

let built = false
// test workers run files in parallel: one build at a time (a lock directory; a lock older than 5 minutes is stale)
const lock = path.join(os.tmpdir(), `certcentral-built-${Buffer.from(script).toString("base64url").slice(-40)}.lock`)
const pause = new Int32Array(new SharedArrayBuffer(4))

/** Builds what is stale, once per test worker, one worker at a time. */
export const ensureBuilt = (): void => {
  if (built) return
  for (;;) {
    try {
      fs.mkdirSync(lock)
      break
    } catch {
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 5 * 60_000) fs.rmSync(lock, { recursive: true, force: true })
      } catch {
        // released meanwhile
      }
      Atomics.wait(pause, 0, 0, 100)
    }
  }
  try {
    build()
    built = true
  } finally {
    fs.rmSync(lock, { recursive: true, force: true })
  }
}
