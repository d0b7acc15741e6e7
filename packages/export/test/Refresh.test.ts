/**
 * `Refresh.toFiles` in-process: a scripted `HttpClient` answers every route from a testkit `AccountHistory` at the
 * moment Effect's `TestClock` says, so an export at t0, a refresh at t1 and a full export at t1 see the same account.
 */
import { CertCentralClient, StatusChange } from "@certcentral/core"
import { Export, OrderListing, Refresh } from "@certcentral/export"
import { Account, AccountHistory, OrderData as TestOrderData } from "@certcentral/testkit"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Layer, Redacted, Stream, TestClock } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expectSameBytes } from "./support/files.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const t0 = Date.UTC(2024, 5, 1, 12)
const t1 = t0 + 2 * DAY
const SEED = 23
// 20 orders hold one of every kind of change below (five issued without duplicates, two with) and orders to copy
const ids = Account.generatedIds(20)
const SOURCE = "--orders-from account"

const baseOrder = (id: number) =>
  TestOrderData.subaccountOrder(SEED, id, { showArchived: false, includeValidationStatus: false })
const issued = ids.filter((id) => baseOrder(id).status === "issued" && baseOrder(id).certificate !== undefined)
const withDuplicates = issued.filter((id) => TestOrderData.allDuplicates(SEED, id).some((d) => d.archived === "0"))
const plain = issued.filter((id) => TestOrderData.allDuplicates(SEED, id).length === 0)

/** One of every kind of change between t0 and t1. */
const kinds = {
  revoked: plain[0]!,
  reissued: plain[1]!,
  duplicated: withDuplicates[0]!,
  rejectedReissue: plain[2]!,
  placed: 999_001,
  removed: plain[3]!,
  recovered: plain[4]!,
  // an order with duplicates: its duplicates list is asked for, fails, and the order is then fetched whole
  nowFails: withDuplicates[1]!
}

const history = AccountHistory.make(SEED, ids, [
  { _tag: "Failing", orderId: kinds.recovered, at: 0, until: t0 + HOUR },
  { _tag: "Revoked", orderId: kinds.revoked, at: t0 + 2 * HOUR },
  { _tag: "Reissued", orderId: kinds.reissued, at: t0 + 3 * HOUR },
  { _tag: "Duplicated", orderId: kinds.duplicated, at: t0 + 4 * HOUR },
  { _tag: "ReissueRejected", orderId: kinds.rejectedReissue, at: t0 + 5 * HOUR },
  { _tag: "Placed", orderId: kinds.placed, at: t0 + 6 * HOUR },
  { _tag: "Removed", orderId: kinds.removed, at: t0 + 7 * HOUR },
  { _tag: "Failing", orderId: kinds.nowFails, at: t0 + 8 * HOUR }
])

const BASE = "/services/v2"

/** The stand-in as an in-memory HttpClient, answering at the TestClock's moment; records every URL. */
const stand = (h: AccountHistory.History) => {
  const urls: Array<URL> = []
  const client = HttpClient.make((request, url) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      urls.push(url)
      const answer = AccountHistory.answer(h, url.pathname.slice(BASE.length), url.searchParams, now)
      return HttpClientResponse.fromWeb(
        request,
        new Response(answer.body, { status: answer.status, headers: { "content-type": "application/json" } })
      )
    })
  )
  const layer = CertCentralClient.layer({
    apiKey: Redacted.make("k3y-of-the-refresh-tests-0123456789"),
    baseUrl: `http://certcentral.test${BASE}`,
    rateLimit: "off"
  }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)), Layer.orDie, Layer.merge(NodeFileSystem.layer))
  const count = (pattern: RegExp) => urls.filter((u) => pattern.test(u.pathname)).length
  return { urls, layer, count }
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "certcentral-refresh-"))

const refresh = (output: string, extra: Partial<Refresh.Options> = {}) =>
  Refresh.toFiles({ output, listing: { from: "account" }, source: SOURCE, concurrency: 4, ...extra })

const fullExport = (output: string, extra: Partial<Export.FileOptions> = {}) =>
  Export.toFiles(OrderListing.entries({ from: "account" }), { output, source: SOURCE, concurrency: 4, ...extra })

