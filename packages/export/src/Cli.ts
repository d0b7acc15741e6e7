/**
 * The `certcentral-export` command line: flags, exit codes and progress on stderr, around {@link Export.toFiles}.
 *
 * Exit codes: `0` every order exported; `1` finished, but some orders or input lines failed (all in the errors file);
 * `2` usage or setup error (one line on stderr); `3` the API refused the key (401); `130` interrupted (SIGINT or
 * SIGTERM; run again with `--resume`).
 *
 * @since 0.1.0
 */
import { CertCentralClient, RollingWindowLimiter } from "@certcentral/core"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as Export from "./Export.js"
import { describe } from "./internal/errno.js"
import * as OrderIds from "./OrderIds.js"
import * as Progress from "./Progress.js"
import * as RowEncoder from "./RowEncoder.js"

/**
 * The exit codes.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  authentication: 3,
  interrupted: 130
} as const

/**
 * Where the CLI writes its progress and messages, and what it reads from the environment. The defaults are the
 * process's stderr and environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Io {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stderr: { readonly write: (text: string) => unknown; readonly isTTY?: boolean | undefined }
}

const processIo = (): Io => ({ env: process.env, stderr: process.stderr })

const NAME = "certcentral-export"
const VERSION = "0.1.0"

/** Ends the command with an exit code, after a one-line message (when there is one). */
class Done {
  readonly _tag = "Done"
  constructor(readonly code: number, readonly message?: string) {}
}

const usage = (message: string) => new Done(ExitCode.usage, message)

const flags = {
  orders: Options.text("orders").pipe(
    Options.withPseudoName("path"),
    Options.withDescription("Order ids, one per line or a CSV with an order_id column; - reads stdin")
  ),
  output: Options.text("output").pipe(
    Options.withPseudoName("path"),
    Options.withDescription("The file to write")
  ),
  format: Options.text("format").pipe(
    Options.withPseudoName("csv|ndjson"),
    Options.withDescription("Output format (default from the output's extension: .csv, .ndjson, .jsonl; else csv)"),
    Options.optional
  ),
  errors: Options.text("errors").pipe(
    Options.withPseudoName("path"),
    Options.withDescription("Failed orders and bad input lines, NDJSON (default <output>.errors.ndjson)"),
    Options.optional
  ),
  include: Options.text("include").pipe(
    Options.withPseudoName("list"),
    Options.withDescription("Endpoints to call: any of order,duplicates,reissues (default all)"),
    Options.optional
  ),
  concurrency: Options.text("concurrency").pipe(
    Options.withPseudoName("n"),
    Options.withDescription(`Orders in flight at once (default ${Export.defaultConcurrency})`),
    Options.optional
  ),
  rateLimit: Options.text("rate-limit").pipe(
    Options.withPseudoName("spec"),
    Options.withDescription("Rolling windows as N/DURATION joined by commas (100/5s,1000/3m), or off"),
    Options.optional
  ),
  baseUrl: Options.text("base-url").pipe(
    Options.withPseudoName("url"),
    Options.withDescription("Services API v2 base URL (default DIGICERT_BASE_URL, else the region's)"),
    Options.optional
  ),
  region: Options.text("region").pipe(
    Options.withPseudoName("us|eu"),
    Options.withDescription("DigiCert region when no base URL is given (default us)"),
    Options.optional
  ),
  showArchived: Options.boolean("show-archived").pipe(Options.withDescription("Pass show_archived=true")),
  resume: Options.boolean("resume").pipe(
    Options.withDescription("Continue an interrupted export into the same --output")
  ),
  quiet: Options.boolean("quiet").pipe(Options.withDescription("No progress output"))
}

type Flags = {
  readonly [K in keyof typeof flags]: (typeof flags)[K] extends Options.Options<infer A> ? A : never
}

/**
 * Everything the export needs, checked: the result of reading the flags and the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly orders: string
  readonly output: string
  readonly errors: string | undefined
  readonly format: RowEncoder.Format
  readonly include: ReadonlyArray<Export.Endpoint>
  readonly concurrency: number
  readonly rateLimit: ReadonlyArray<RollingWindowLimiter.Window> | "off"
  readonly baseUrl: string
  readonly showArchived: boolean
  readonly resume: boolean
  readonly quiet: boolean
  readonly apiKey: Redacted.Redacted<string>
}

const parseInclude = (text: string): Either.Either<ReadonlyArray<Export.Endpoint>, string> => {
  const parts = text.split(",").map((part) => part.trim().toLowerCase()).filter((part) => part !== "")
  if (parts.length === 0) return Either.left("--include needs at least one of order,duplicates,reissues")
  for (const part of parts) {
    if (!(Export.allEndpoints as ReadonlyArray<string>).includes(part)) {
      return Either.left(`--include: unknown endpoint ${JSON.stringify(part)} (use order, duplicates, reissues)`)
    }
  }
  return Either.right(Export.normalizeInclude(parts as ReadonlyArray<Export.Endpoint>))
}

const parseBaseUrl = (text: string, from: string): Either.Either<string, string> => {
  try {
    const url = new URL(text)
    if (url.protocol !== "https:" && url.protocol !== "http:") return Either.left(`${from} must be an http(s) URL`)
    if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
      return Either.left(`${from} must not carry credentials, a query or a fragment`)
    }
    return Either.right(text)
  } catch {
    return Either.left(`${from} is not a URL: ${JSON.stringify(text.slice(0, 100))}`)
  }
}

/**
 * Checks the flags and the environment; a problem is a one-line message.
 *
 * @since 0.1.0
 * @category parsing
 */
