// Runs the workspace's commands (`pnpm certcentral-export`, `pnpm certcentral-testkit`, `pnpm demo`, ...) as plain
// JavaScript from dist/, so that no TypeScript loader is paid for at run time, and keeps dist/ in step with the
// sources: `pnpm install` builds everything (the root `prepare` script), and each run first compares the sources'
// modification times with the last build's stamp (a few milliseconds) and rebuilds with `tsc -b` only what changed
// (about 3 s after an edit). A type error stops the command with tsc's message instead of running stale code.
// The `certcentral-export` bin is one ESM file bundled by esbuild from the sources of core and export (`bundleBin`),
// rebuilt when either changed: loading one file instead of some 700 modules halves the CLI's start-up.
//
// Usage: node scripts/built.mjs [ENTRY.js [ARGS...]]   (no entry: only bring dist/ up to date)
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const stampName = ".built"

/** What is built: each project's sources (recursively), its tsconfig and where it writes. */
const projects = [
  { dir: "packages/core", sources: ["src"], out: "dist", config: "tsconfig.build.json" },
  { dir: "packages/testkit", sources: ["src"], out: "dist", config: "tsconfig.build.json" },
  { dir: "packages/export", sources: ["src"], out: "dist", config: "tsconfig.build.json" },
  { dir: "examples", sources: ["."], out: "dist", config: "tsconfig.build.json", flat: true }
]
const shared = ["tsconfig.base.json"]
/** The bins run as one bundle: which package, and the projects whose sources go into it. */
const bundled = [{ dir: "packages/export", from: ["packages/core", "packages/export"] }]
/** Whether the package in `dir` ships its bins bundled. */
export const isBundled = (dir) => bundled.some((bundle) => path.join(root, bundle.dir) === path.resolve(dir))
const bundleStampName = ".bundled"
/** The bundle's second line; a `bin.js` without it is tsc's output, not the bundle. */
const bundleMarker =
  "// bundled by scripts/built.mjs (esbuild) from the sources of @certcentral/core and @certcentral/export"
const projectFiles = ["package.json", "tsconfig.json", "tsconfig.src.json", "tsconfig.build.json"]
/** Modules written from a package's package.json before it is built: the CLI's `--version`. */
const versionModules = [
  { dir: "packages/core", file: "src/internal/version.ts" },
  { dir: "packages/export", file: "src/internal/cli/version.ts" }
]
const versionHeader = (dir) => `// Written by scripts/built.mjs from ${dir}/package.json at each build: do not edit.`

/**
 * Writes the version modules of the package in `dir` (all when absent) from its package.json, when they differ: after
 * `changeset version` the next build carries the new version.
 */
export const writeVersions = (dir) => {
  for (const { dir: owner, file } of versionModules) {
    const base = path.join(root, owner)
    if (dir !== undefined && path.resolve(dir) !== base) continue
    const { name, version } = JSON.parse(fs.readFileSync(path.join(base, "package.json"), "utf8"))
    const text = `${versionHeader(owner)}\n/** The version of ${name}, as its package.json says. */\n` +
      `export const version = ${JSON.stringify(version)}\n`
    const target = path.join(base, file)
    if (!fs.existsSync(target) || fs.readFileSync(target, "utf8") !== text) fs.writeFileSync(target, text)
  }
}

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return 0
  }
}

/** The newest modification time under `dir` of a `.ts` file (only `dir` itself when `flat`). */
const newestSource = (dir, flat) => {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!flat && entry.name !== "node_modules") newest = Math.max(newest, newestSource(file, false))
    } else if (entry.name.endsWith(".ts")) {
      newest = Math.max(newest, mtime(file))
    }
  }
  return newest
}

/** A project is stale when its output has no stamp or a source or config is newer than the stamp. */
const isStale = (project) => {
  const base = path.join(root, project.dir)
  const stamp = mtime(path.join(base, project.out, stampName))
  if (stamp === 0) return true
  const newest = Math.max(
    ...project.sources.map((dir) => newestSource(path.join(base, dir), project.flat === true)),
    ...projectFiles.map((file) => mtime(path.join(base, file))),
    ...shared.map((file) => mtime(path.join(root, file)))
  )
  return newest > stamp
}

/** Records that `dir`'s output reflects its sources as of `at` (the build's start: edits made during it count). */
export const markBuilt = (dir, out = "dist", at = new Date()) => {
  const stamp = path.join(dir, out, stampName)
  fs.writeFileSync(stamp, "written by scripts/built.mjs: the sources' state this output was built from\n")
  fs.utimesSync(stamp, at, at)
}

/** A published bin's shebang runs plain node (the source's runs tsx); the line count stays for the source map. */
export const fixBins = (dir) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
  for (const bin of Object.values(pkg.publishConfig?.bin ?? {})) {
    const file = path.join(dir, bin)
    const text = fs.readFileSync(file, "utf8")
    const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text
    fs.writeFileSync(file, `#!/usr/bin/env node\n${body}`)
    fs.chmodSync(file, 0o755)
  }
}