const lines = (file: string) =>
  fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  if (exit.cause._tag !== "Fail") throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return exit.cause.error
}

describe("Refresh.toFiles", () => {
  for (const format of ["csv", "ndjson"] as const) {
    it.effect(`${format}: after every kind of change the files equal a full export's at that moment, byte for byte`, () => {
      const dir = tempDir()
      const output = path.join(dir, `inventory.${format}`)
      const reference = path.join(dir, `reference.${format}`)
      const { count, layer, urls } = stand(history)
      return Effect.gen(function*() {
        yield* TestClock.setTime(t0)
        const first = yield* refresh(output)
        expect(first.full).toBe(true)
        expect(first.failed).toBe(1)
        const earlierRows = fs.readFileSync(output, "utf8")

        yield* TestClock.setTime(t1)
        urls.length = 0
        const summary = yield* refresh(output)
        const refreshUrls = [...urls]
        yield* fullExport(reference)
        expectSameBytes(output, reference)
        expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
        expect(fs.readFileSync(output, "utf8")).not.toBe(earlierRows)

        // fetched whole: exactly the orders that can have changed
        const fetched = refreshUrls.filter((u) => u.pathname.includes("/account/subaccount/order/"))
          .map((u) => Number(u.pathname.split("/").at(-1)))
        expect(new Set(fetched)).toEqual(
          new Set([kinds.revoked, kinds.reissued, kinds.rejectedReissue, kinds.placed, kinds.recovered, kinds.nowFails])
        )
        expect(summary.full).toBe(false)
        expect(summary.fetched).toBe(6)
        expect(summary.gone).toBe(1)
        expect(summary.failed).toBe(1)
        expect(summary.statusRequests).toBe(1)
        const listed = ids.length
        expect(summary.listed).toBe(listed)
        // the orders with duplicates (or no has_duplicates hint) not fetched whole had their duplicates list alone;
        // the order that now fails asked for it once more before it was fetched whole
        const dupOnly = refreshUrls.filter((u) => u.pathname.endsWith("/duplicate")).length - 6 - 1
        expect(summary.duplicatesOnly).toBe(dupOnly)
        expect(summary.copied).toBe(listed - 6 - dupOnly)
        expect(summary.fetched + summary.duplicatesOnly + summary.copied).toBe(listed)
        // listing, status changes, 3 per fetched order (2 for the failing one may stop early), duplicates lists
        expect(count(/status-changes$/)).toBe(1)
        expect(refreshUrls.length).toBe(1 + 1 + 6 * 3 + dupOnly + 1)

        // the changes file: exact, one line per row added, removed or changed
        const changes = lines(`${output}.changes.ndjson`)
        const of = (id: number) => changes.filter((c) => c.order_id === id)
        const primary = (id: number) => (baseOrder(id).certificate as { readonly id: number }).id
        expect(of(kinds.revoked)).toEqual([
          { change: "changed", order_id: kinds.revoked, source: "order", certificate_id: primary(kinds.revoked) }
        ])
        const newReissue = AccountHistory.subaccountOrderAt(history, kinds.reissued, t1).certificate as { id: number }
        expect(of(kinds.reissued)).toEqual([
          // one row per certificate: the issued reissue is the order's certificate now, its row the order's
          { change: "added", order_id: kinds.reissued, source: "order", certificate_id: newReissue.id },
          { change: "removed", order_id: kinds.reissued, source: "order", certificate_id: primary(kinds.reissued) }
        ])
        const newDuplicate = AccountHistory.duplicatesAt(history, kinds.duplicated, t1).at(-1)!.id
        expect(of(kinds.duplicated)).toEqual([
          { change: "added", order_id: kinds.duplicated, source: "duplicate", certificate_id: newDuplicate }
        ])
        const rejected = AccountHistory.reissuesAt(history, kinds.rejectedReissue, t1).at(-1)!.id
        expect(of(kinds.rejectedReissue)).toEqual([
          { change: "added", order_id: kinds.rejectedReissue, source: "reissue", certificate_id: rejected }
        ])
        expect(of(kinds.placed).length).toBeGreaterThan(0)
        expect(of(kinds.placed).every((c) => c.change === "added")).toBe(true)
        expect(of(kinds.removed).length).toBeGreaterThan(0)
        expect(of(kinds.removed).every((c) => c.change === "removed")).toBe(true)
        expect(of(kinds.recovered).every((c) => c.change === "added")).toBe(true)
        expect(of(kinds.nowFails).every((c) => c.change === "removed")).toBe(true)
        const touched = new Set(Object.values(kinds))
        expect(changes.filter((c) => !touched.has(c.order_id))).toEqual([])
        expect(summary.changes.added + summary.changes.removed + summary.changes.changed).toBe(changes.length)

        // a second refresh with nothing changed: copies, writes the same files, reports no change
        const again = yield* refresh(output)
        expectSameBytes(output, reference)
        expect(again.changes).toEqual({ added: 0, removed: 0, changed: 0 })
        expect(fs.readFileSync(`${output}.changes.ndjson`, "utf8")).toBe("")
        // and a resume after a refresh finds the export complete
        const resumed = yield* fullExport(output, { resume: true })
        expect(resumed.alreadyComplete).toBe(true)
      }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
    })
  }

  it.effect("with no earlier export it makes a full export and says so", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const { layer } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t1)
      const summary = yield* refresh(output)
      yield* fullExport(path.join(dir, "reference.csv"))
      expect(summary.full).toBe(true)
      expect(summary.fetched).toBe(summary.listed)
      expect(summary.statusRequests).toBe(0)
      expectSameBytes(output, path.join(dir, "reference.csv"))
      expect(lines(`${output}.changes.ndjson`).every((c) => c.change === "added")).toBe(true)
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  it.effect("refuses an earlier export made with other options, naming the difference, and touches nothing", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const { layer, urls } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      yield* refresh(output)
      const before = fs.readFileSync(output)
      urls.length = 0
      const cases: ReadonlyArray<readonly [Partial<Refresh.Options>, string]> = [
        [{ include: ["order", "reissues"] }, "--include order,duplicates,reissues"],
        [{ showArchived: true }, "no --show-archived"],
        [{ source: "--orders-from subaccounts" }, SOURCE],
        [{ format: "ndjson" }, "format csv"]
      ]
      for (const [extra, named] of cases) {
        const error = failureOf(yield* Effect.exit(refresh(output, extra)))
        expect(error._tag).toBe("RefreshError")
        if (error._tag !== "RefreshError") continue
        expect(error.reason).toBe("OptionsDiffer")
        expect(error.message).toContain(named)
        expect(error.message).not.toContain("\n")
      }
      expect(urls).toHaveLength(0)
      expect(fs.readFileSync(output).equals(before)).toBe(true)
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  it.effect("refuses an export made from ids given with --orders, and an incomplete one", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const { layer } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      yield* Export.toFiles(OrderListing.entries({ from: "account" }), { output, concurrency: 4 })
      const byIds = failureOf(yield* Effect.exit(refresh(output)))
      expect(byIds._tag === "RefreshError" && byIds.reason).toBe("OptionsDiffer")
      expect(byIds.message).toContain("--orders")
      const checkpoint = JSON.parse(fs.readFileSync(`${output}.checkpoint.json`, "utf8"))
      fs.writeFileSync(`${output}.checkpoint.json`, JSON.stringify({ ...checkpoint, source: SOURCE, complete: false }))
      const incomplete = failureOf(yield* Effect.exit(refresh(output)))
      expect(incomplete._tag === "RefreshError" && incomplete.reason).toBe("Incomplete")
      expect(incomplete.message).toContain("--resume")
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  it.effect("refuses an export that left no refresh record (a full export by Export.toFiles alone)", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const { layer } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      yield* fullExport(output)
      const error = failureOf(yield* Effect.exit(refresh(output)))
      expect(error._tag === "RefreshError" && error.reason).toBe("NoRecord")
      expect(error.message).toContain("inventory.csv.refresh.json")
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  it.effect("a full export that writes its record with writeRecord (the CLI's --orders-from path) can be refreshed", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const reference = path.join(dir, "reference.csv")
    const { layer, urls } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      // the CLI's way: list (keeping each order's entry), export the ids, then record
      const listedAt = yield* Clock.currentTimeMillis
      const listing: Array<Refresh.ListingEntry> = []
      yield* Stream.runForEach(
        OrderListing.pages({ from: "account" }),
        (page) => Effect.sync(() => listing.push(...page.orders.map(Refresh.listingEntry)))
      )
      yield* Export.toFiles(
        Stream.fromIterable(listing.map((e, i) => ({ _tag: "Id" as const, orderId: e.id as never, line: i + 1 }))),
        { output, source: SOURCE, concurrency: 4 }
      )
      yield* Refresh.writeRecord(output, { listedAt, listing })
      yield* TestClock.setTime(t1)
      urls.length = 0
      const summary = yield* refresh(output)
      expect(summary.full).toBe(false)
      expect(summary.fetched).toBe(6)
      yield* fullExport(reference)
      expectSameBytes(output, reference)
      expectSameBytes(`${output}.errors.ndjson`, `${reference}.errors.ndjson`)
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  it.effect("writeRecord refuses an export that is not complete or not from a listing", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const { layer } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const none = failureOf(yield* Effect.exit(Refresh.writeRecord(output, { listedAt: t0, listing: [] })))
      expect(none._tag === "RefreshError" && none.reason).toBe("Incomplete")
      yield* Export.toFiles(OrderListing.entries({ from: "account" }), { output, concurrency: 4 })
      const byIds = failureOf(yield* Effect.exit(Refresh.writeRecord(output, { listedAt: t0, listing: [] })))
      expect(byIds._tag === "RefreshError" && byIds.reason).toBe("Incomplete")
      expect(fs.existsSync(Refresh.recordPathFor(output))).toBe(false)
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  for (
    const [what, damage] of [
      ["edited in place (same size)", (text: string) => text.replace(/issued/, "isSued")],
      ["truncated", (text: string) => text.slice(0, text.length - 10)],
      ["replaced by a longer file", (text: string) => text + text.slice(text.indexOf("\n") + 1)]
    ] as const
  ) {
    it.effect(`never copies from an output ${what}: one line saying so, files untouched`, () => {
      const dir = tempDir()
      const output = path.join(dir, "inventory.csv")
      const { layer, urls } = stand(history)
      return Effect.gen(function*() {
        yield* TestClock.setTime(t0)
        yield* refresh(output)
        fs.writeFileSync(output, damage(fs.readFileSync(output, "utf8")))
        const damaged = fs.readFileSync(output)
        const changesBefore = fs.readFileSync(`${output}.changes.ndjson`)
        urls.length = 0
        yield* TestClock.setTime(t1)
        const error = failureOf(yield* Effect.exit(refresh(output)))
        expect(error._tag === "RefreshError" && error.reason).toBe("FileChanged")
        expect(error.message).toContain(output)
        expect(error.message).not.toContain("\n")
        expect(urls).toHaveLength(0)
        expect(fs.readFileSync(output).equals(damaged)).toBe(true)
        expect(fs.readFileSync(`${output}.changes.ndjson`).equals(changesBefore)).toBe(true)
      }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
    })
  }

  it.effect("never copies from an edited errors file", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const { layer } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      yield* refresh(output)
      fs.appendFileSync(`${output}.errors.ndjson`, "\n")
      const error = failureOf(yield* Effect.exit(refresh(output)))
      expect(error._tag === "RefreshError" && error.reason).toBe("FileChanged")
      expect(error.message).toContain("errors.ndjson")
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  it.effect("a refresh cut short before its renames leaves the earlier files; one cut short during them is completed by the next run", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const { layer } = stand(history)
    return Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      yield* refresh(output)
      const earlier = fs.readFileSync(output)
      // the API refuses the key in the middle of the refresh: nothing replaced
      yield* TestClock.setTime(t1)
      const broken = Refresh.toFiles({ output, listing: { from: "account" }, source: SOURCE }).pipe(
        Effect.provide(
          CertCentralClient.layer({
            apiKey: Redacted.make("k3y-of-the-refresh-tests-0123456789"),
            baseUrl: "http://x.test/services/v2",
            rateLimit: "off"
          }).pipe(
            Layer.provide(
              Layer.succeed(
                HttpClient.HttpClient,
                HttpClient.make((request) =>
                  Effect.succeed(
                    HttpClientResponse.fromWeb(
                      request,
                      new Response("{\"errors\":[{\"code\":\"invalid_key\",\"message\":\"no\"}]}", { status: 401 })
                    )
                  )
                )
              )
            ),
            Layer.orDie
          )
        )
      )
      expect(Exit.isFailure(yield* Effect.exit(broken))).toBe(true)
      expect(fs.readFileSync(output).equals(earlier)).toBe(true)
      // a run that wrote its temporary files and journal, renamed the checkpoint, then died: the next run completes it
      const summary = yield* refresh(output)
      const reference = fs.readFileSync(output)
      const checkpoint = fs.readFileSync(`${output}.checkpoint.json`)
      const oldCheckpoint = fs.readFileSync(`${output}.checkpoint.json`, "utf8").replace(/"rows":\d+/, "\"rows\":0")
      const journal = (from: string) =>
        JSON.stringify({
          from,
          renames: [[`${output}.checkpoint.json.refresh.tmp`, `${output}.checkpoint.json`], [
            `${output}.refresh.tmp`,
            output
          ]]
        })
      fs.writeFileSync(`${output}.refresh.tmp`, reference)
      fs.writeFileSync(output, earlier)
      fs.writeFileSync(`${output}.checkpoint.json`, checkpoint)
      fs.writeFileSync(`${output}.refresh-commit.json`, journal(createHash("sha256").update(earlier).digest("hex")))
      const again = yield* refresh(output)
      expect(fs.readFileSync(output).equals(reference)).toBe(true)
      expect(fs.existsSync(`${output}.refresh-commit.json`)).toBe(false)
      expect(fs.existsSync(`${output}.refresh.tmp`)).toBe(false)
      expect(again.changes).toEqual({ added: 0, removed: 0, changed: 0 })
      expect(summary.full).toBe(false)
      // a journal outlived by another run's files (here: the output changed since) is dropped, not rolled forward
      fs.writeFileSync(`${output}.refresh.tmp`, earlier)
      fs.writeFileSync(`${output}.checkpoint.json.refresh.tmp`, oldCheckpoint)
      fs.writeFileSync(`${output}.refresh-commit.json`, journal("0".repeat(64)))
      yield* refresh(output)
      expect(fs.readFileSync(output).equals(reference)).toBe(true)
      expect(fs.existsSync(`${output}.refresh.tmp`)).toBe(false)
      expect(fs.existsSync(`${output}.checkpoint.json.refresh.tmp`)).toBe(false)
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })

  it.effect("past 7 days it walks back with the date filter, and a change the date window leaves out is caught up to now", () => {
    const dir = tempDir()
    const output = path.join(dir, "inventory.csv")
    const start = t0
    const later = t0 + 10 * DAY
    const rejected = plain[2]!
    // pending inside the first window, back to issued after its end: that window leaves the order out, as DigiCert's does
    const h = AccountHistory.make(SEED, ids, [
      { _tag: "ReissueRejected", orderId: rejected, at: start + 7 * DAY - 90 * 60_000, pendingMillis: 2 * HOUR }
    ])
    const { layer, urls } = stand(h)
    return Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* refresh(output)
      yield* TestClock.setTime(later)
      urls.length = 0
      const summary = yield* refresh(output)
      const statusUrls = urls.filter((u) => u.pathname.endsWith("/status-changes"))
      expect(statusUrls.map((u) => u.searchParams.has("filters[status_last_updated]"))).toEqual([true, false])
      expect(statusUrls.map((u) => u.searchParams.has("minutes"))).toEqual([false, true])
      expect(summary.statusRequests).toBe(2)
      const windowAnswer = AccountHistory.statusChangesAnswer(h, statusUrls[0]!.searchParams, later)
      expect(JSON.parse(windowAnswer.body).orders).toEqual([])
      expect(lines(`${output}.changes.ndjson`)).toEqual([
        {
          change: "added",
          order_id: rejected,
          source: "reissue",
          certificate_id: AccountHistory.reissuesAt(h, rejected, later).at(-1)!.id
        }
      ])
      yield* fullExport(path.join(dir, "reference.csv"))
      expectSameBytes(output, path.join(dir, "reference.csv"))
    }).pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true }))))
  })
})

