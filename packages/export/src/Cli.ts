/**
 * The `certcentral-export` command line as a program: the flags (parsed in `internal/cli/flags.ts`), the key and base
 * URL from `Config`, progress and messages through the CLI's stderr service, HTTP through the `HttpClient` in its
 * context, around {@link Export.toFiles}. A run ends in success (exit 0) or an {@link ExitError} carrying its exit
 * code, which the executable (`bin.ts`) hands to the process.
 *
 * Exit codes: `0` every order exported; `1` finished, but some orders or input lines failed (all in the errors file);
 * `2` usage or setup error (one line on stderr); `3` the API refused the key (401); `4` the API stayed unavailable
 * longer than `--max-outage` (files synced, checkpoint written: run again with `--resume`); `130` interrupted (SIGINT
 * or SIGTERM; run again with `--resume`).
 *
 * @since 0.1.0
 */
import { BaseUrl, CertCentralClient, CertCentralError, RollingWindowLimiter } from "@certcentral/core"
import type * as SharedLimits from "@certcentral/core/RollingWindowLimiter/Redis"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as FileSystemTag from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Export from "./Export.js"
import { dryRun } from "./internal/cli/dryRun.js"
import * as exit from "./internal/cli/exit.js"
import { outputRefused, resumeRefused, usage } from "./internal/cli/exit.js"
import { type Flags, flags, plainText } from "./internal/cli/flags.js"
import * as Help from "./internal/cli/help.js"
import { describeListing, listedIds, sourceOf } from "./internal/cli/listing.js"
import * as RefreshCli from "./internal/cli/refresh.js"
import { CliOutput, CliStdin } from "./internal/cli/terminal.js"
import * as Terminal from "./internal/cli/terminal.js"
import { version } from "./internal/cli/version.js"
import { describe } from "./internal/errno.js"
import * as OrderIds from "./OrderIds.js"
import * as Outcomes from "./Outcomes.js"
import * as OutputLock from "./OutputLock.js"
import * as Progress from "./Progress.js"
import * as ProgressLine from "./ProgressLine.js"
import * as Refresh from "./Refresh.js"
import * as RowEncoder from "./RowEncoder.js"

/**
 * The exit codes: `ok` 0, `someFailed` 1, `usage` 2, `authentication` 3, `unavailable` 4, `interrupted` 130.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode: typeof exit.ExitCode = exit.ExitCode

/**
 * How a run that is not a plain success ends: the process's exit code, after the one-line message (when there is
 * one) was written to stderr.
 *
 * @since 0.2.0
 * @category errors
 */
export const ExitError: typeof exit.ExitError = exit.ExitError

/**
 * The type of {@link ExitError}.
 *
 * @since 0.2.0
 * @category errors
 */
export type ExitError = exit.ExitError

const NAME = "certcentral-export"

/**
 * What the CLI runs with besides files: its stderr and stdin (the executable provides the process's, a test captured
 * ones) and the `HttpClient` every request goes through.
 *
 * @since 0.3.0
 * @category models
 */
export type Services = CliOutput | CliStdin | HttpClient.HttpClient

/**
 * The process's stderr (its width and resizes when a terminal) and stdin, as the CLI's services; `bin.ts` adds the
 * file system and the `HttpClient`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerTerminal: Layer.Layer<CliOutput | CliStdin> = Terminal.layerProcess

/** What the environment gives: the key (never a flag: flags end up in shell history) and a default base URL. */
interface Environment {
  readonly apiKey: Redacted.Redacted<string>
  readonly baseUrl: Option.Option<string>
}

const noKey = "DIGICERT_API_KEY is not set: export your CertCentral API key in it (it is never a flag)"

