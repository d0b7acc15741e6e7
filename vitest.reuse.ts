/**
 * Test files share worker processes (`poolOptions.forks.isolate: false` in vitest.config.ts): a worker runs
 * one file after another without a new process, so Node's module cache (effect, @effect/platform, @effect/cli...) is
 * loaded once per worker, not once per file. State that outlives a file must not change what the next file sees.
 *
 * One such state is in `@effect/vitest` 0.x itself: `layer(...)` assigns its runtime-bound `effect`, `scoped`,
 * `layer`, `prop` and `flakyTest` onto the shared vitest `it` (the object every file imports), so after a file that
 * calls `layer(...)`, `it.effect` of the next file in that worker would run without `TestClock` and the other test
 * services. This setup file runs before every test file: the first time in a worker it records `it`'s own methods,
 * every time it puts them back.
 */
import { it } from "@effect/vitest"

const methods = ["effect", "scoped", "layer", "prop", "flakyTest", "live", "scopedLive"] as const
type Methods = Partial<Record<(typeof methods)[number], unknown>>

const key = Symbol.for("certcentral.effectVitestMethods")
const store = globalThis as { [key]?: Methods }
const api = it as unknown as Record<string, unknown>
const pristine = (store[key] ??= Object.fromEntries(methods.map((name) => [name, api[name]])))
Object.assign(api, pristine)
