import { defineWorkspace } from "vitest/config"

// One vitest project per package; each package's vitest.config.ts extends vitest.shared.ts. The export has a second
// project, `export-process`, for its real-process files (`*.process.test.ts`, see its vitest.process.config.ts).
export default defineWorkspace(["packages/*", "packages/export/vitest.process.config.ts"])
