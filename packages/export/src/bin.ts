#!/usr/bin/env -S node --import tsx
/**
 * The `certcentral-export` executable.
 *
 * @since 0.1.0
 */
// first, so that it runs before the modules below are loaded (see the module)
import "./internal/heap.js"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import * as Cli from "./Cli.js"

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
