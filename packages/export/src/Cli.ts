/**
 * The `certcentral-export` command line: typed flags, the key from the environment, progress on stderr, around
 * {@link Export.toFiles}. A run ends in success (exit 0) or an {@link ExitError} carrying its exit code, which the
 * executable (`bin.ts`) hands to the process.
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
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Export from "./Export.js"
import type { OutputError } from "./ExportError.js"
import { describe } from "./internal/errno.js"
import * as OrderIds from "./OrderIds.js"
import * as OrderListing from "./OrderListing.js"
import * as Outcomes from "./Outcomes.js"
import * as Progress from "./Progress.js"
import * as ProgressLine from "./ProgressLine.js"
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
  unavailable: 4,
  interrupted: 130
} as const

/**
 * How a run that is not a plain success ends: the process's exit code, after the one-line message (when there is
 * one) was written to stderr.
 *
 * @since 0.2.0
 * @category errors
 */
export class ExitError extends Schema.TaggedError<ExitError>()("ExitError", {
  code: Schema.Int,
  message: Schema.optional(Schema.String)
}) {}

/**
 * Where the CLI writes its progress and messages, and what it reads from the environment. The defaults are the
 * process's stderr and environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Io {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stderr: {
    readonly write: (text: string) => unknown
    readonly isTTY?: boolean | undefined
    /** The terminal's width, read at every redraw (so a resize is followed); 80 when unknown. */
    readonly columns?: number | undefined
  }
}

const processIo = (): Io => ({ env: process.env, stderr: process.stderr })

const NAME = "certcentral-export"
const VERSION = "0.1.0"

const usage = (message: string) => new ExitError({ code: ExitCode.usage, message })

/** A flag whose text is parsed once, here, into its type; a problem is a one-line message naming the flag. */
const parsed = <A>(name: string, parse: (text: string) => Either.Either<A, string>): Options.Options<A> =>
  Options.text(name).pipe(
    Options.mapEffect((text) =>
      Either.match(parse(text), {
        onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
        onRight: Effect.succeed
      })
    )
  )

const nonEmpty = (flag: string, what: string) => (text: string): Either.Either<string, string> =>
  text.trim() === "" ? Either.left(`${flag} must ${what}`) : Either.right(text.trim())

const parseInclude = (text: string): Either.Either<ReadonlyArray<Outcomes.Endpoint>, string> => {
  const parts = text.split(",").map((part) => part.trim().toLowerCase()).filter((part) => part !== "")
  if (parts.length === 0) return Either.left("--include needs at least one of order,duplicates,reissues")
  const unknown = parts.find((part) => !Schema.is(Outcomes.Endpoint)(part))
  return unknown !== undefined
    ? Either.left(`--include: unknown endpoint ${JSON.stringify(unknown)} (use order, duplicates, reissues)`)
    : Either.right(Outcomes.normalizeInclude(parts as ReadonlyArray<Outcomes.Endpoint>))
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses a duration as the CLI takes it: a whole number and a unit (`500ms`, `30s`, `5m`, `1h`), or `0`.
 *
 * @since 0.2.0
 * @category parsing
 */
export const parseDuration = (text: string, flag: string): Either.Either<Duration.Duration, string> => {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === "0") return Either.right(Duration.zero)
  const m = /^(\d{1,9})(ms|s|m|h)$/.exec(trimmed)
  return m === null
    ? Either.left(`${flag} must be a duration such as 30s, 5m, 1h, 500ms or 0, got ${JSON.stringify(text.trim())}`)
    : Either.right(Duration.millis(Number(m[1]) * DURATION_UNITS[m[2]!]!))
}

const parseRateLimit = (text: string) =>
  Either.mapLeft(RollingWindowLimiter.parse(text), (message) => `--rate-limit: ${message}`)

