#!/usr/bin/env -S node --import tsx
/**
 * The `certcentral-export` executable.
 *
 * @since 0.1.0
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import * as v8 from "node:v8"
import * as Cli from "./Cli.js"

// The export's live heap is flat (about 65 MB, most of it loaded code) but V8 lets the old generation grow to four
// times that between major GCs, which is most of the process's memory. Growing by 30% at a time instead keeps peak
// RSS near 200 MB at no measured cost in speed (bench/README.md). The factor is read at every GC, so it can be set
// now; a heap option of the user's own (NODE_OPTIONS or node's arguments) wins.
const heapOptions = /--(max-old-space-size|heap-growing-percent|max-heap-size)\b/
if (![...process.execArgv, process.env["NODE_OPTIONS"] ?? ""].some((arg) => heapOptions.test(arg))) {
  v8.setFlagsFromString("--heap-growing-percent=30")
}

Cli.run(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit) => {
      const code = Exit.isSuccess(exit)
        ? typeof exit.value === "number" ? exit.value : Cli.ExitCode.usage
        : Cause.isInterruptedOnly(exit.cause)
        ? Cli.ExitCode.interrupted
        : Cli.ExitCode.usage
      process.exit(code)
    }
  })
)
