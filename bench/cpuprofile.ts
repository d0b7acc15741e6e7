/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and sums self time per function and per package. Frames in an
 * esbuild bundle (the CLI's `dist/bin.js`) are attributed to the module they came from, found from the `// path`
 * comment esbuild writes before each module (the line shown stays the bundle's).
 */
import * as fs from "node:fs"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export interface Entry {
  readonly name: string
  readonly selfMillis: number
  readonly percent: number
}

export interface Summary {
  readonly file: string
  readonly totalMillis: number
  readonly idlePercent: number
  readonly gcPercent: number
  readonly topFunctions: ReadonlyArray<Entry>
  readonly byPackage: ReadonlyArray<Entry>
  readonly topInclusive: ReadonlyArray<Entry>
}

/** `effect/dist/esm/internal/fiberRuntime.js` → `effect`, a workspace file → its package folder. */
export const packageOf = (url: string): string => {
  if (url === "") return "(native/V8)"
  if (url.startsWith("node:")) return "node"
  const path = url.replace(/^file:\/\//, "")
  const nm = path.lastIndexOf("/node_modules/")
  if (nm >= 0) {
    const rest = path.slice(nm + "/node_modules/".length).split("/")
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  const ws = /\/(packages\/[^/]+|bench|examples)\//.exec(path)
  return ws !== null ? ws[1]! : path.split("/").slice(-2).join("/")
}

/** For a bundle: the first line of each module and its path, in order; empty for any other file. */
const bundleModules = new Map<string, ReadonlyArray<readonly [number, string]>>()

const modulesOf = (url: string): ReadonlyArray<readonly [number, string]> => {
  let modules = bundleModules.get(url)
  if (modules === undefined) {
    modules = []
    try {
      const text = fs.readFileSync(url.replace(/^file:\/\//, ""), "utf8")
      if (text.slice(0, 400).includes("// bundled by")) {
        const lines = text.split("\n")
        modules = lines.flatMap((line, i) => {
          const m = /^\/\/ ((?:\.\.\/)*(?:node_modules|packages)\/\S+)$/.exec(line)
          return m === null ? [] : [[i, m[1]!.replace(/^(\.\.\/)+/, "")] as const]
        })
      }
    } catch {
      // not a file on disk (node:, eval)
    }
    bundleModules.set(url, modules)
  }
  return modules
}

/** The frame's url, or for a bundle the path of the module its line falls in. */
const sourceUrl = (frame: CallFrame): string => {
  if (frame.url === "" || frame.url.startsWith("node:")) return frame.url
  const modules = modulesOf(frame.url)
  let found: string | undefined
  for (const [line, path] of modules) {
    if (line > frame.lineNumber) break
    found = path
  }
  return found === undefined ? frame.url : `file:///${found}`
}

const shortUrl = (url: string): string => {
  const path = url.replace(/^file:\/\//, "")
  const nm = path.lastIndexOf("/node_modules/")
  if (nm >= 0) return path.slice(nm + "/node_modules/".length).replace(/\/dist\/(esm|cjs)\//, "/")
  const ws = /\/((packages\/[^/]+|bench|examples)\/.*)$/.exec(path)
  return ws !== null ? ws[1]! : path
}

export const summarize = (file: string, top = 15): Summary => {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile
  const byId = new Map<number, ProfileNode>()
  for (const node of profile.nodes) byId.set(node.id, node)
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const total = (profile.endTime - profile.startTime) / 1000
  const fns = new Map<string, number>()
  const pkgs = new Map<string, number>()
  let idle = 0
  let gc = 0
  for (const [id, micros] of self) {
    const frame = byId.get(id)!.callFrame
    const millis = micros / 1000
    if (frame.functionName === "(idle)") {
      idle += millis
      continue
    }
    if (frame.functionName === "(garbage collector)") gc += millis
    const name = frame.url === ""
      ? frame.functionName
      : `${frame.functionName || "(anonymous)"} ${shortUrl(sourceUrl(frame))}:${frame.lineNumber + 1}`
    fns.set(name, (fns.get(name) ?? 0) + millis)
    const pkg = frame.functionName === "(garbage collector)" ? "(gc)" : packageOf(sourceUrl(frame))
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + millis)
  }
  const inclusive = new Map<string, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const seen = new Set<string>()
    for (let id: number | undefined = profile.samples[i]!; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame
      if (frame.url === "" || frame.url.startsWith("node:")) continue
      seen.add(`${frame.functionName || "(anonymous)"} ${shortUrl(sourceUrl(frame))}:${frame.lineNumber + 1}`)
    }
    for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  }
  const busy = total - idle
  const rank = (m: Map<string, number>, n: number): ReadonlyArray<Entry> =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({
      name,
      selfMillis: Math.round(ms),
      percent: Math.round((ms / busy) * 1000) / 10
    }))
  return {
    file,
    totalMillis: Math.round(total),
    idlePercent: Math.round((idle / total) * 1000) / 10,
    gcPercent: Math.round((gc / busy) * 1000) / 10,
    topFunctions: rank(fns, top),
    byPackage: rank(pkgs, 12),
    topInclusive: rank(inclusive, top * 4)
  }
}

/** The newest `.cpuprofile` in a directory. */
export const newestProfile = (dir: string): string | undefined => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))
  if (files.length === 0) return undefined
  return files.map((f) => `${dir}/${f}`).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]
}

if (process.argv[1]?.endsWith("cpuprofile.ts") && process.argv[2] !== undefined) {
  console.log(JSON.stringify(summarize(process.argv[2], Number(process.argv[3] ?? 25)), null, 2))
}
