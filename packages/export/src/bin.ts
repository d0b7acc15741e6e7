#!/usr/bin/env -S node --import tsx
/**
 * The `certcentral-export` executable.
 *
 * @since 0.1.0
 */
// first, so that it runs before the modules below are loaded (see the module)
import "./internal/heap.js"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
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
