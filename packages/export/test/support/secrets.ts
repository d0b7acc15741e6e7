/**
 * The suite-wide secret guard: every CLI run of the tests (see `cli.ts`) ends with a scan of what it printed and of
 * every file it may have written for the API keys it was given (and any key registered here), and fails the test
 * when one is found. Messages name where the key was found, never the key itself.
 */
import * as fs from "node:fs"

const registered = new Set<string>()

/** Adds a key that no CLI run may ever print or write (the testkit servers' keys, wrong keys tried on purpose). */
export const register = (...keys: ReadonlyArray<string | undefined>): void => {
  for (const key of keys) {
    if (key !== undefined && key.trim() !== "") {
      registered.add(key.trim())
      // the test process's own output is guarded against it too (vitest.guard.ts)
      const guarded = (globalThis as { __certcentralGuardedKeys?: Set<string> }).__certcentralGuardedKeys
      guarded?.add(key.trim())
    }
  }
}

/** The keys a run must not leak: the registered ones and the one in its environment. */
export const keysFor = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<string> => {
  const keys = new Set(registered)
  const own = env["DIGICERT_API_KEY"]?.trim()
  if (own !== undefined && own !== "") keys.add(own)
  return [...keys]
}

/** Where a key was found: labels of the texts and files that contain one (empty when clean). */
export const findLeaks = (
  keys: ReadonlyArray<string>,
  texts: Readonly<Record<string, string>>,
  files: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const leaks: Array<string> = []
  const needles = keys.map((key) => Buffer.from(key, "utf8"))
  for (const [label, text] of Object.entries(texts)) {
    const buffer = Buffer.from(text, "utf8")
    if (needles.some((needle) => buffer.includes(needle))) leaks.push(label)
  }
  for (const file of files) {
    let buffer: Buffer
    try {
      buffer = fs.readFileSync(file)
    } catch {
      continue // not written (or not readable): nothing leaked there
    }
    if (needles.some((needle) => buffer.includes(needle))) leaks.push(file)
  }
  return leaks
}

/** Throws (without the key in the message) when a key is found. */
export const assertNoLeaks = (
  keys: ReadonlyArray<string>,
  texts: Readonly<Record<string, string>>,
  files: ReadonlyArray<string>
): void => {
  const leaks = findLeaks(keys, texts, files)
  if (leaks.length > 0) throw new Error(`an API key was found in: ${leaks.join(", ")}`)
}
