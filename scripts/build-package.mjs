// Builds the package in the current directory to dist/: ESM, .d.ts and source maps from tsconfig.build.json.
// Starts clean, because `tsc -b` trusts its build info and emits nothing when only dist/ was deleted. A bin's
// shebang runs the source through tsx in the workspace; the published dist/bin.js must run on plain Node. The
// export package's bin is then bundled into one file over tsc's dist/bin.js (see `bundleBin` in built.mjs).
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { bundleBin, fixBins, isBundled, markBuilt, stampVersion } from "./built.mjs"

const startedAt = new Date()
fs.rmSync("dist", { recursive: true, force: true })
fs.rmSync(".tsbuildinfo/build.tsbuildinfo", { force: true })
execFileSync("tsc", ["-b", "tsconfig.build.json"], { stdio: "inherit" })
if (isBundled(".")) await bundleBin(".", startedAt)
fixBins(".")
stampVersion(".")
// `scripts/built.mjs` (the workspace's commands) takes this build as current
markBuilt(".", "dist", startedAt)
