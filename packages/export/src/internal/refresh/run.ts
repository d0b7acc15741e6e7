/** The refresh itself (`Refresh.toFiles`): list, ask what changed, fetch what can have changed, assemble, commit. */
import { CertCentralClient, type CertCentralError, type OrderSummary } from "@certcentral/core"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as path from "node:path"
import * as CertificateRow from "../../CertificateRow.js"
import * as Checkpoint from "../../Checkpoint.js"
import * as ErrorRecord from "../../ErrorRecord.js"
import type { OutputError } from "../../ExportError.js"
import type * as OrderIds from "../../OrderIds.js"
import * as OrderListing from "../../OrderListing.js"
import * as Outcomes from "../../Outcomes.js"
import type { Options, Summary } from "../../Refresh.js"
import * as RowEncoder from "../../RowEncoder.js"
import * as RowText from "../rowText.js"
import { type ChangeCounts, foldDuplicates, orderChanges } from "./changes.js"
import { commit, recover } from "./commit.js"
import { readEarlier } from "./earlier.js"
import { changesPathFor, type Files, type Record, recordPathFor, type RefreshError, sha256 } from "./model.js"
import { listingEntry, plan, statusWindows } from "./plan.js"

export const run = (
  options: Options
): Effect.Effect<
  Summary,
  RefreshError | OutputError | CertCentralError.CertCentralError | Outcomes.ApiUnavailableError,
  CertCentralClient.CertCentralClient | FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const client = yield* CertCentralClient.CertCentralClient
    const output = path.resolve(options.output)
    const files: Files = {
      output,
      errors: path.resolve(options.errors ?? `${options.output}.errors.ndjson`),
      format: options.format ?? RowEncoder.formatFromPath(output),
      include: Outcomes.normalizeInclude(options.include),
      showArchived: options.showArchived === true,
      source: options.source
    }
    yield* recover(output)
    const earlierFound = yield* readEarlier(files)
    const listedAt = yield* Clock.currentTimeMillis
    const tooOld = Option.isSome(earlierFound) && options.maxAge !== undefined &&
      listedAt - earlierFound.value.record.listedAt > Duration.toMillis(Duration.decode(options.maxAge))
    const earlier = tooOld ? undefined : Option.getOrUndefined(earlierFound)

    const onPhase = options.onPhase ?? (() => Effect.void)
    // the listing (one request per 1000 orders), then the status changes since the earlier one began
    yield* onPhase({ _tag: "Listing", earlier: earlier === undefined ? undefined : earlier.record.listedAt })
    const summaries: Array<OrderSummary.OrderSummary> = []
    yield* Stream.runForEach(OrderListing.pages(options.listing), (page) =>
      Effect.sync(() => summaries.push(...page.orders)))
    const listing = summaries.map(listingEntry)
    const windows = earlier === undefined ? [] : statusWindows(earlier.record.listedAt, listedAt, options.margin)
    const changed = new Set<number>()
    if (windows.length > 0) {
      yield* onPhase({ _tag: "StatusChanges", listed: summaries.length, requests: windows.length })
    }
    for (const frame of windows) {
      for (const change of yield* client.listStatusChanges(frame)) {
        changed.add(change.order_id)
      }
    }
    const thePlan = plan({
      earlier: earlier?.record.orders.map(([id, fingerprint, hint]) => ({
        id,
        fingerprint,
        hasDuplicates: hint ?? undefined
      })),
      listing,
      changed,
      failedBefore: earlier?.failed ?? [],
      include: files.include
    })

    const encoder = RowEncoder.make(files.format)
    const rowTexts = (id: number, rows: ReadonlyArray<CertificateRow.CertificateRow>): Array<RowText.RowText> =>
      rows.map((row) => ({
        text: encoder.encode([row]),
        orderId: id,
        source: row.source,
        certificateId: row.certificate_id
      }))

    // duplicates only: the order's own and reissue rows copied, the duplicate rows new; any doubt fetches it whole
    yield* onPhase({
      _tag: "Fetching",
      whole: thePlan.orders.filter((p) =>
        p.action === "fetch"
      ).length,
      duplicatesOnly: thePlan.orders.filter((p) => p.action === "duplicates").length,
      copied: thePlan.orders.filter((p) => p.action === "copy").length
    })
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? Outcomes.defaultConcurrency))
    const spliced = new Map<number, Array<RowText.RowText>>()
    const wholeToo: Array<number> = []
    yield* Effect.forEach(
      thePlan.orders.filter((p) => p.action === "duplicates"),
      (p) =>
        Effect.matchEffect(client.listDuplicates(p.id, { showArchived: files.showArchived }), {
          onFailure: (error) =>
            error._tag === "AuthenticationError" ? Effect.fail(error) : Effect.sync(() => wholeToo.push(p.id)),
          onSuccess: (duplicates) =>
            Effect.sync(() => {
              const before = earlier?.rows.get(p.id) ?? []
              const orderRow = before.find((r) => r.source === "order")
              const reissueRows = before.filter((r) => r.source === "reissue")
              const folded = foldDuplicates(duplicates, orderRow?.certificateId ?? null)
              if (folded.some((d) => reissueRows.some((r) => r.certificateId === d.id))) return wholeToo.push(p.id)
              const fresh = rowTexts(p.id, CertificateRow.fromOrder(p.id, { duplicates: folded })).map((row) =>
                orderRow === undefined
                  ? row
                  : { ...row, text: RowText.withOrderColumnsOf(files.format, row.text, orderRow.text) }
              )
              spliced.set(p.id, [...before.filter((r) => r.source === "order"), ...fresh, ...reissueRows])
            })
        }),
      { concurrency, discard: true }
    )

    // whole orders through the export's own stage, in listing order
    const whole = new Set([...thePlan.orders.filter((p) => p.action === "fetch").map((p) => p.id), ...wholeToo])
    const entries: Array<OrderIds.Entry> = thePlan.orders.filter((p) => whole.has(p.id)).map((p) => ({
      _tag: "Id",
      orderId: p.id as OrderIds.Id["orderId"],
      line: p.line
    }))
    const outcomes = new Map<number, Outcomes.Outcome>()
    yield* Stream.runForEach(
      Outcomes.stream(Stream.fromIterable(entries), options),
      (outcome) => Effect.sync(() => outcome._tag === "BadLine" ? undefined : outcomes.set(outcome.orderId, outcome))
    )

    // assemble in listing order, with the changes against the earlier rows
    const counts: ChangeCounts = { added: 0, removed: 0, changed: 0 }
    let outputText = encoder.header
    let errorsText = ""
    let changesText = ""
    let exported = 0
    let failed = 0
    let rows = 0
    const input = createHash("sha256")
    for (const p of thePlan.orders) {
      input.update(`id ${p.id}\n`)
      const before = earlier?.rows.get(p.id) ?? []
      const outcome = outcomes.get(p.id)
      let after: ReadonlyArray<RowText.RowText>
      if (outcome !== undefined && outcome._tag === "Failed") {
        failed++
        errorsText += ErrorRecord.encode(ErrorRecord.fromOutcome(outcome)!)
        after = []
      } else {
        after = outcome !== undefined && outcome._tag === "Exported"
          ? rowTexts(p.id, outcome.rows)
          : spliced.get(p.id) ?? before
        exported++
        rows += after.length
        for (const row of after) outputText += row.text
      }
      changesText += orderChanges(before, after, counts)
    }
    const gone = new Set(thePlan.gone)
    for (const id of earlier?.order.filter((id) => gone.has(id)) ?? []) {
      changesText += orderChanges(earlier?.rows.get(id) ?? [], [], counts)
    }

    const outputBytes = new TextEncoder().encode(outputText)
    const errorsBytes = new TextEncoder().encode(errorsText)
    const checkpoint: Checkpoint.Checkpoint = {
      version: 2,
      format: files.format,
      include: files.include,
      showArchived: files.showArchived,
      errors: files.errors,
      source: files.source,
      entries: thePlan.orders.length,
      inputDigest: input.digest("hex"),
      outputBytes: outputBytes.length,
      errorsBytes: errorsBytes.length,
      outputDigest: sha256(outputBytes),
      errorsDigest: sha256(errorsBytes),
      exported,
      failed,
      badLines: 0,
      rows,
      complete: true
    }
    const record: Record = {
      version: 1,
      listedAt,
      source: files.source,
      outputDigest: checkpoint.outputDigest!,
      errorsDigest: checkpoint.errorsDigest!,
      orders: listing.map((e) => [e.id, e.fingerprint, e.hasDuplicates ?? null] as const)
    }
    const changesFile = changesPathFor(output)
    const replaced = Option.getOrUndefined(earlierFound)?.checkpoint.outputDigest ?? null
    yield* commit(output, replaced, [
      [output, outputText],
      [files.errors, errorsText],
      [OrderListing.pathFor(output), `${OrderListing.fileHeader}\n${summaries.map(OrderListing.fileLine).join("")}`],
      [changesFile, changesText],
      [recordPathFor(output), JSON.stringify(record) + "\n"],
      [Checkpoint.pathFor(output), JSON.stringify(checkpoint) + "\n"]
    ])
    const duplicatesOnly = spliced.size
    return {
      full: earlier === undefined,
      listed: thePlan.orders.length,
      fetched: whole.size,
      duplicatesOnly,
      copied: thePlan.orders.length - whole.size - duplicatesOnly,
      gone: thePlan.gone.length,
      statusRequests: windows.length,
      exported,
      failed,
      rows,
      changes: { ...counts },
      output,
      errors: files.errors,
      changesFile
    }
  })