describe("Refresh.plan", () => {
  const entry = (id: number, fingerprint = "f", hasDuplicates: boolean | undefined = false): Refresh.ListingEntry => ({
    id,
    fingerprint,
    hasDuplicates
  })
  it("fetches new, changed, status-changed and failed orders, the duplicates of orders with some, and copies the rest", () => {
    const result = Refresh.plan({
      earlier: [entry(1), entry(2), entry(3), entry(4), entry(5, "f", true), entry(6), entry(7, "f", false), entry(9)],
      listing: [
        entry(1),
        entry(2, "g"),
        entry(3),
        entry(4),
        entry(5, "f", true),
        { id: 6, fingerprint: "f", hasDuplicates: undefined },
        entry(7, "f", true),
        entry(8)
      ],
      changed: [3, 42],
      failedBefore: [4]
    })
    expect(result.orders.map((p) => [p.id, p.line, p.action, p.reason])).toEqual([
      [1, 1, "copy", undefined],
      [2, 2, "fetch", "listing"],
      [3, 3, "fetch", "status"],
      [4, 4, "fetch", "failed"],
      [5, 5, "duplicates", "duplicates"],
      [6, 6, "fetch", "listing"],
      [7, 7, "fetch", "listing"],
      [8, 8, "fetch", "new"]
    ])
    expect(result.gone).toEqual([9])
  })

  it("without the duplicates endpoint, duplicates never make an order fetched; without an earlier listing everything is new", () => {
    expect(
      Refresh.plan({
        earlier: [entry(5, "f", true)],
        listing: [entry(5, "f", true)],
        changed: [],
        failedBefore: [],
        include: ["order", "reissues"]
      }).orders.map((p) => p.action)
    ).toEqual(["copy"])
    expect(
      Refresh.plan({ earlier: undefined, listing: [entry(1), entry(2)], changed: [], failedBefore: [] }).orders
        .map((p) => p.reason)
    ).toEqual(["new", "new"])
  })
})