/** Reads {@link Environment} from the current `ConfigProvider`; a problem is a usage error. */
const environment: Effect.Effect<Environment, ExitError> = Effect.gen(function*() {
  const apiKey = yield* Config.redacted("DIGICERT_API_KEY").pipe(
    Config.map((key) => Redacted.make(Redacted.value(key).trim())),
    Config.validate({ message: noKey, validation: (key) => Redacted.value(key) !== "" }),
    Effect.mapError(() => usage(noKey))
  )
  const text = yield* Config.option(Config.string("DIGICERT_BASE_URL")).pipe(
    Effect.map(Option.filter((url) => url.trim() !== "")),
    Effect.orElseSucceed(() => Option.none<string>())
  )
  if (Option.isNone(text)) return { apiKey, baseUrl: Option.none() }
  const baseUrl = BaseUrl.validate(text.value, "DIGICERT_BASE_URL")
  return Either.isLeft(baseUrl)
    ? yield* usage(baseUrl.left)
    : { apiKey, baseUrl: Option.some(baseUrl.right) }
})

/**
 * The client for the parsed flags and environment: base URL (flag, region, environment, US), rate limits, the
 * outage tolerance (`--max-outage` as `retry.maxOutage`), key; built here alone, so that a flag that shapes the
 * client is one more field. Its `HttpClient` is the program's.
 */
const clientLayer = (
  flags: Flags,
  env: Environment
): Layer.Layer<CertCentralClient.CertCentralClient, ExitError, HttpClient.HttpClient | CliOutput> => {
  const client = CertCentralClient.layer({
    apiKey: env.apiKey,
    baseUrl: Option.getOrElse(
      Option.orElse(
        flags.baseUrl,
        () => Option.orElse(Option.map(flags.region, (r) => BaseUrl.regions[r]), () => env.baseUrl)
      ),
      () => BaseUrl.regions.us
    ),
    // with --share-limits the windows come from the shared limiter in the context
    rateLimit: Option.isSome(flags.shareLimits) ? undefined : flags.rateLimit,
    retry: { maxOutage: flags.maxOutage }
  }).pipe(
    // the flags were checked already; an option the client still refuses is a usage error all the same
    Layer.mapError((error) => usage(error.message))
  )
  if (Option.isNone(flags.shareLimits)) return client
  if (flags.rateLimit === "off") {
    return Layer.fail(usage("--share-limits shares rate limits: not with --rate-limit off"))
  }
  const url = flags.shareLimits.value
  const windows = flags.rateLimit
  const shared = Layer.unwrapEffect(Effect.map(sharedLimits, (SharedLimits) =>
    watchRedis(
      SharedLimits,
      SharedLimits.layerShared({
        url,
        apiKey: env.apiKey,
        windows,
        // Redis lost mid-export is waited out as long as the API would be
        maxOutage: flags.maxOutage
      }).pipe(Layer.mapError((error) => usage(error.message))),
      flags
    )))
  return client.pipe(Layer.provide(shared))
}

// Loaded when a run first needs it, not with the CLI: `--help`, a usage error or a run without `--share-limits`
// never evaluates ioredis's module (about 30 ms of start-up).
const sharedLimits = Effect.promise(() => import("@certcentral/core/RollingWindowLimiter/Redis"))

/** Redis lost and found again, on stderr: the limiter waits meanwhile, and the export with it. */
const watchRedis = <E>(
  SharedLimits: typeof import("@certcentral/core/RollingWindowLimiter/Redis"),
  shared: Layer.Layer<SharedLimits.RedisLimiter | RollingWindowLimiter.RollingWindowLimiter, E>,
  flags: Flags
) =>
  Layer.provideMerge(
    Layer.scopedDiscard(Effect.gen(function*() {
      const limiter = yield* SharedLimits.RedisLimiter
      const output = yield* CliOutput
      yield* limiter.statusChanges.pipe(
        Stream.changesWith((a, b) => a._tag === b._tag),
        Stream.drop(1),
        Stream.runForEach((status) =>
          flags.quiet ? Effect.void : output.write(
            status._tag === "Lost"
              ? `\nRedis unreachable (${status.detail}): shared rate limits wait for it and retry\n`
              : "\nRedis reachable again: the export goes on\n"
          )
        ),
        Effect.forkScoped
      )
    })),
    shared
  )