export const settings = (flags: Flags, env: Io["env"]): Either.Either<Settings, string> => {
  const output = flags.output.trim()
  if (output === "") return Either.left("--output must not be empty")
  const include = Option.match(flags.include, { onNone: () => Either.right(Export.allEndpoints), onSome: parseInclude })
  if (Either.isLeft(include)) return Either.left(include.left)
  let concurrency = Export.defaultConcurrency
  if (Option.isSome(flags.concurrency)) {
    const text = flags.concurrency.value.trim()
    if (!/^-?\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
      return Either.left(`--concurrency must be a positive integer, got ${JSON.stringify(text)}`)
    }
    concurrency = Number(text)
  }
  let rateLimit: Settings["rateLimit"] = RollingWindowLimiter.digicertDefault
  if (Option.isSome(flags.rateLimit)) {
    const parsed = RollingWindowLimiter.parse(flags.rateLimit.value)
    if (Either.isLeft(parsed)) return Either.left(`--rate-limit: ${parsed.left}`)
    rateLimit = parsed.right
  }
  let format = RowEncoder.formatFromPath(output)
  if (Option.isSome(flags.format)) {
    const text = flags.format.value.trim().toLowerCase()
    if (text !== "csv" && text !== "ndjson") {
      return Either.left(`--format must be csv or ndjson, got ${JSON.stringify(flags.format.value)}`)
    }
    format = text
  }
  const region = Option.map(flags.region, (r) => r.trim().toLowerCase())
  if (Option.isSome(region) && region.value !== "us" && region.value !== "eu") {
    return Either.left(`--region must be us or eu, got ${JSON.stringify(region.value)}`)
  }
  const envUrl = env["DIGICERT_BASE_URL"]?.trim()
  const baseUrl = Option.isSome(flags.baseUrl)
    ? parseBaseUrl(flags.baseUrl.value.trim(), "--base-url")
    : Option.isSome(region)
    ? Either.right(CertCentralClient.baseUrls[region.value as CertCentralClient.Region])
    : envUrl !== undefined && envUrl !== ""
    ? parseBaseUrl(envUrl, "DIGICERT_BASE_URL")
    : Either.right(CertCentralClient.baseUrls.us)
  if (Either.isLeft(baseUrl)) return Either.left(baseUrl.left)
  const key = env["DIGICERT_API_KEY"]?.trim()
  if (key === undefined || key === "") {
    return Either.left("DIGICERT_API_KEY is not set: export your CertCentral API key in it (it is never a flag)")
  }
  const orders = flags.orders.trim()
  if (orders === "") return Either.left("--orders must be a path, or - for stdin")
  return Either.right({
    orders,
    output,
    errors: Option.getOrUndefined(flags.errors),
    format,
    include: include.right,
    concurrency,
    rateLimit,
    baseUrl: baseUrl.right,
    showArchived: flags.showArchived,
    resume: flags.resume,
    quiet: flags.quiet,
    apiKey: Redacted.make(key)
  })
}

const checkReadable = (file: string): string | undefined => {
  try {
    const stat = fs.statSync(file)
    if (stat.isDirectory()) return `cannot read orders file ${file}: it is a directory`
    fs.accessSync(file, fs.constants.R_OK)
    return undefined
  } catch (e) {
    return `cannot read orders file ${file}: ${describe(e)}`
  }
}

const oneLine = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/\u001b\[[0-9;]*m/g, "").split("\n").map((line) => line.trim()).filter((line) => line !== "").join(
    " "
  )