describe("Refresh.statusWindows", () => {
  const now = Date.UTC(2024, 6, 1)
  it("one frame up to now while the earlier listing (less the margin) is within 7 days less an hour", () => {
    expect(Refresh.statusWindows(now - 2 * DAY, now)).toEqual([StatusChange.upToNow(2 * DAY + HOUR)])
    const edge = now - (7 * DAY - 2 * HOUR)
    expect(Refresh.statusWindows(edge, now)).toEqual([StatusChange.upToNow(7 * DAY - HOUR)])
  })

  it("past that, contiguous 7-day date windows from the earlier listing, then a frame up to now overlapping the last", () => {
    const since = now - 7 * DAY
    const frames = Refresh.statusWindows(since, now)
    expect(frames[0]).toEqual(StatusChange.between(since - HOUR, since - HOUR + 7 * DAY))
    expect(frames.at(-1)!._tag).toBe("UpToNow")
    const long = Refresh.statusWindows(now - 30 * DAY, now)
    const between = long.filter((f) => f._tag === "Between") as Array<{ start: number; end: number }>
    expect(between[0]!.start).toBe(now - 30 * DAY - HOUR)
    between.forEach((f, i) => {
      expect(f.end - f.start).toBeLessThanOrEqual(7 * DAY)
      if (i > 0) expect(f.start).toBe(between[i - 1]!.end)
    })
    const last = long.at(-1)!
    expect(last._tag).toBe("UpToNow")
    if (last._tag === "UpToNow") {
      expect(now - last.millis).toBeLessThanOrEqual(between.at(-1)!.end)
      expect(last.millis).toBeLessThanOrEqual(7 * DAY)
    }
    // every frame can be sent
    for (const frame of long) expect("query" in StatusChange.query(frame)).toBe(true)
  })
})