/** The ids to export: a file (checked to be readable first, so that a typo is a usage error) or stdin. */
const orderIds = (
  orders: string
): Effect.Effect<
  Stream.Stream<OrderIds.Entry, OrderIds.ReadError, FileSystem.FileSystem>,
  ExitError,
  FileSystem.FileSystem | CliStdin
> =>
  orders === "-"
    ? CliStdin
    : Effect.gen(function*() {
      const fs = yield* FileSystemTag.FileSystem
      const problem = (e: unknown) => usage(`cannot read orders file ${orders}: ${describe(e)}`)
      const info = yield* fs.stat(orders).pipe(Effect.mapError(problem))
      if (info.type === "Directory") return yield* usage(`cannot read orders file ${orders}: it is a directory`)
      yield* fs.access(orders, { readable: true }).pipe(Effect.mapError(problem))
      return OrderIds.fromFile(orders)
    })

/** A message on one line: its lines trimmed and joined. */
const oneLine = (text: string): string =>
  text.split("\n").map((line) => line.trim()).filter((line) => line !== "").join(" ")

const clearLine = "\r\u001b[2K"

/** Progress on stderr: a bar on a TTY, a line every few seconds otherwise; nothing when quiet. */
const render = (flags: Flags): Effect.Effect<void, never, Progress.Progress | CliOutput> => {
  if (flags.quiet) return Effect.void
  return Effect.gen(function*() {
    const output = yield* CliOutput
    const progress = yield* Progress.Progress
    const tty = output.isTTY
    // the line last drawn, so that a redraw after a narrowing resize also clears the rows it wrapped onto
    let previous = ""
    yield* progress.changes(tty ? "200 millis" : "5 seconds").pipe(
      Stream.drop(tty ? 0 : 1),
      Stream.runForEach((snap) => {
        if (snap.finished) return Effect.void
        if (!tty) return output.write(`${Progress.renderLine(snap)}\n`)
        return Effect.flatMap(output.columns, (width) => {
          const columns = Option.getOrElse(width, () => 80)
          const line = ProgressLine.render(snap, columns)
          const text = ProgressLine.redraw(previous, line, columns)
          previous = line
          return output.write(text)
        })
      })
    )
  })
}

/** The client's warnings (circuit transitions) on stderr, one line each, above the bar; none when quiet. */
const warnings = (flags: Flags): Layer.Layer<never, never, CliOutput> =>
  Layer.unwrapEffect(Effect.map(CliOutput, (output) =>
    Logger.replace(
      Logger.defaultLogger,
      flags.quiet ? Logger.none : Logger.make(({ logLevel, message }) => {
        if (!LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) return
        const text = (Array.isArray(message) ? message : [message]).map((part) =>
          typeof part === "string" ? part : String(part)
        ).join(" ")
        // a logger is synchronous; the output's writes are synchronous effects
        Effect.runSync(output.write(`${output.isTTY ? clearLine : ""}${NAME}: warning: ${oneLine(text)}\n`))
      })
    )))

const thousands = (n: number) => n.toLocaleString("en-US")

/** The one line of exit code 4: how long, what failed last, how far it got, what to do. */
const unavailableMessage = (error: Outcomes.ApiUnavailableError, snap: Progress.Snapshot): string =>
  // Redis lost past --max-outage (the shared limits' store) stops the export as an outage of the API does
  error.error._tag === "StoreUnavailableError"
    ? `${error.error.message}; the checkpoint is written: run the same command with --resume`
    : `the DigiCert API has been unavailable for ${Progress.formatDuration(error.unavailableMillis)} (last: ${
      CertCentralError.describe(error.error)
    }); ${thousands(snap.ordersDone)}${
      snap.total === undefined ? "" : ` of ${thousands(snap.total)}`
    } orders done; run the same command with --resume to continue`

