/**
 * `--dry-run`: the plan of the run the same flags would make, printed on stdout (one line, `Plan.render`), and no
 * per-order request. With `--orders` the ids are only read (no key needed, nothing written); with `--orders-from` the
 * listing is made as a real run makes it, into `<output>.orders.txt` under the output's lock, and its pages are in the
 * plan. The output, the errors file and the checkpoint are never opened. Notes for the user (bad lines, what to run
 * next) go to stderr unless `--quiet`.
 *
 * Not with `--resume` (it plans a fresh run). For `--refresh` (another change): a refresh plans differently (the
 * status change list decides); refuse `--dry-run --refresh` with exit 2 until it has a plan of its own.
 */
import type { CertCentralClient } from "@certcentral/core"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Checkpoint from "../../Checkpoint.js"
import * as OrderIds from "../../OrderIds.js"
import * as OutputLock from "../../OutputLock.js"
import * as Plan from "../../Plan.js"
import * as Progress from "../../Progress.js"
import { ExitCode, ExitError, usage } from "./exit.js"
import type { Flags } from "./flags.js"
import { listedIds, type Source } from "./listing.js"
import { CliOutput, type CliStdin } from "./terminal.js"

/** What the dry run borrows from the program: how it opens an ids file, and the client a listing goes through. */
export interface Program {
  readonly ids: (
    path: string
  ) => Effect.Effect<
    Stream.Stream<OrderIds.Entry, OrderIds.ReadError, FileSystem.FileSystem>,
    ExitError,
    FileSystem.FileSystem | CliStdin
  >
  readonly client: Effect.Effect<
    Layer.Layer<CertCentralClient.CertCentralClient, ExitError, HttpClient.HttpClient | CliOutput>,
    ExitError
  >
}

const shownBadLines = 10

/** Plans the run of `flags` and prints the plan; fails only as the run would before its first per-order request. */
export const dryRun = (
  flags: Flags,
  source: Source,
  program: Program
): Effect.Effect<
  void,
  ExitError,
  FileSystem.FileSystem | HttpClient.HttpClient | CliOutput | CliStdin | Progress.Progress
> =>
  Effect.gen(function*() {
    if (flags.resume) return yield* usage("--dry-run plans a fresh run: not with --resume")
    const output = yield* CliOutput
    const bad: Array<OrderIds.BadLine> = []
    const plan = (input: Stream.Stream<OrderIds.Entry, OrderIds.ReadError, FileSystem.FileSystem>, listPages = 0) =>
      Plan.fromEntries(
        Stream.tap(input, (entry) =>
          Effect.sync(() => {
            if (entry._tag === "BadLine" && bad.length < shownBadLines) bad.push(entry)
          })),
        { include: flags.include, windows: flags.rateLimit, listPages }
      ).pipe(Effect.mapError((error) => usage(error.message)))

    const planned = source._tag === "File"
      ? {
        plan: yield* Effect.flatMap(program.ids(source.path), (input) => plan(input)),
        listing: undefined,
        started: false
      }
      : yield* Effect.gen(function*() {
        const client = yield* program.client
        return yield* Effect.gen(function*() {
          // as a real run: the lock from before the listing file is replaced to after it is read
          yield* OutputLock.acquire(flags.output).pipe(Effect.mapError((error) =>
            usage(
              error._tag === "OutputLockedError"
                ? `${error.message}; wait for it or pick another --output`
                : error.message
            )
          ))
          // replacing the listing of an interrupted export would leave its --resume nothing to continue from
          const checkpoint = yield* Checkpoint.read(Checkpoint.pathFor(flags.output)).pipe(
            Effect.mapError((error) => usage(error.message))
          )
          if (Option.isSome(checkpoint) && !checkpoint.value.complete) {
            return yield* usage(
              `${flags.output} holds an interrupted export: finish it with --resume first, or plan with another --output`
            )
          }
          const ids = yield* listedIds(source, { ...flags, resume: false }, { record: false }).pipe(
            Effect.catchTag("AuthenticationError", (error) =>
              Effect.fail(
                new ExitError({
                  code: ExitCode.authentication,
                  message: `the API refused the key (HTTP 401${
                    error.errors[0] ? ` ${error.errors[0].raw}` : ""
                  }); check DIGICERT_API_KEY`
                })
              ))
          )
          const pages = (yield* Effect.flatMap(Progress.Progress, (tracker) => tracker.snapshot)).listing?.pages ?? 0
          // --resume reuses the listing only for an output not yet started (an earlier export's would be continued)
          const started = Option.isSome(checkpoint) ||
            (yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists(flags.output)).pipe(
              Effect.orElseSucceed(() => true)
            ))
          return { plan: yield* plan(OrderIds.fromFile(ids.path), pages), listing: ids.path, started }
        }).pipe(Effect.scoped, Effect.provide(client))
      })

    yield* Console.log(Plan.render(planned.plan))
    if (flags.quiet) return
    for (const line of bad) yield* output.line(`bad input line ${line.line}: ${line.message}`)
    if (planned.plan.badLines > bad.length) {
      yield* output.line(`... and ${planned.plan.badLines - bad.length} more bad input lines`)
    }
    yield* output.line(
      planned.listing === undefined
        ? "Dry run: nothing was requested or written; run the same command without --dry-run to export."
        : `Dry run: no order was requested and ${flags.output} was not written. The listing is in ${planned.listing}: ${
          planned.started
            ? `--orders ${planned.listing} exports exactly these orders (${flags.output} holds an earlier export)`
            : "the same command with --resume instead of --dry-run exports exactly these orders"
        }; without --resume it lists again.`
    )
  })
