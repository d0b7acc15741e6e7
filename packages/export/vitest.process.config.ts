import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The real-process layer (`*.process.test.ts`): what only a process, a socket or a real redis-server shows, with the
// built CLI (`dist/bin.js`) as child processes. Its global setup builds dist/ first; vitest runs a project's global
// setup only when some of its files run, so the in-process layer (vitest.config.ts) never pays the build. CI runs
// this layer on one Node line only (`.ci/run`); `pnpm test` runs it with the rest.
const config = mergeConfig(
  shared,
  defineProject({
    test: {
      name: "export-process",
      // one module cache per worker across its files, as in the in-process layer: collect (effect, the platform, the
      // CLI's sources for the in-process runs) is paid once per worker, and so is the check that dist/ is up to date
      isolate: false,
      setupFiles: ["../../vitest.guard.ts"],
      globalSetup: ["./test/support/built.ts"]
    }
  })
)
// mergeConfig concatenates arrays: the shared `include` (every test file) is replaced, not extended
config.test!.include = ["test/**/*.process.test.ts"]

export default config
