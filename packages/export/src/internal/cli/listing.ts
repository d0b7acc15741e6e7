/**
 * Where the CLI's ids come from (`--orders` or `--orders-from` with `--filter`), and the listing of `--orders-from`:
 * written to `<output>.orders.txt`, reused by `--resume`, its failures worded as the CLI's one-line messages.
 */
import { CertCentralClient, CertCentralError } from "@certcentral/core"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { OutputError } from "../../ExportError.js"
import * as OrderListing from "../../OrderListing.js"
import * as Progress from "../../Progress.js"
import * as Refresh from "../../Refresh.js"
import { describe } from "../errno.js"
import { ExitCode, ExitError, outputRefused, usage } from "./exit.js"
import type { Flags } from "./flags.js"

/** Where the order ids come from: a file (or stdin), or a listing. */
export type Source =
  | { readonly _tag: "File"; readonly path: string }
  | {
    readonly _tag: "Listing"
    readonly from: OrderListing.Source
    readonly filters: Readonly<Record<string, string>>
  }

/**
 * The source of the ids the flags name: exactly one of `--orders` and `--orders-from`, and `--filter` only with the
 * latter; anything else is a usage error.
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
export const describeListing = (source: Extract<Source, { _tag: "Listing" }>): string =>
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
      return Effect.fail(outputRefused(error))
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

/** What a later `--refresh` needs of a listing: when it began and each order's listing entry. */
export interface Listed {
  readonly listedAt: number
  readonly listing: ReadonlyArray<Refresh.ListingEntry>
}

const decodeRecord = Schema.decodeUnknownEither(Schema.parseJson(Refresh.Record))

/**
 * The listing kept for a resumed export: the refresh record written when the listing finished (its digests empty
 * until the export completes), or `undefined` when there is none (an export from before records existed).
 */
const pendingListing = (output: string): Effect.Effect<Listed | undefined, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(Refresh.recordPathFor(output)).pipe(Effect.option)
    if (Option.isNone(text)) return undefined
    const record = Either.getOrUndefined(decodeRecord(text.value))
    return record === undefined ? undefined : {
      listedAt: record.listedAt,
      listing: record.orders.map(([id, fingerprint, hint]) => ({ id, fingerprint, hasDuplicates: hint ?? undefined }))
    }
  })

/**
 * The ids file of a listing (`<output>.orders.txt`), whether the export resumes, and the listing as a refresh needs
 * it: `--resume` with the file there reuses it and never lists again; otherwise the listing is made (a fresh run first
 * removes an earlier run's file and refresh record, so that an interrupted listing is never mistaken for a finished
 * one) and the export starts over, since it cannot have started before its listing was complete. The listing's start
 * (taken before its first page) and entries go into a pending refresh record (`Refresh.writeRecord` completes it once
 * the export is complete).
 */
export const listedIds = (
  source: Extract<Source, { _tag: "Listing" }>,
  flags: Flags,
  // false (a dry run): the refresh record is left as it is, so that a dry run beside a complete export does not spoil
  // its next refresh; an export resumed from a dry run's listing then leaves no record (its next refresh says so)
  options: { readonly record: boolean } = { record: true }
): Effect.Effect<
  { readonly path: string; readonly resume: boolean; readonly listed: Listed | undefined },
  ExitError | CertCentralError.AuthenticationError,
  FileSystem.FileSystem | CertCentralClient.CertCentralClient | Progress.Progress
> =>
  Effect.gen(function*() {
    const tracker = yield* Progress.Progress
    const fs = yield* FileSystem.FileSystem
    const file = OrderListing.pathFor(flags.output)
    const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
    if (flags.resume && exists) return { path: file, resume: true, listed: yield* pendingListing(flags.output) }
    for (const stale of options.record ? [file, Refresh.recordPathFor(flags.output)] : [file]) {
      yield* fs.remove(stale, { force: true }).pipe(
        Effect.mapError((e) => usage(`cannot remove ${stale}: ${describe(e)}`))
      )
    }
    const client = yield* CertCentralClient.CertCentralClient
    yield* tracker.startListing(client.stats)
    const listedAt = yield* Clock.currentTimeMillis
    const listing: Array<Refresh.ListingEntry> = []
    const listed = yield* OrderListing.toFile(file, {
      from: source.from,
      filters: source.filters,
      onPage: (page) =>
        Effect.zipRight(
          Effect.sync(() => {
            for (const order of page.orders) listing.push(Refresh.listingEntry(order))
          }),
          tracker.recordPage(page)
        )
    }).pipe(Effect.catchAll((error) =>
      Effect.gen(function*() {
        if (error._tag !== "UnavailableError") return yield* listingFailure(source, error)
        // an outage longer than --max-outage while listing: nothing was exported yet, a later run lists again
        return yield* new ExitError({
          code: ExitCode.unavailable,
          message: `the DigiCert API has been unavailable for ${
            Progress.formatDuration(error.unavailableMillis)
          } (last: ${
            CertCentralError.describe(error.lastError)
          }) while listing the orders; nothing was exported: run the same command again once it is back`
        })
      })
    ))
    yield* tracker.setTotal(listed.ids)
    const kept: Listed = { listedAt, listing }
    if (options.record) yield* Refresh.writePending(flags.output, kept).pipe(Effect.mapError((e) => usage(e.message)))
    return { path: file, resume: false, listed: kept }
  })
