/**
 * Runs `certcentral-export <args>` in this process: the CLI's program (`Cli.run`) with a map of environment
 * variables as its `ConfigProvider`, the given `HttpClient` layer (a testkit server through undici, the testkit's
 * in-memory client, or a scripted `HttpClient.make`), optional stdin text, a captured stderr and stdout, and the real
 * file system (files are read from the temp dir the test chose). Like the process runner (`cli.ts`), every run ends
 * with the secret guard: stdout, stderr and every file the run may have written are scanned for API keys, and a key
 * found fails the run (a defect), so no test can skip it.
 *
 * ```ts
 * const result = yield* InProcess.run(["--orders", ids, "--output", out, "--quiet"], {
 *   env: { DIGICERT_API_KEY: server.apiKey, DIGICERT_BASE_URL: server.baseUrl },
 *   http: NodeHttpClient.layerUndici
 * })
 * expect(result.exitCode).toBe(0)
 * ```
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Cli from "../../src/Cli.js"
import * as Terminal from "../../src/internal/cli/terminal.js"
import { filesOf } from "./cli.js"
import * as Secrets from "./secrets.js"

export interface Options {
  /** The environment, exactly (nothing of the test process's leaks in). */
  readonly env: Readonly<Record<string, string>>
  /** Where the CLI's requests go. */
  readonly http: Layer.Layer<HttpClient.HttpClient>
  /** What `--orders -` reads (empty when absent). */
  readonly stdin?: string | undefined
  /** stderr as a terminal of this width (a progress bar), else a pipe (progress lines). */
  readonly columns?: number | undefined
  /** Called with the captured stderr before the run starts: a test may resize it (`captured.resize(60)`). */
  readonly onStderr?: ((captured: Terminal.Captured) => void) | undefined
  /** When this effect ends first, the run is interrupted (as by SIGINT: exit code 130, files and checkpoint kept). */
  readonly interruptWhen?: Effect.Effect<void> | undefined
}

export interface Result {
  /** The exit code `bin.ts` would give: 0, the `ExitError`'s code, 130 when interrupted, 2 for anything else. */
  readonly exitCode: number
  /** stderr, split into its lines (without the empty last one). */
  readonly stderr: ReadonlyArray<string>
  /** stderr as written. */
  readonly stderrText: string
  /** stdout: `--help` and `--version`. */
  readonly stdout: string
}

const exitCodeOf = (exit: Exit.Exit<void, Cli.ExitError>): number =>
  Exit.match(exit, {
    onSuccess: () => Cli.ExitCode.ok,
    onFailure: (cause) =>
      Cause.isInterruptedOnly(cause)
        ? Cli.ExitCode.interrupted
        : Option.match(Cause.failureOption(cause), {
          onSome: (error) => error.code,
          onNone: () => Cli.ExitCode.usage
        })
  })

/** Runs the CLI on `args` to its end (or until interrupted: then exit code 130, and the guard still runs). */
export const run = (args: ReadonlyArray<string>, options: Options): Effect.Effect<Result> =>
  Effect.gen(function*() {
    const captured = yield* Terminal.capture({ columns: options.columns })
    options.onStderr?.(captured)
    let stdout = ""
    const base = yield* Console.consoleWith(Effect.succeed)
    const console: Console.Console = {
      ...base,
      log: (...parts) => Effect.sync(() => void (stdout += `${parts.map(String).join(" ")}\n`)),
      unsafe: {
        ...base.unsafe,
        log: (...parts) => void (stdout += `${parts.map(String).join(" ")}\n`)
      }
    }
    const finish = (exit: Exit.Exit<void, Cli.ExitError>) =>
      Effect.flatMap(captured.text, (stderrText) =>
        Effect.sync((): Result => {
          Secrets.assertNoLeaks(Secrets.keysFor(options.env), { stdout, stderr: stderrText }, filesOf(args))
          const lines = stderrText.split("\n")
          if (lines.at(-1) === "") lines.pop()
          return { exitCode: exitCodeOf(exit), stderr: lines, stderrText, stdout }
        }))
    const program = Cli.run(["node", "certcentral-export", ...args]).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env)))),
      Effect.withConsole(console),
      Effect.provide(Layer.mergeAll(
        NodeContext.layer,
        Layer.succeed(Terminal.CliOutput, captured.output),
        Terminal.stdinOf(options.stdin),
        options.http
      ))
    )
    const interruptWhen = options.interruptWhen
    const exit = interruptWhen === undefined ? yield* Effect.exit(program) : yield* Effect.gen(function*() {
      const fiber = yield* Effect.fork(program)
      yield* Effect.raceFirst(Effect.asVoid(Fiber.await(fiber)), interruptWhen)
      return yield* Fiber.interrupt(fiber)
    })
    return yield* finish(exit)
  })

/** {@link run} as a promise, for tests that are not effects. */
export const runPromise = (args: ReadonlyArray<string>, options: Options): Promise<Result> =>
  Effect.runPromise(run(args, options))
