import { defineWorkspace } from "vitest/config"

// The workspace packages' `exports` point plain Node at their built dist/; tests run the TypeScript sources through
// this condition, and so do the processes they start (the CLI, the testkit bin) through NODE_OPTIONS.
const sourceCondition = "@certcentral/source"
const conditions = [sourceCondition, "module", "node", "development|production"]
const here = (file: string) => new URL(file, import.meta.url).pathname

// One project for the three packages' tests, both layers: the in-process files (`*.test.ts`) and the real-process
// ones (`*.process.test.ts`, which start the built CLI or testkit bin, `redis-server` or real sockets). With reused
// workers (vitest.config.ts), vitest runs one project after another; as one project, the slowest files of every
// package start first and the four workers stay busy to the end. Select with filters instead:
// `pnpm test packages/core`, `pnpm test .process.test`, `pnpm test --exclude '**/*.process.test.ts'`.
export default defineWorkspace([
  {
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name: "certcentral",
      include: ["packages/*/test/**/*.test.ts"],
      // test files share workers and modules (vitest.config.ts): each file still gets its own fresh test state
      isolate: false,
      // vitest.reuse.ts puts back what a file before may have changed; vitest.guard.ts fails a test that prints a key
      setupFiles: [here("./vitest.reuse.ts"), here("./vitest.guard.ts")],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      sequence: { concurrent: false },
      env: {
        NODE_OPTIONS: [process.env["NODE_OPTIONS"], `--conditions=${sourceCondition}`].filter(Boolean).join(" ")
      }
    }
  }
])
