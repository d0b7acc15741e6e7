/**
 * The secret guard for every test of the packages that run the client or the CLI (a `setupFiles` entry of core and
 * export): what a test prints or logs in the test process (stdout, stderr, `console`, Effect's default logger) is
 * scanned after each test for the API keys the suite uses, and the test fails when one is there. CLI processes are
 * scanned by `packages/export/test/support/secrets.ts`, which registers the keys it is given here too.
 */
import { afterEach, beforeEach, expect } from "vitest"

declare global {
  var __certcentralGuardedKeys: Set<string> | undefined
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

let captured: Array<string> = []
const record = (chunk: unknown) => {
  captured.push(typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk))
}

const wrapStream = (stream: NodeJS.WriteStream) => {
  const write = stream.write.bind(stream)
  stream.write = ((chunk: unknown, ...rest: Array<never>) => {
    record(chunk)
    return write(chunk as string, ...rest)
  }) as typeof stream.write
}
wrapStream(process.stdout)
wrapStream(process.stderr)

for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
  const original = console[method].bind(console)
  console[method] = (...args: Array<unknown>) => {
    for (const arg of args) {
      try {
        record(typeof arg === "string" ? arg : JSON.stringify(arg) ?? String(arg))
      } catch {
        record(String(arg))
      }
    }
    original(...args)
  }
}

beforeEach(() => {
  captured = []
})

afterEach(() => {
  const text = captured.join("")
  captured = []
  const found = [...keys].filter((key) => text.includes(key)).length
  // the message never names the key
  expect(found, "an API key was printed or logged by this test").toBe(0)
})
