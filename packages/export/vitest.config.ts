import { configDefaults, defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The in-process layer: every test file but the real-process ones (`*.process.test.ts`, the `export-process` project
// of vitest.process.config.ts). It runs the TypeScript sources, so it needs no build of dist/.
export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "export",
      // one module cache per worker across its files: collect (loading effect, platform, the CLI) is paid once, not
      // per file; every file still gets the guard (setupFiles run per file) and its own fresh test state
      isolate: false,
      setupFiles: ["../../vitest.guard.ts"],
      exclude: [...configDefaults.exclude, "test/**/*.process.test.ts"]
    }
  })
)
