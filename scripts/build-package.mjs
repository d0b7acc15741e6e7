// Builds the package in the current directory to dist/: ESM, .d.ts and source maps from tsconfig.build.json.
// Starts clean, because `tsc -b` trusts its build info and emits nothing when only dist/ was deleted. A bin's
// shebang runs the source through tsx in the workspace; the published dist/bin.js must run on plain Node.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"

fs.rmSync("dist", { recursive: true, force: true })
fs.rmSync(".tsbuildinfo/build.tsbuildinfo", { force: true })
execFileSync("tsc", ["-b", "tsconfig.build.json"], { stdio: "inherit" })

const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"))
const bins = Object.values(pkg.publishConfig?.bin ?? {})
for (const bin of bins) {
  const file = bin.replace(/^\.\//, "")
  const text = fs.readFileSync(file, "utf8")
  const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text
  // Same line count as before, so the source map still lines up.
  fs.writeFileSync(file, `#!/usr/bin/env node\n${body}`)
  fs.chmodSync(file, 0o755)
}