/** Runs the export for parsed flags and returns when every order was exported; any other ending is an ExitError. */
const execute = (
  flags: Flags
): Effect.Effect<void, ExitError, FileSystem.FileSystem | Services> =>
  Effect.gen(function*() {
    if (flags.refresh) {
      const refused = RefreshCli.refusal(flags)
      if (refused !== undefined) return yield* usage(refused)
    } else if (Option.isSome(flags.maxAge)) {
      return yield* usage("--max-age goes with --refresh only")
    }
    const source = yield* sourceOf(flags)
    // --dry-run: the plan and no per-order request; a listing still needs the key and the client
    if (flags.dryRun) {
      return yield* dryRun(flags, source, {
        ids: orderIds,
        client: Effect.map(environment, (e) => clientLayer(flags, e))
      })
    }
    const env = yield* environment
    if (flags.refresh && source._tag === "Listing") {
      return yield* RefreshCli.run(flags, source).pipe(
        Effect.provide(clientLayer(flags, env)),
        Effect.provide(warnings(flags))
      )
    }
    const tracker = yield* Progress.Progress
    const output = yield* CliOutput
    const finish = (outcome: string, folded = 0) =>
      flags.quiet ? Effect.void : Effect.flatMap(tracker.snapshot, (snap) => {
        const echoes = folded === 0
          ? ""
          : ` Folded ${folded} duplicates or reissues entries that repeated a certificate.`
        return output.write(`${output.isTTY ? clearLine : ""}${Progress.renderSummary(snap, outcome)}${echoes}\n`)
      })
    // a file's ids are counted beside the export, for the total and the ETA; stdin cannot be read twice
    const counter = (orders: string) =>
      orders === "-" ? Effect.void : OrderIds.fromFile(orders).pipe(
        Stream.runFold(0, (n, entry) => entry._tag === "Id" ? n + 1 : n),
        Effect.flatMap((total) => tracker.setTotal(total)),
        Effect.ignore
      )
    // a listing and the export that follows it share one client: one limiter, one pause, one circuit
    const run = Effect.gen(function*() {
      // held from before the listing writes <output>.orders.txt; the export inside takes the same lock again for free
      yield* OutputLock.acquire(flags.output)
      const ids = source._tag === "File"
        ? { path: source.path, resume: flags.resume }
        : yield* listedIds(source, flags)
      const input = yield* orderIds(ids.path)
      if (source._tag === "File" || ids.resume) yield* Effect.forkScoped(counter(ids.path))
      const summary = yield* Export.toFiles(input, {
        output: flags.output,
        errors: Option.getOrUndefined(flags.errors),
        format: Option.getOrElse(flags.format, () => RowEncoder.formatFromPath(flags.output)),
        include: flags.include,
        concurrency: flags.concurrency,
        showArchived: flags.showArchived,
        resume: ids.resume,
        // a listing's flags go into the checkpoint: a resume with other ones would continue another list
        source: source._tag === "Listing" ? describeListing(source) : undefined
      })
      // complete: what a later --refresh needs (a record that cannot be written only costs that refresh a full run)
      if ("listed" in ids && ids.listed !== undefined) {
        yield* Refresh.writeRecord(flags.output, ids.listed).pipe(
          Effect.catchTag("RefreshError", () => Effect.void)
        )
      }
      return summary
    }).pipe(Effect.provide(clientLayer(flags, env)))
    // the counter and the renderer live as long as the export, and no longer
    const withProgress = Effect.forkScoped(render(flags)).pipe(
      Effect.zipRight(run),
      Effect.scoped,
      Effect.provide(warnings(flags))
    )
    const summary = yield* withProgress.pipe(
      Effect.onInterrupt(() => finish("Interrupted; run again with --resume to continue")),
      Effect.catchTags({
        AuthenticationError: (error) =>
          Effect.zipRight(
            finish("Aborted"),
            Effect.fail(
              new ExitError({
                code: ExitCode.authentication,
                message: `the API refused the key (HTTP 401${
                  error.errors[0] ? ` ${error.errors[0].raw}` : ""
                }); check DIGICERT_API_KEY`
              })
            )
          ),
        // files synced and checkpoint written by the export's scope; the orders from the stop on wait for --resume
        ApiUnavailableError: (error) =>
          Effect.zipRight(
            finish("Stopped: the API is unavailable"),
            Effect.flatMap(
              tracker.snapshot,
              (snap) =>
                Effect.fail(new ExitError({ code: ExitCode.unavailable, message: unavailableMessage(error, snap) }))
            )
          ),
        OutputError: (error) => Effect.fail(outputRefused(error)),
        ResumeError: (error) => Effect.fail(resumeRefused(error)),
        OutputLockedError: (error) => Effect.fail(usage(`${error.message}; wait for it or pick another --output`)),
        ReadError: (error) => Effect.fail(usage(error.message))
      })
    )
    const failures = summary.failed + summary.badLines
    if (summary.alreadyComplete) {
      if (!flags.quiet) {
        yield* output.line(
          `${flags.output} is already complete (${summary.exported} orders, ${summary.rows} rows, ${failures} failed); nothing to resume`
        )
      }
    } else {
      yield* finish(failures > 0 ? `Done with failures (see ${summary.errors})` : "Done", summary.folded)
    }
    if (failures > 0) return yield* new ExitError({ code: ExitCode.someFailed })
  }).pipe(Effect.provide(Progress.layerWith({
    // the ETA places the requests left into the same windows the client keeps to
    windows: flags.rateLimit === "off" ? [] : flags.rateLimit,
    // a listing's has_duplicates hints spare requests the flags cannot foresee: there the ETA measures the figure
    ...(Option.isSome(flags.ordersFrom) ? {} : { requestsPerOrder: new Set(flags.include).size })
  })))

