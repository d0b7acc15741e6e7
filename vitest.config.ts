import { defineConfig } from "vitest/config"

// The run's pool (the project is in vitest.workspace.ts). Four worker processes, started once and reused from one
// test file to the next: on a 2-core machine most of a file's wall time is waiting (timer turns, child processes,
// Redis), so four files at a time overlap it, and a reused worker loads Node, effect, @effect/platform and
// @effect/cli once instead of once per file (that loading was most of the suite's CPU).
export default defineConfig({
  test: {
    maxWorkers: 4,
    // as many as at most: the pool then never retires an idle worker during the run nor starts replacements while
    // it shuts down (with fewer, vitest 3.2 could end a run early with "Terminating worker thread" and leave a
    // worker that was still starting running on after the run, at full CPU)
    minWorkers: 4,
    poolOptions: { forks: { isolate: false } }
  }
})
