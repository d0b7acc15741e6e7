import { defineConfig } from "vitest/config"

// The workspace packages' `exports` point plain Node at their built dist/; tests run the TypeScript sources through
// this condition, and so do the processes they start (the CLI, the testkit bin) through NODE_OPTIONS.
const sourceCondition = "@certcentral/source"

// Shared by every package's project in vitest.workspace.ts.
export default defineConfig({
  resolve: { conditions: [sourceCondition, "module", "node", "development|production"] },
  ssr: { resolve: { conditions: [sourceCondition, "module", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false },
    env: {
      NODE_OPTIONS: [process.env["NODE_OPTIONS"], `--conditions=${sourceCondition}`].filter(Boolean).join(" ")
    }
  }
})
