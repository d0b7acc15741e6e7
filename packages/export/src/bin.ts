#!/usr/bin/env -S node --import tsx
/**
 * The `certcentral-export` executable: runs {@link Cli.run} on the process's arguments, environment and stderr, and
 * turns how it ended into the exit code.
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
import * as Option from "effect/Option"
import * as Cli from "./Cli.js"

Cli.run(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit) =>
      process.exit(Exit.match(exit, {
        onSuccess: () => Cli.ExitCode.ok,
        onFailure: (cause) =>
          Cause.isInterruptedOnly(cause)
            ? Cli.ExitCode.interrupted
            : Option.match(Cause.failureOption(cause), {
              onSome: (error) => error instanceof Cli.ExitError ? error.code : Cli.ExitCode.usage,
              onNone: () => Cli.ExitCode.usage
            })
      }))
  })
)