/**
 * Bundles a package's published bins (its `publishConfig.bin`, built from `src/<name>.ts`) into one ESM file each,
 * over tsc's output of the same name: the workspace's sources (the `@certcentral/source` condition) and every
 * dependency (effect, the platform, undici, ioredis) in one file, node's built-ins left out. The library's modules
 * in dist/ stay as tsc wrote them. The entry's imports keep their order, and the package's `sideEffects` names the
 * module imported first for its side effect alone (the CLI's heap setting), so it is kept and runs first.
 */
export const bundleBin = async (dir, at = new Date()) => {
  const esbuild = createRequire(path.join(root, "package.json"))("esbuild")
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
  for (const bin of Object.values(pkg.publishConfig?.bin ?? {})) {
    const outfile = path.resolve(dir, bin)
    const entry = path.resolve(dir, "src", `${path.basename(bin, ".js")}.ts`)
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      allowOverwrite: true,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: ["@certcentral/source"],
      // what tsconfig.base.json compiles with, for every file (esbuild would otherwise look for a tsconfig per file)
      tsconfigRaw: { compilerOptions: { target: "ES2022", useDefineForClassFields: true, verbatimModuleSyntax: true } },
      // the CommonJS dependencies (undici, ioredis) call require() for node's built-ins
      banner: {
        js: `${bundleMarker}\nimport { createRequire as __bundleCreateRequire } from "node:module"\n` +
          `const require = __bundleCreateRequire(import.meta.url)`
      },
      sourcemap: "linked",
      sourcesContent: false,
      legalComments: "none",
      logLevel: "error"
    })
  }
  const stamp = path.join(dir, "dist", bundleStampName)
  fs.writeFileSync(stamp, "written by scripts/built.mjs: the sources' state the bundled bins were built from\n")
  fs.utimesSync(stamp, at, at)
}

/** A bundle is stale when it has no stamp, a bin is not the bundle, or a source of a project in it is newer. */
const isBundleStale = (bundle) => {
  const base = path.join(root, bundle.dir)
  const stamp = mtime(path.join(base, "dist", bundleStampName))
  if (stamp === 0) return true
  const pkg = JSON.parse(fs.readFileSync(path.join(base, "package.json"), "utf8"))
  for (const bin of Object.values(pkg.publishConfig?.bin ?? {})) {
    let head = ""
    try {
      head = fs.readFileSync(path.join(base, bin), "utf8").slice(0, 300)
    } catch {
      return true
    }
    if (!head.includes(bundleMarker)) return true
  }
  const newest = Math.max(
    ...bundle.from.flatMap((dir) => [
      newestSource(path.join(root, dir, "src"), false),
      mtime(path.join(root, dir, "package.json"))
    ]),
    mtime(path.join(root, "pnpm-lock.yaml")),
    // how the bundle is made is this file's
    mtime(fileURLToPath(import.meta.url))
  )
  return newest > stamp
}

/** Rebuilds the stale projects with one `tsc -b`, then the stale bundles; returns the projects rebuilt. */
export const ensureBuilt = async () => {
  writeVersions()
  const stale = projects.filter(isStale)
  if (stale.length > 0) build(stale)
  for (const bundle of bundled) {
    if (!isBundleStale(bundle)) continue
    const startedAt = new Date()
    process.stderr.write(`bundling the bins of ${bundle.dir} ...\n`)
    const base = path.join(root, bundle.dir)
    await bundleBin(base, startedAt)
    fixBins(base)
  }
  return stale
}

/** One `tsc -b` over the stale projects; a type error ends the process with tsc's message. */
const build = (stale) => {
  const startedAt = new Date()
  for (const project of stale) {
    const base = path.join(root, project.dir)
    // `tsc -b` trusts its build info and emits nothing when only the output was deleted
    if (!fs.existsSync(path.join(base, project.out))) {
      fs.rmSync(path.join(base, ".tsbuildinfo", "build.tsbuildinfo"), { force: true })
    }
  }
  const tsc = path.join(
    path.dirname(createRequire(path.join(root, "package.json")).resolve("typescript-7/package.json")),
    "bin",
    "tsc"
  )
  const configs = stale.map((project) => path.join(project.dir, project.config))
  process.stderr.write(`building ${stale.map((project) => project.dir).join(", ")} (sources changed) ...\n`)
  try {
    execFileSync(process.execPath, [tsc, "-b", ...configs], { cwd: root, stdio: ["ignore", "inherit", "inherit"] })
  } catch {
    process.stderr.write(`build failed: fix the errors above, or see \`pnpm check\`\n`)
    process.exit(1)
  }
  for (const project of stale) {
    const base = path.join(root, project.dir)
    fixBins(base)
    markBuilt(base, project.out, startedAt)
  }
}

if (process.argv[1] !== undefined && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  await ensureBuilt()
  const entry = process.argv[2]
  if (entry !== undefined) {
    const file = path.resolve(root, entry)
    // the entry sees the argv it would see run directly: [node, entry, ...args]
    process.argv.splice(1, 2, file)
    await import(pathToFileURL(file).href)
  }
}
