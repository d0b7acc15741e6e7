/**
 * The secret guard for every test file (a `setupFiles` entry in vitest.workspace.ts): what a test prints or logs in
 * the test process (stdout, stderr, `console`, Effect's default logger) is scanned after each test for the API keys
 * the suite uses, and the test fails when one is there. CLI processes are scanned by
 * `packages/export/test/support/secrets.ts`, which registers the keys it is given here too.
 */
import { afterEach, beforeEach, expect } from "vitest"

declare global {
  var __certcentralGuardedKeys: Set<string> | undefined
  var __certcentralGuardCaptured: Array<string> | undefined
}

// Every key the suite hands to a client or a CLI run; tests add their own through `guardKey`.
const suiteKeys = [
  "k3y-that-must-never-leak-0123456789",
  "hostile-test-key",
  "keep me secret",
  "wrong-key",
  "12345-abcde",
  "1234567890",
  "1-34567890",
  "test-api-key"
]

const keys = (globalThis.__certcentralGuardedKeys ??= new Set(suiteKeys))

// Workers are reused (vitest.config.ts), so this file runs again for every test file of a worker: a stream or console
// method is wrapped only when it is not a wrapper already (a layer per file would stack); each run resets the capture
const wrapped = Symbol.for("certcentral.secretGuard")
const record = (chunk: unknown) => {
  globalThis.__certcentralGuardCaptured?.push(
    typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk)
  )
}
const mark = <F extends object>(f: F): F => Object.assign(f, { [wrapped]: true })
const isWrapped = (f: object): boolean => wrapped in f

const wrapStream = (stream: NodeJS.WriteStream) => {
  if (isWrapped(stream.write)) return
  const write = stream.write.bind(stream)
  stream.write = mark(
    ((chunk: unknown, ...rest: Array<never>) => {
      record(chunk)
      return write(chunk as string, ...rest)
    }) as typeof stream.write
  )
}
wrapStream(process.stdout)
wrapStream(process.stderr)

for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
  if (isWrapped(console[method])) continue
  const original = console[method].bind(console)
  console[method] = mark((...args: Array<unknown>) => {
    for (const arg of args) {
      try {
        record(typeof arg === "string" ? arg : JSON.stringify(arg) ?? String(arg))
      } catch {
        record(String(arg))
      }
    }
    original(...args)
  })
}
globalThis.__certcentralGuardCaptured ??= []

beforeEach(() => {
  globalThis.__certcentralGuardCaptured = []
})

afterEach(() => {
  const text = (globalThis.__certcentralGuardCaptured ?? []).join("")
  globalThis.__certcentralGuardCaptured = []
  const found = [...keys].filter((key) => text.includes(key)).length
  // the message never names the key
  expect(found, "an API key was printed or logged by this test").toBe(0)
})
