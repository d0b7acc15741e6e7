/**
 * vitest's global setup for the export package: brings every package's dist/ up to date with its sources
 * (`scripts/built.mjs`, which rebuilds only what changed, with `tsc -b`) before any test starts, because the CLI's
 * child processes run the built JavaScript, as the installed bin and `pnpm certcentral-export` do. A type error stops
 * the run with tsc's message instead of testing stale code.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export default function setup(): void {
  const script = fileURLToPath(new URL("../../../../scripts/built.mjs", import.meta.url))
  // without the tests' source condition: the build tool runs on plain Node
  const { NODE_OPTIONS: _, ...env } = process.env
  execFileSync(process.execPath, [script], { stdio: ["ignore", "inherit", "inherit"], env })
}
