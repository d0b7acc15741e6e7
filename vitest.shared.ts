import { defineConfig } from "vitest/config"

// Shared by every package's project in vitest.workspace.ts.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false }
  }
})