// The Redis URL is checked here, before anything connects; a password in it is never echoed.
const parseShareLimits = (text: string): Either.Either<string, string> => {
  const trimmed = text.trim()
  const url = URL.canParse(trimmed) ? new URL(trimmed) : undefined
  if (url === undefined || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    return Either.left("--share-limits must be redis://host:port[/db] or rediss://host:port[/db]")
  }
  if (url.pathname !== "" && url.pathname !== "/" && !/^\/(0|[1-9][0-9]{0,3})$/.test(url.pathname)) {
    return Either.left("--share-limits: the path must be a database number, as in redis://host:6379/0")
  }
  return Either.right(trimmed)
}

/**
 * The flags, each parsed into its type where it is declared (the one place to add a flag).
 *
 * @since 0.2.0
 * @category options
 */
export const flags = {
  orders: parsed("orders", nonEmpty("--orders", "be a path, or - for stdin")).pipe(
    Options.withPseudoName("path"),
    Options.withDescription(
      "Order ids, one per line, or a CSV whose order_id column (any case) holds them; - reads stdin"
    ),
    Options.optional
  ),
  ordersFrom: Options.choice("orders-from", OrderListing.sources).pipe(
    Options.withDescription(
      "Instead of --orders: list every order (list orders, or list subaccount orders) into <output>.orders.txt, " +
        "then export them; --resume reuses that file"
    ),
    Options.optional
  ),
  filter: Options.text("filter").pipe(
    Options.withPseudoName("key=value"),
    Options.withDescription(
      "With --orders-from, repeatable: sent as filters[key]=value (status=issued, valid_till=>2026-01-01)"
    ),
    Options.repeated,
    Options.mapEffect((args) =>
      Either.match(OrderListing.parseFilters(args), {
        onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
        onRight: Effect.succeed
      })
    )
  ),
  output: parsed("output", nonEmpty("--output", "not be empty")).pipe(
    Options.withPseudoName("path"),
    Options.withDescription("The file to write (CSV or NDJSON); its checkpoint is <output>.checkpoint.json")
  ),
  format: Options.choice("format", RowEncoder.Format.literals).pipe(
    Options.withDescription("Output format (default from the output's extension: .csv, .ndjson, .jsonl; else csv)"),
    Options.optional
  ),
  errors: Options.text("errors").pipe(
    Options.withPseudoName("path"),
    Options.withDescription("Failed orders and bad input lines, NDJSON (default <output>.errors.ndjson)"),
    Options.optional
  ),
  include: parsed("include", parseInclude).pipe(
    Options.withPseudoName("list"),
    Options.withDescription("Endpoints to call, comma-separated: any of order,duplicates,reissues (default all)"),
    Options.withDefault(Outcomes.allEndpoints)
  ),
  concurrency: Options.integer("concurrency").pipe(
    Options.mapEffect((n) =>
      n >= 1
        ? Effect.succeed(n)
        : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--concurrency must be a positive integer, got ${n}`)))
    ),
    Options.withPseudoName("n"),
    Options.withDescription(`Orders in flight at once (default ${Outcomes.defaultConcurrency})`),
    Options.withDefault(Outcomes.defaultConcurrency)
  ),
  rateLimit: parsed("rate-limit", parseRateLimit).pipe(
    Options.withPseudoName("spec"),
    Options.withDescription("Rolling windows as N/DURATION joined by commas (100/5s,1000/3m; ms s m h), or off"),
    Options.withDefault<ReadonlyArray<RollingWindowLimiter.Window> | "off">(RollingWindowLimiter.digicertDefault)
  ),
  baseUrl: parsed("base-url", (text) => BaseUrl.validate(text, "--base-url")).pipe(
    Options.withPseudoName("url"),
    Options.withDescription("Services API v2 base URL (default DIGICERT_BASE_URL, else the region's)"),
    Options.optional
  ),
  region: Options.choice("region", BaseUrl.Region.literals).pipe(
    Options.withDescription("DigiCert region when no base URL is given (default us)"),
    Options.optional
  ),
  showArchived: Options.boolean("show-archived").pipe(
    Options.withDescription("Pass show_archived=true to the duplicates and reissues endpoints")
  ),
  resume: Options.boolean("resume").pipe(
    Options.withDescription("Continue an interrupted export into the same --output, to byte-identical files")
  ),
  quiet: Options.boolean("quiet").pipe(Options.withDescription("No progress output on stderr")),
  maxOutage: parsed("max-outage", (text) => parseDuration(text, "--max-outage")).pipe(
    Options.withPseudoName("duration"),
    Options.withDescription(
      "How long the API may stay unavailable (5xx, resets, timeouts) before the export stops with exit 4, to be " +
        "resumed with --resume (500ms s m h, or 0 to stop at once; default 10m)"
    ),
    Options.withDefault(Duration.minutes(10))
  ),
  shareLimits: Options.text("share-limits").pipe(
    Options.withFallbackConfig(Config.string("CERTCENTRAL_SHARE_LIMITS")),
    Options.mapEffect((text) =>
      Either.match(parseShareLimits(text), {
        onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
        onRight: Effect.succeed
      })
    ),
    Options.withPseudoName("redis-url"),
    Options.withDescription(
      "Share this key's rate limits, 429 pause and circuit with every process on the same Redis " +
        "(redis://host:port[/db]; default CERTCENTRAL_SHARE_LIMITS, else this process alone)"
    ),
    Options.optional
  )
}

/**
 * The parsed flags.
 *
 * @since 0.2.0
 * @category models
 */
export type Flags = {
  readonly [K in keyof typeof flags]: (typeof flags)[K] extends Options.Options<infer A> ? A : never
}

/**
 * What the environment gives: the key (never a flag: flags end up in shell history) and a default base URL.
 *
 * @since 0.2.0
 * @category models
 */
export interface Environment {
  readonly apiKey: Redacted.Redacted<string>
  readonly baseUrl: Option.Option<string>
}

const noKey = "DIGICERT_API_KEY is not set: export your CertCentral API key in it (it is never a flag)"

/**
 * Reads {@link Environment} from the current `ConfigProvider`; a problem is an {@link ExitError} with code 2.
 *
 * @since 0.2.0
 * @category config
 */
export const environment: Effect.Effect<Environment, ExitError> = Effect.gen(function*() {
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
 * outage tolerance (`--max-outage` as `retry.maxOutage`), key; built
 * here alone, so that a flag that shapes the client is one more field.
 *
 * @since 0.2.0
 * @category layers
 */
export const clientLayer = (
  flags: Flags,
  env: Environment,
  io?: Io
): Layer.Layer<CertCentralClient.CertCentralClient, ExitError> => {
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
  if (Option.isNone(flags.shareLimits)) return client.pipe(Layer.provide(httpClient))
  if (flags.rateLimit === "off") {
    return Layer.fail(usage("--share-limits shares rate limits: not with --rate-limit off"))
  }
  const url = flags.shareLimits.value
  const windows = flags.rateLimit
  const shared = Layer.unwrapEffect(Effect.map(sharedLimits, (SharedLimits) => {
    const layer = SharedLimits.layerShared({
      url,
      apiKey: env.apiKey,
      windows,
      // Redis lost mid-export is waited out as long as the API would be
      maxOutage: flags.maxOutage
    }).pipe(Layer.mapError((error) => usage(error.message)))
    return io === undefined ? layer : watchRedis(SharedLimits, layer, flags, io)
  }))
  return client.pipe(Layer.provide(Layer.merge(httpClient, shared)))
}

// Loaded when a run first needs them, not with the CLI: `--help`, a usage error or a run without `--share-limits`
// never evaluates undici's module (about 60 ms of start-up) or ioredis's (about 30 ms).
const httpClient = Layer.unwrapEffect(
  Effect.promise(() => import("@effect/platform-node/NodeHttpClient")).pipe(Effect.map((m) => m.layerUndici))
)
const sharedLimits = Effect.promise(() => import("@certcentral/core/RollingWindowLimiter/Redis"))

/** The shared limiter's defect when Redis stays away past `--max-outage` (its module is loaded lazily, see above). */
const isRedisOutage = (defect: unknown): defect is SharedLimits.RedisOutageError =>
  Predicate.isTagged(defect, "RedisOutageError")

/** Redis lost and found again, on stderr: the limiter waits meanwhile, and the export with it. */
const watchRedis = <E>(
  SharedLimits: typeof import("@certcentral/core/RollingWindowLimiter/Redis"),
  shared: Layer.Layer<SharedLimits.RedisLimiter | RollingWindowLimiter.RollingWindowLimiter, E>,
  flags: Flags,
  io: Io
) =>
  Layer.provideMerge(
    Layer.scopedDiscard(Effect.flatMap(SharedLimits.RedisLimiter, (limiter) =>
      limiter.statusChanges.pipe(
        Stream.changesWith((a, b) => a._tag === b._tag),
        Stream.drop(1),
        Stream.runForEach((status) =>
          Effect.sync(() => {
            if (flags.quiet) return
            io.stderr.write(
              status._tag === "Lost"
                ? `\nRedis unreachable (${status.detail}): shared rate limits wait for it and retry\n`
                : "\nRedis reachable again: the export goes on\n"
            )
          })
        ),
        Effect.forkScoped
      ))),
    shared
  )

/**
 * The ids to export: a file (checked to be readable first, so that a typo is a usage error) or stdin.
 *
 * @since 0.2.0
 * @category constructors
 */
export const orderIds = (
  orders: string
): Effect.Effect<
  Stream.Stream<OrderIds.Entry, OrderIds.ReadError, FileSystem.FileSystem>,
  ExitError,
  FileSystem.FileSystem
> =>
  orders === "-"
    ? Effect.succeed(OrderIds.fromStdin)
    : Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const problem = (e: unknown) => usage(`cannot read orders file ${orders}: ${describe(e)}`)
      const info = yield* fs.stat(orders).pipe(Effect.mapError(problem))
      if (info.type === "Directory") return yield* usage(`cannot read orders file ${orders}: it is a directory`)
      yield* fs.access(orders, { readable: true }).pipe(Effect.mapError(problem))
      return OrderIds.fromFile(orders)
    })

const oneLine = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/\u001b\[[0-9;]*m/g, "").split("\n").map((line) => line.trim()).filter((line) => line !== "").join(
    " "
  )

/** Progress on stderr: a bar on a TTY, a line every few seconds otherwise; nothing when quiet. */
const render = (flags: Flags, io: Io): Effect.Effect<void, never, Progress.Progress> => {
  if (flags.quiet) return Effect.void
  const tty = io.stderr.isTTY === true
  let previous = ""
  return Stream.unwrap(Effect.map(Progress.Progress, (progress) => progress.changes(tty ? "200 millis" : "5 seconds")))
    .pipe(
      Stream.drop(tty ? 0 : 1),
      Stream.runForEach((snap) =>
        Effect.sync(() => {
          if (snap.finished) return
          if (!tty) return void io.stderr.write(`${Progress.renderLine(snap)}\n`)
          const columns = io.stderr.columns ?? 80
          const line = ProgressLine.render(snap, columns)
          io.stderr.write(ProgressLine.redraw(previous, line, columns))
          previous = line
        })
      )
    )
}

/** The client's warnings (circuit transitions) on stderr, one line each, above the bar; none when quiet. */
const warnings = (flags: Flags, io: Io): Layer.Layer<never> =>
  Logger.replace(
    Logger.defaultLogger,
    flags.quiet ? Logger.none : Logger.make(({ logLevel, message }) => {
      if (!LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) return
      const text = (Array.isArray(message) ? message : [message]).map((part) =>
        typeof part === "string" ? part : String(part)
      ).join(" ")
      io.stderr.write(`${io.stderr.isTTY === true ? "\r\u001b[2K" : ""}${NAME}: warning: ${oneLine(text)}\n`)
    })
  )

const thousands = (n: number) => n.toLocaleString("en-US")

/** The one line of exit code 4: how long, what failed last, how far it got, what to do. */
const unavailableMessage = (error: Outcomes.ApiUnavailableError, snap: Progress.Snapshot): string =>
  `the DigiCert API has been unavailable for ${Progress.formatDuration(error.unavailableMillis)} (last: ${
    Outcomes.describeFailure(error.error)
  }); ${thousands(snap.ordersDone)}${
    snap.total === undefined ? "" : ` of ${thousands(snap.total)}`
  } orders done; run the same command with --resume to continue`

/**
 * Where the order ids come from: a file (or stdin), or a listing.
 *
 * @since 0.2.0
 * @category models
 */
export type Source =
  | { readonly _tag: "File"; readonly path: string }
  | {
    readonly _tag: "Listing"
    readonly from: OrderListing.Source
    readonly filters: Readonly<Record<string, string>>
  }

/**
 * The source of the ids the flags name: exactly one of `--orders` and `--orders-from`, and `--filter` only with the
 * latter; anything else is an {@link ExitError} with code 2.
 *
 * @since 0.2.0
 * @category constructors
 */
export const sourceOf = (flags: Pick<Flags, "orders" | "ordersFrom" | "filter">): Effect.Effect<Source, ExitError> => {
  const filtered = Object.keys(flags.filter).length > 0
  if (Option.isSome(flags.orders) && Option.isSome(flags.ordersFrom)) {
    return Effect.fail(usage("give either --orders or --orders-from, not both"))
  }
  if (Option.isSome(flags.orders)) {
    return filtered
      ? Effect.fail(usage("--filter works with --orders-from only (an ids file is exported as it is)"))
      : Effect.succeed({ _tag: "File", path: flags.orders.value })
  }
  if (Option.isSome(flags.ordersFrom)) {
    return Effect.succeed({ _tag: "Listing", from: flags.ordersFrom.value, filters: flags.filter })
  }
  return Effect.fail(
    usage("say where the order ids come from: --orders <path> (- for stdin) or --orders-from account|subaccounts")
  )
}

/** A listing as its flags say it, filters sorted: `--orders-from subaccounts --filter status=issued`. */
const describeListing = (source: Extract<Source, { _tag: "Listing" }>): string =>
  [
    `--orders-from ${source.from}`,
    ...Object.keys(source.filters).sort().map((key) => `--filter ${key}=${source.filters[key]}`)
  ].join(" ")

/** A listing's failure, other than a refused key (exit 3, as for the export), as a one-line usage error. */
const listingFailure = (
  source: Extract<Source, { _tag: "Listing" }>,
  error: CertCentralError.CertCentralError | OutputError
): Effect.Effect<never, ExitError | CertCentralError.AuthenticationError> => {
  switch (error._tag) {
    case "AuthenticationError":
      return Effect.fail(error)
    case "BadRequestError": {
      const given = Object.entries(source.filters).map(([k, v]) => `${k}=${v}`).join(", ")
      const said = error.errors.length > 0
        ? error.errors.map((e) => `${e.raw}: ${e.message}`).join("; ")
        : `HTTP ${error.status}`
      return Effect.fail(usage(
        given === ""
          ? `CertCentral refused to list the orders (${said.slice(0, 300)})`
          : `CertCentral refused --filter ${given.slice(0, 200)} (${said.slice(0, 300)}); nothing was exported`
      ))
    }
    case "OutputError":
    case "InvalidListOptionsError":
      return Effect.fail(usage(error.message))
    default:
      return Effect.fail(usage(
        `cannot list the orders: ${error._tag}${
          "status" in error && error.status !== undefined ? ` ${error.status}` : ""
        } ${error.message.slice(0, 300)}; nothing was exported, run the same command again`
      ))
  }
}

/**
 * The ids file of a listing (`<output>.orders.txt`) and whether the export resumes: `--resume` with the file there
 * reuses it and never lists again; otherwise the listing is made (a fresh run first removes an earlier run's file, so
 * that an interrupted listing is never mistaken for a finished one) and the export starts over, since it cannot have
 * started before its listing was complete.
 */
const listedIds = (
  source: Extract<Source, { _tag: "Listing" }>,
  flags: Flags
): Effect.Effect<
  { readonly path: string; readonly resume: boolean },
  ExitError | CertCentralError.AuthenticationError,
  FileSystem.FileSystem | CertCentralClient.CertCentralClient | Progress.Progress
> =>
  Effect.gen(function*() {
    const tracker = yield* Progress.Progress
    const fs = yield* FileSystem.FileSystem
    const file = OrderListing.pathFor(flags.output)
    const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
    if (flags.resume && exists) return { path: file, resume: true }
    if (exists) {
      yield* fs.remove(file).pipe(Effect.mapError((e) => usage(`cannot remove ${file}: ${describe(e)}`)))
    }
    const client = yield* CertCentralClient.CertCentralClient
    yield* tracker.startListing(client.stats)
    const listed = yield* OrderListing.toFile(file, {
      from: source.from,
      filters: source.filters,
      onPage: tracker.recordPage
    }).pipe(Effect.catchAll((error) =>
      Effect.gen(function*() {
        if (error._tag === "OutputError" || !CertCentralError.isRetriable(error)) {
          return yield* listingFailure(source, error)
        }
        const stats = yield* client.stats
        if (!stats.gaveUp) {
          return yield* listingFailure(source, error)
        }
        // an outage longer than --max-outage while listing: nothing was exported yet, a later run lists again
        const now = yield* Clock.currentTimeMillis
        const unavailable = stats.unavailableSince === undefined ? 0 : Math.max(0, now - stats.unavailableSince)
        return yield* new ExitError({
          code: ExitCode.unavailable,
          message: `the DigiCert API has been unavailable for ${Progress.formatDuration(unavailable)} (last: ${
            Outcomes.describeFailure(error)
          }) while listing the orders; nothing was exported: run the same command again once it is back`
        })
      })
    ))
    yield* tracker.setTotal(listed.ids)
    return { path: file, resume: false }
  })

/** Runs the export for parsed flags and returns when every order was exported; any other ending is an ExitError. */
const execute = (flags: Flags, io: Io): Effect.Effect<void, ExitError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const source = yield* sourceOf(flags)
    const env = yield* environment
    const tracker = yield* Progress.Progress
    const tty = io.stderr.isTTY === true
    const finish = (outcome: string) =>
      Effect.flatMap(tracker.snapshot, (snap) =>
        Effect.sync(() => {
          if (flags.quiet) return
          if (tty) io.stderr.write("\r\u001b[2K")
          io.stderr.write(`${Progress.renderSummary(snap, outcome)}\n`)
        }))
    // a file's ids are counted beside the export, for the total and the ETA; stdin cannot be read twice
    const counter = (orders: string) =>
      orders === "-" ? Effect.void : OrderIds.fromFile(orders).pipe(
        Stream.runFold(0, (n, entry) => entry._tag === "Id" ? n + 1 : n),
        Effect.flatMap((total) => tracker.setTotal(total)),
        Effect.ignore
      )
    // a listing and the export that follows it share one client: one limiter, one pause, one circuit
    const run = Effect.gen(function*() {
      const ids = source._tag === "File"
        ? { path: source.path, resume: flags.resume }
        : yield* listedIds(source, flags)
      const input = yield* orderIds(ids.path)
      if (source._tag === "File" || ids.resume) yield* Effect.forkScoped(counter(ids.path))
      return yield* Export.toFiles(input, {
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
    }).pipe(Effect.provide(clientLayer(flags, env, io)))
    // the counter and the renderer live as long as the export, and no longer
    const withProgress = Effect.forkScoped(render(flags, io)).pipe(
      Effect.zipRight(run),
      Effect.scoped,
      Effect.provide(warnings(flags, io))
    )
    const summary = yield* withProgress.pipe(
      Effect.onInterrupt(() => finish("Interrupted; run again with --resume to continue")),
      // Redis lost for longer than the limiter waits: a defect of the shared limiter, an outage for the export
      Effect.catchSomeDefect((defect) =>
        isRedisOutage(defect)
          ? Option.some(Effect.zipRight(
            finish("Stopped"),
            Effect.fail(
              new ExitError({
                code: ExitCode.unavailable,
                message: `${defect.message}; the checkpoint is written: run the same command with --resume`
              })
            )
          ))
          : Option.none()
      ),
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
            Effect.flatMap(tracker.snapshot, (snap) =>
              Effect.fail(new ExitError({ code: ExitCode.unavailable, message: unavailableMessage(error, snap) })))
          ),
        OutputError: (error) => Effect.fail(usage(error.message)),
        ResumeError: (error) => Effect.fail(usage(error.message)),
        ReadError: (error) => Effect.fail(usage(error.message))
      })
    )
    const failures = summary.failed + summary.badLines
    if (summary.alreadyComplete) {
      if (!flags.quiet) {
        io.stderr.write(
          `${flags.output} is already complete (${summary.exported} orders, ${summary.rows} rows, ${failures} failed); nothing to resume\n`
        )
      }
    } else {
      yield* finish(failures > 0 ? `Done with failures (see ${summary.errors})` : "Done")
    }
    if (failures > 0) return yield* new ExitError({ code: ExitCode.someFailed })
  }).pipe(Effect.provide(Progress.layerWith({
    // the ETA places the requests left into the same windows the client keeps to
    windows: flags.rateLimit === "off" ? [] : flags.rateLimit,
    requestsPerOrder: new Set(flags.include).size
  })))

/**
 * The command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = (io: Io) =>
  Command.make(NAME, flags, (values) => execute(values, io)).pipe(
    Command.withDescription("Export DigiCert CertCentral orders, duplicates and reissues to CSV or NDJSON")
  )

// @effect/cli prints its validation errors with Console.error as a help page; the CLI prints one line instead. Its
// help puts the same generic line ("A user-defined piece of text.") above the description of every free-text flag
// (paths, URLs, specs): the description under it says what the flag takes, so the help leaves that line out.
const genericText = /^ *A user-defined piece of text\.\n\n/gm
const cliConsole = (console: Console.Console): Console.Console => ({
  ...console,
  error: () => Effect.void,
  log: (...args) => console.log(...args.map((arg) => typeof arg === "string" ? arg.replace(genericText, "") : arg))
})

/**
 * Runs the CLI on `argv` (as `process.argv`: runtime and script first), with the environment of `io` as the config
 * provider. Misuse writes one line on stderr and fails with exit code 2; `--help` prints the help and succeeds.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>,
  io: Io = processIo()
): Effect.Effect<void, ExitError, CliApp.CliApp.Environment> => {
  const app = Command.run(command(io), { name: NAME, version: VERSION })
  const env = new Map(Object.entries(io.env).flatMap(([k, v]) => v === undefined ? [] : [[k, v] as const]))
  return Console.consoleWith((console) =>
    app(argv).pipe(
      Console.withConsole(cliConsole(console)),
      Effect.withConfigProvider(ConfigProvider.fromMap(env)),
      Effect.catchAllCause((cause): Effect.Effect<void, ExitError> => {
        if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
        const failure = Cause.failureOption(cause)
        const error: ExitError = Option.isSome(failure) && failure.value instanceof ExitError
          ? failure.value
          : Option.isSome(failure) && ValidationError.isValidationError(failure.value)
          ? usage(HelpDoc.toAnsiText(failure.value.error))
          : usage(`unexpected error: ${messageOf(Cause.squash(cause))}`)
        if (error.message !== undefined && error.message !== "") io.stderr.write(`${NAME}: ${oneLine(error.message)}\n`)
        return Effect.fail(error)
      })
    )
  )
}

const messageOf = (u: unknown) => u instanceof Error ? u.message : String(u)
