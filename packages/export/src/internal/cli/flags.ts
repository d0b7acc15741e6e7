/**
 * The CLI's flags: each parsed once, where it is declared, into its type; a problem is a one-line message naming the
 * flag. Parsing only: what the flags mean for a run is the program's (`program.ts`).
 */
import { BaseUrl, RollingWindowLimiter } from "@certcentral/core"
import * as HelpDoc from "@effect/cli/HelpDoc"
import type * as HelpDocSpan from "@effect/cli/HelpDoc/Span"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as OrderListing from "../../OrderListing.js"
import * as Outcomes from "../../Outcomes.js"
import * as RowEncoder from "../../RowEncoder.js"

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

/** A flag whose text is parsed once, here, into its type. */
const parsed = <A>(name: string, parse: (text: string) => Either.Either<A, string>): Options.Options<A> =>
  Options.text(name).pipe(Options.mapEffect((text) => Either.mapLeft(parse(text), invalid)))

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

/**
 * A duration as the CLI takes it: `0`, or a whole number and a unit (`500ms`, `30s`, `5m`, `1h`). The grammar is
 * core's, the one of `--rate-limit`'s windows: the duration is read as the window of a one-request limit.
 */
export const parseDuration = (text: string, flag: string): Either.Either<Duration.Duration, string> => {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === "0") return Either.right(Duration.zero)
  const window = RollingWindowLimiter.parse(`1/${trimmed}`).pipe(
    Either.getRight,
    Option.flatMap((windows) => windows !== "off" && windows.length === 1 ? Option.some(windows[0]!) : Option.none())
  )
  return Option.isSome(window)
    ? Either.right(Duration.decode(window.value.window))
    : Either.left(`${flag} must be a duration such as 30s, 5m, 1h, 500ms or 0, got ${JSON.stringify(text.trim())}`)
}

/** `--max-age`: a duration as {@link parseDuration} takes it, or whole days (`7d`). */
const parseAge = (text: string): Either.Either<Duration.Duration, string> => {
  const days = /^\s*(\d{1,5})d\s*$/i.exec(text)
  return days !== null ? Either.right(Duration.days(Number(days[1]))) : Either.mapLeft(
    parseDuration(text, "--max-age"),
    (message) => message.replace("500ms or 0", "500ms, 7d or 0")
  )
}

const parseRateLimit = (text: string) =>
  Either.mapLeft(RollingWindowLimiter.parse(text), (message) => `--rate-limit: ${message}`)

const databasePath = (path: string): boolean => path === "" || path === "/" || /^\/(0|[1-9][0-9]{0,3})$/.test(path)

// The Redis URL is checked here, before anything connects; a password in it is never echoed.
const parseShareLimits = (text: string): Either.Either<string, string> => {
  const trimmed = text.trim()
  const url = URL.canParse(trimmed) ? new URL(trimmed) : undefined
  if (url === undefined || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    return Either.left("--share-limits must be redis://host:port[/db] or rediss://host:port[/db]")
  }
  if (!databasePath(url.pathname)) {
    return Either.left("--share-limits: the path must be a database number, as in redis://host:6379/0")
  }
  return Either.right(trimmed)
}

/** The flags, each parsed into its type where it is declared (the one place to add a flag). */
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
    Options.mapEffect((args) => Either.mapLeft(OrderListing.parseFilters(args), invalid))
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
      n >= 1 ? Effect.succeed(n) : Effect.fail(invalid(`--concurrency must be a positive integer, got ${n}`))
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
  refresh: Options.boolean("refresh").pipe(
    Options.withDescription(
      "With --orders-from: bring the complete export at --output up to date, fetching only the orders that can have " +
        "changed (new, changed in the listing, in the status change list, with duplicates, failed before) and " +
        "copying the rest; writes <output>.changes.ndjson. No earlier export: a full one"
    )
  ),
  maxAge: parsed("max-age", parseAge).pipe(
    Options.withPseudoName("duration"),
    Options.withDescription(
      "With --refresh: an earlier export listed longer ago than this is not refreshed but exported again in full " +
        "(s m h d, e.g. 7d; default no limit)"
    ),
    Options.optional
  ),
  // --dry-run: see internal/cli/dryRun.ts
  dryRun: Options.boolean("dry-run").pipe(
    Options.withDescription(
      "Plan only: read the ids (with --orders-from, list them into <output>.orders.txt), print the orders, the " +
        "requests by endpoint and the least time --rate-limit allows on stdout, make no per-order request, exit 0"
    )
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
    Options.mapEffect((text) => Either.mapLeft(parseShareLimits(text), invalid)),
    Options.withPseudoName("redis-url"),
    Options.withDescription(
      "Share this key's rate limits, 429 pause and circuit with every process on the same Redis " +
        "(redis://host:port[/db]; default CERTCENTRAL_SHARE_LIMITS, else this process alone)"
    ),
    Options.optional
  )
}

/** The parsed flags. */
export type Flags = {
  readonly [K in keyof typeof flags]: (typeof flags)[K] extends Options.Options<infer A> ? A : never
}

/** A validation message as plain text, read from its structure (no styling to strip). */
export const plainText = (doc: HelpDoc.HelpDoc): string => {
  switch (doc._tag) {
    case "Empty":
      return ""
    case "Header":
    case "Paragraph":
      return spanText(doc.value)
    case "DescriptionList":
      return doc.definitions.map(([span, help]) => `${spanText(span)} ${plainText(help)}`).join(" ")
    case "Enumeration":
      return doc.elements.map(plainText).join(" ")
    case "Sequence":
      return `${plainText(doc.left)} ${plainText(doc.right)}`
  }
}

const spanText = (span: HelpDocSpan.Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    case "Highlight":
    case "Strong":
    case "Weak":
      return spanText(span.value)
  }
}
