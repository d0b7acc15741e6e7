import { defineWorkspace } from "vitest/config"

// One vitest project per package; each package's vitest.config.ts extends vitest.shared.ts.
export default defineWorkspace(["packages/*"])