/** Runs the export for checked settings and returns the exit code. */
const execute = (s: Settings, io: Io): Effect.Effect<number, Done> =>
  Effect.gen(function*() {
    if (s.orders !== "-") {
      const problem = checkReadable(s.orders)
      if (problem !== undefined) return yield* Effect.fail(usage(problem))
    }
    const input = s.orders === "-" ? OrderIds.fromStdin : OrderIds.fromFile(s.orders)
    const tracker = yield* Progress.make
    const tty = io.stderr.isTTY === true
    const render = s.quiet
      ? Effect.void
      : tracker.changes(tty ? "200 millis" : "5 seconds").pipe(
        Stream.drop(tty ? 0 : 1),
        Stream.runForEach((snap) =>
          Effect.sync(() => {
            if (snap.finished) return
            io.stderr.write(tty ? `\r\u001b[2K${Progress.renderBar(snap)}` : `${Progress.renderLine(snap)}\n`)
          })
        )
      )
    const counter = s.orders === "-"
      ? Effect.void
      : OrderIds.fromFile(s.orders).pipe(
        Stream.runFold(0, (n, entry) => entry._tag === "Id" ? n + 1 : n),
        Effect.flatMap((total) => tracker.setTotal(total)),
        Effect.ignore
      )
    const finish = (outcome: string) =>
      Effect.flatMap(tracker.snapshot, (snap) =>
        Effect.sync(() => {
          if (s.quiet) return
          if (tty) io.stderr.write("\r\u001b[2K")
          io.stderr.write(`${Progress.renderSummary(snap, outcome)}\n`)
        }))

    const layer = CertCentralClient.layer({ apiKey: s.apiKey, baseUrl: s.baseUrl, rateLimit: s.rateLimit }).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    )
    const background = yield* Effect.forkDaemon(Effect.zip(counter, render, { concurrent: true }))
    const result = yield* Export.toFiles(input, {
      output: s.output,
      errors: s.errors,
      format: s.format,
      include: s.include,
      concurrency: s.concurrency,
      showArchived: s.showArchived,
      resume: s.resume,
      progress: tracker
    }).pipe(
      Effect.provide(layer),
      Effect.either,
      Effect.onInterrupt(() =>
        Effect.zipRight(
          Fiber.interrupt(background),
          finish(`Interrupted; run again with --resume to continue`)
        )
      )
    )
    yield* Fiber.interrupt(background)
    if (Either.isLeft(result)) {
      const error = result.left
      switch (error._tag) {
        case "AuthenticationError":
          yield* finish("Aborted")
          return yield* Effect.fail(
            new Done(
              ExitCode.authentication,
              `the API refused the key (HTTP 401${
                error.errors[0] ? ` ${error.errors[0].raw}` : ""
              }); check DIGICERT_API_KEY`
            )
          )
        case "OutputError":
        case "ResumeError":
          return yield* Effect.fail(usage(error.message))
        default:
          return yield* Effect.fail(usage(error.message))
      }
    }
    const summary = result.right
    const failures = summary.failed + summary.badLines
    if (summary.alreadyComplete) {
      if (!s.quiet) {
        io.stderr.write(
          `${s.output} is already complete (${summary.exported} orders, ${summary.rows} rows, ${failures} failed); nothing to resume\n`
        )
      }
    } else {
      yield* finish(failures > 0 ? `Done with failures (see ${summary.errors})` : "Done")
    }
    return failures > 0 ? ExitCode.someFailed : ExitCode.ok
  })

/**
 * The command, with a callback receiving the exit code.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = (io: Io, onExit: (code: number) => void) =>
  Command.make(NAME, flags, (values) =>
    Either.match(settings(values, io.env), {
      onLeft: (message) => Effect.fail(usage(message)),
      onRight: (s) => execute(s, io)
    }).pipe(Effect.map(onExit))).pipe(
      Command.withDescription("Export DigiCert CertCentral orders, duplicates and reissues to CSV or NDJSON")
    )

// @effect/cli prints its validation errors with Console.error as a help page; the CLI prints one line instead.
const quietErrors = (console: Console.Console): Console.Console => ({
  ...console,
  error: () => Effect.void
})

/**
 * Runs the CLI on `argv` (as `process.argv`: runtime and script first) and returns the exit code. Misuse gives one
 * line on stderr and code 2; `--help` prints the help and gives 0.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>,
  io: Io = processIo()
): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  Effect.gen(function*() {
    let code: number = ExitCode.ok
    const app = Command.run(command(io, (c) => void (code = c)), { name: NAME, version: VERSION })
    const console = yield* Console.consoleWith(Effect.succeed)
    const exit = yield* Effect.exit(app(argv).pipe(Console.withConsole(quietErrors(console))))
    if (Exit.isSuccess(exit)) return code
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) {
      const error = failure.value
      if (error instanceof Done) {
        if (error.message !== undefined) io.stderr.write(`${NAME}: ${oneLine(error.message)}\n`)
        return error.code
      }
      if (ValidationError.isValidationError(error)) {
        io.stderr.write(`${NAME}: ${oneLine(HelpDoc.toAnsiText(error.error))}\n`)
        return ExitCode.usage
      }
    }
    if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.interrupt
    const squashed = Cause.squash(exit.cause)
    io.stderr.write(
      `${NAME}: unexpected error: ${oneLine(squashed instanceof Error ? squashed.message : String(squashed))}\n`
    )
    return ExitCode.usage
  })
