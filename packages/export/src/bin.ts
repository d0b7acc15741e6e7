#!/usr/bin/env -S node --import tsx
/**
 * The `certcentral-export` executable, the process's edge: runs {@link Cli.run} on the process's arguments,
 * environment, stderr and stdin, with the platform's file system and undici's `HttpClient`, and turns how it ended
 * into the exit code (an interruption by SIGINT or SIGTERM is 130).
 *
 * @since 0.1.0
 */
// first, so that it runs before the modules below are loaded (see the module)
import "./internal/heap.js"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Cli from "./Cli.js"

/**
 * undici's client, loaded by the first request, not with the CLI: `--help` and a usage error never evaluate undici's
 * module (about 60 ms of start-up). The loaded client traces nothing itself: this one already did.
 */
const lazyUndici = Layer.scoped(
  HttpClient.HttpClient,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const undici = yield* Effect.cached(
      Effect.promise(() => import("@effect/platform-node/NodeHttpClient")).pipe(
        Effect.flatMap((m) => Layer.buildWithScope(m.layerUndici, scope)),
        Effect.map((context) =>
          HttpClient.withTracerDisabledWhen(Context.get(context, HttpClient.HttpClient), () => true)
        )
      )
    )
    return HttpClient.make((request) => Effect.flatMap(undici, (client) => client.execute(request)))
  })
)

Cli.run(process.argv).pipe(
  Effect.provide(Layer.mergeAll(NodeContext.layer, Cli.layerTerminal, lazyUndici)),
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
