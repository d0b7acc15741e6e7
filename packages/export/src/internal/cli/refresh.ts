/** `--refresh` on the command line: which flags it refuses, the run, how it ends, and its one-line summary. */
import { CertCentralClient, CertCentralError } from "@certcentral/core"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as OutputLock from "../../OutputLock.js"
import * as Progress from "../../Progress.js"
import * as Refresh from "../../Refresh.js"
import * as RowEncoder from "../../RowEncoder.js"
import { ExitCode, ExitError, usage } from "./exit.js"
import type { Flags } from "./flags.js"
import { describeListing, type Source } from "./listing.js"
import { CliOutput } from "./terminal.js"

/** Why the flags cannot refresh, as one line; `undefined` when they can. */
export const refusal = (flags: Pick<Flags, "orders" | "ordersFrom" | "resume" | "dryRun">): string | undefined =>
  Option.isSome(flags.orders)
    ? "--refresh works with --orders-from only: an ids file has no listing to compare (run a full export of it)"
    : Option.isNone(flags.ordersFrom)
    ? "--refresh needs --orders-from account|subaccounts (and the flags of the earlier export)"
    : flags.resume
    ? "--refresh and --resume do not go together: an interrupted refresh is run again with the same command"
    : flags.dryRun
    ? "--refresh and --dry-run do not go together: a dry run plans a full export (--dry-run without --refresh)"
    : undefined

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

/** What a refresh is doing, one line per phase on stderr. */
export const phaseLine = (phase: Refresh.Phase): string => {
  const n = (x: number) => x.toLocaleString("en-US")
  switch (phase._tag) {
    case "Listing":
      return phase.earlier === undefined
        ? "Listing the orders (no earlier export to refresh: every order will be fetched)"
        : `Listing the orders (the earlier export listed them at ${new Date(phase.earlier).toISOString()})`
    case "StatusChanges":
      return `${n(phase.listed)} orders listed; asking what changed since (${
        plural(phase.requests, "status change request")
      })`
    case "Fetching":
      return `Fetching ${n(phase.whole)} orders and ${n(phase.duplicatesOnly)} duplicates lists; copying ${
        n(phase.copied)
      } orders`
  }
}

/** The summary of a refresh: orders fetched, copied and gone, and the certificate rows added, removed and changed. */
export const summaryLine = (summary: Refresh.Summary, output: string): string => {
  const c = summary.changes
  const failures = summary.failed > 0 ? `, ${plural(summary.failed, "order")} failed (see ${summary.errors})` : ""
  if (summary.full) {
    return `No earlier export to refresh at ${output} (or it was older than --max-age): exported all ` +
      `${plural(summary.listed, "listed order")}, ${plural(summary.rows, "row")}${failures}`
  }
  const n = (x: number) => x.toLocaleString("en-US")
  return `Refreshed ${output}: ${plural(summary.listed, "listed order")}, ${n(summary.fetched)} fetched, ` +
    `${n(summary.duplicatesOnly)} duplicates lists, ${n(summary.copied)} copied, ${n(summary.gone)} gone ` +
    `(${plural(summary.statusRequests, "status change request")}); ${plural(c.added, "row")} added, ` +
    `${n(c.removed)} removed, ${n(c.changed)} changed (${summary.changesFile})${failures}`
}

const again = "the earlier files are intact: run the same command again"

/** How a refresh that stopped ends: its exit code and one line; `gaveUp` when the client waited past --max-outage. */
const refreshExit = (
  error: Effect.Effect.Error<ReturnType<typeof Refresh.toFiles>>,
  gaveUp: boolean
): ExitError => {
  switch (error._tag) {
    case "AuthenticationError":
      return new ExitError({
        code: ExitCode.authentication,
        message: `the API refused the key (HTTP 401${
          error.errors[0] ? ` ${error.errors[0].raw}` : ""
        }); check DIGICERT_API_KEY`
      })
    // an outage past --max-outage (or Redis lost that long under --share-limits), fetching or while listing
    case "ApiUnavailableError":
    case "UnavailableError": {
      const last = error._tag === "ApiUnavailableError" ? error.error : error.lastError
      return new ExitError({
        code: ExitCode.unavailable,
        message: last._tag === "StoreUnavailableError"
          ? `${CertCentralError.describe(last)} for longer than --max-outage; ${again}`
          : `the DigiCert API has been unavailable for ${Progress.formatDuration(error.unavailableMillis)} (last: ${
            CertCentralError.describe(last)
          }); ${again}`
      })
    }
    case "RefreshError":
    case "OutputError":
      return usage(error.message)
    case "OutputLockedError":
      return usage(`${error.message}; wait for it or pick another --output`)
    default:
      // the listing or the status change list failed for good (a 400 to a filter, a body that does not decode, ...)
      return new ExitError({
        code: gaveUp ? ExitCode.unavailable : ExitCode.someFailed,
        message: `the refresh stopped: ${
          CertCentralError.isRetriable(error) ? CertCentralError.describe(error) : error.message.slice(0, 300)
        }; ${again}`
      })
  }
}

/**
 * `--refresh`: the earlier export at `--output` brought up to date under the output's lock, with one line of summary.
 * Anything that stops it before its final renames leaves the earlier files as they were: it is run again as it was.
 */
export const run = (
  flags: Flags,
  source: Extract<Source, { readonly _tag: "Listing" }>
): Effect.Effect<void, ExitError, FileSystem.FileSystem | CliOutput | CertCentralClient.CertCentralClient> =>
  Effect.gen(function*() {
    const output = yield* CliOutput
    const summary = yield* Effect.gen(function*() {
      const client = yield* CertCentralClient.CertCentralClient
      return yield* OutputLock.acquire(flags.output).pipe(
        Effect.zipRight(Refresh.toFiles({
          output: flags.output,
          errors: Option.getOrUndefined(flags.errors),
          format: Option.getOrElse(flags.format, () => RowEncoder.formatFromPath(flags.output)),
          include: flags.include,
          concurrency: flags.concurrency,
          showArchived: flags.showArchived,
          listing: { from: source.from, filters: source.filters },
          source: describeListing(source),
          maxAge: Option.getOrUndefined(flags.maxAge),
          onPhase: (phase) => flags.quiet ? Effect.void : output.line(phaseLine(phase))
        })),
        Effect.catchAll((error) =>
          Effect.flatMap(client.stats, (stats) => Effect.fail(refreshExit(error, stats.gaveUp)))
        )
      )
    }).pipe(
      Effect.scoped,
      Effect.onInterrupt(() => flags.quiet ? Effect.void : output.line(`Interrupted; ${again}`))
    )
    if (!flags.quiet) yield* output.line(summaryLine(summary, flags.output))
    if (summary.failed > 0) return yield* new ExitError({ code: ExitCode.someFailed })
  })