const command = Command.make(NAME, flags, execute).pipe(
  Command.withDescription("Export DigiCert CertCentral orders, duplicates and reissues to CSV or NDJSON")
)

// @effect/cli prints its validation errors with Console.error as a help page; the CLI prints one line instead.
const quietErrors = (console: Console.Console): Console.Console => ({ ...console, error: () => Effect.void })

/**
 * Runs the CLI on `argv` (as `process.argv`: runtime and script first) with the current `ConfigProvider` as its
 * environment (`DIGICERT_API_KEY`, `DIGICERT_BASE_URL`, `CERTCENTRAL_SHARE_LIMITS`). Misuse writes one line on
 * stderr and fails with exit code 2; `--help` and `--version` print on stdout (the `Console`) and succeed.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>
): Effect.Effect<void, ExitError, CliApp.CliApp.Environment | Services> => {
  if (Help.isHelpRequested(argv.slice(2))) return Console.log(Help.page(command, NAME, version))
  const app = Command.run(command, { name: NAME, version })
  return Console.consoleWith((console) =>
    app(argv).pipe(
      Console.withConsole(quietErrors(console)),
      Effect.catchAllCause((cause): Effect.Effect<void, ExitError, CliOutput> => {
        if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
        const failure = Cause.failureOption(cause)
        const error: ExitError = Option.isSome(failure) && failure.value instanceof ExitError
          ? failure.value
          : Option.isSome(failure) && ValidationError.isValidationError(failure.value)
          ? usage(plainText(failure.value.error))
          : usage(`unexpected error: ${messageOf(Cause.squash(cause))}`)
        return error.message === undefined || error.message === ""
          ? Effect.fail(error)
          : Effect.zipRight(
            Effect.flatMap(CliOutput, (output) => output.line(`${NAME}: ${oneLine(error.message!)}`)),
            Effect.fail(error)
          )
      })
    )
  )
}

const messageOf = (u: unknown) => u instanceof Error ? u.message : String(u)
