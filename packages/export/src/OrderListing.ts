/**
 * Order ids from a listing instead of a file: every order of the account (list orders) or of its subaccounts (list
 * subaccount orders), filtered, by ascending id, as a stream that composes with `Export.rows` and `Export.toFiles`.
 *
 * @since 0.2.0
 */
import type { CertCentralError, OrderSummary } from "@certcentral/core"
import { CertCentralClient, OrderId } from "@certcentral/core"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { OutputError } from "./ExportError.js"
import { describe } from "./internal/errno.js"
import type * as OrderIds from "./OrderIds.js"

/**
 * Which endpoint lists the orders: `"account"` (list orders, `GET /order/certificate`) or `"subaccounts"` (list
 * subaccount orders, `GET /account/subaccount/order`).
 *
 * @since 0.2.0
 * @category models
 */
export type Source = "account" | "subaccounts"

/**
 * The sources, as the CLI's `--orders-from` takes them.
 *
 * @since 0.2.0
 * @category constants
 */
export const sources: ReadonlyArray<Source> = ["account", "subaccounts"]

/**
 * What to list.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly from: Source
  /** Sent as `filters[KEY]=VALUE`, values verbatim (`{ status: "issued", valid_till: ">2026-01-01" }`). */
  readonly filters?: CertCentralClient.SubaccountOrderFilters | undefined
  /** Orders per request, 1 to 1000 (default 1000). */
  readonly pageSize?: number | undefined
}

/**
 * The listing page by page, for progress: each page's orders, `page.total` and the count listed so far.
 *
 * @since 0.2.0
 * @category streams
 */
export const pages = (
  options: Options
): Stream.Stream<OrderSummary.Page, CertCentralError.CertCentralError, CertCentralClient.CertCentralClient> =>
  Stream.unwrap(
    Effect.map(CertCentralClient.CertCentralClient, (client) => {
      const list = { filters: options.filters, pageSize: options.pageSize }
      return options.from === "account" ? client.listOrderPages(list) : client.listSubaccountOrderPages(list)
    })
  )

/**
 * The listed order ids, ascending, each once. Feed them to `Export.rows`.
 *
 * @example
 * ```ts
 * import { Export, OrderListing } from "@certcentral/export"
 * import { Stream } from "effect"
 *
 * // every certificate of the subaccounts' issued orders that end before 2027
 * const rows = Export.rows(
 *   OrderListing.orderIds({ from: "subaccounts", filters: { status: "issued", valid_till: "<2027-01-01" } })
 * )
 * const count = Stream.runCount(rows)
 * ```
 *
 * @since 0.2.0
 * @category streams
 */
export const orderIds = (
  options: Options
): Stream.Stream<OrderId.OrderId, CertCentralError.CertCentralError, CertCentralClient.CertCentralClient> =>
  Stream.mapConcat(pages(options), (page) => page.orders.map((order) => order.id as OrderId.OrderId))

/**
 * The listed ids with what the listing said of each order's duplicates (`has_duplicates`, list orders only; absent
 * when unknown), ascending, each once. Feed them to `Export.rows`: an order listed without duplicates gets no
 * duplicates request.
 *
 * @since 0.2.0
 * @category streams
 */
export const orders = (
  options: Options
): Stream.Stream<OrderIds.Hinted, CertCentralError.CertCentralError, CertCentralClient.CertCentralClient> =>
  Stream.mapConcat(pages(options), (page) => page.orders.map(hinted))

const hinted = (order: OrderSummary.OrderSummary): OrderIds.Hinted =>
  order.has_duplicates === undefined ? { id: order.id } : { id: order.id, hasDuplicates: order.has_duplicates }

/**
 * The listed ids as input entries, numbered from 1 in listing order as if they were the lines of an ids file, with
 * the listing's `has_duplicates` as `hasDuplicates` when it gave one, for `Export.outcomes` and `Export.toFiles`.
 *
 * @since 0.2.0
 * @category streams
 */
export const entries = (
  options: Options
): Stream.Stream<OrderIds.Entry, CertCentralError.CertCentralError, CertCentralClient.CertCentralClient> =>
  Stream.zipWithIndex(orders(options)).pipe(
    Stream.map(([order, index]): OrderIds.Entry =>
      order.hasDuplicates === undefined
        ? { _tag: "Id", orderId: order.id as OrderId.OrderId, line: index + 1 }
        : { _tag: "Id", orderId: order.id as OrderId.OrderId, line: index + 1, hasDuplicates: order.hasDuplicates }
    )
  )

/**
 * The header of a listing file: the ids and the planner's hint, as `OrderIds` reads them back.
 *
 * @since 0.2.0
 * @category files
 */
export const fileHeader = "order_id,has_duplicates"

/**
 * One line of a listing file (see {@link fileHeader}): the id and `true`/`false`, or an empty cell when the listing did
 * not say.
 *
 * @since 0.2.0
 * @category files
 */
export const fileLine = (order: OrderSummary.OrderSummary): string =>
  `${order.id},${order.has_duplicates === undefined ? "" : String(order.has_duplicates)}\n`

/**
 * Where the CLI keeps the listing of an export: `<output>.orders.txt`.
 *
 * @since 0.2.0
 * @category files
 */
export const pathFor = (output: string): string => `${output}.orders.txt`

/**
 * What {@link toFile} wrote: the file, the ids in it, the pages (requests that succeeded) and the last `page.total`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Listed {
  readonly path: string
  readonly ids: number
  readonly pages: number
  readonly total: number
}

/**
 * Options of {@link toFile}: what to list, and a callback for each page (progress).
 *
 * @since 0.2.0
 * @category models
 */
export interface FileOptions extends Options {
  readonly onPage?: ((page: OrderSummary.Page) => Effect.Effect<void>) | undefined
}

/**
 * Writes the listed ids to a file as CSV, one order per line, ascending, under the header {@link fileHeader}: the id
 * and the listing's `has_duplicates` (`true`/`false`, empty when it did not say), so that an export of the file, and
 * its resume, plans the same requests. First to `<file>.tmp`, page by page, then synced and renamed into place (and the
 * directory synced), so that a file under that name always holds a complete listing. A listing that fails or is
 * interrupted leaves at most the temporary file; `file` is then untouched. Read it back with `OrderIds.fromFile`.
 *
 * @example
 * ```ts
 * import { OrderIds, OrderListing } from "@certcentral/export"
 * import { Effect } from "effect"
 *
 * // list once, then export the ids file as often as needed
 * const program = Effect.gen(function*() {
 *   const listed = yield* OrderListing.toFile("issued.txt", { from: "account", filters: { status: "issued" } })
 *   yield* Effect.log(`${listed.ids} orders in ${listed.pages} pages`)
 *   return OrderIds.fromFile(listed.path)
 * })
 * ```
 *
 * @since 0.2.0
 * @category files
 */
export const toFile = (
  file: string,
  options: FileOptions
): Effect.Effect<
  Listed,
  CertCentralError.CertCentralError | OutputError,
  CertCentralClient.CertCentralClient | FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const temp = `${file}.tmp`
    const failed = (what: string, target: string) => (e: unknown) =>
      new OutputError({ path: target, message: `cannot ${what} ${target}: ${describe(e)}` })
    const encoder = new TextEncoder()
    const counts = yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(temp, { flag: "w" }).pipe(Effect.mapError(failed("write", temp)))
      yield* handle.writeAll(encoder.encode(`${fileHeader}\n`)).pipe(Effect.mapError(failed("write", temp)))
      const counts = yield* Stream.runFoldEffect(
        pages(options),
        { ids: 0, pages: 0, total: 0 },
        (counts, page) =>
          Effect.gen(function*() {
            if (page.orders.length > 0) {
              const text = page.orders.map(fileLine).join("")
              yield* handle.writeAll(encoder.encode(text)).pipe(Effect.mapError(failed("write", temp)))
            }
            if (options.onPage !== undefined) yield* options.onPage(page)
            return { ids: counts.ids + page.orders.length, pages: counts.pages + 1, total: page.total }
          })
      )
      yield* handle.sync.pipe(Effect.mapError(failed("sync", temp)))
      return counts
    })).pipe(
      Effect.tap(() => fs.rename(temp, file).pipe(Effect.mapError(failed("rename into place", file)))),
      // a listing that failed, or could not be renamed into place, leaves nothing behind (one cut short by a crash
      // may leave the temporary file)
      Effect.onError(() => Effect.ignore(fs.remove(temp, { force: true })))
    )
    // some platforms cannot fsync a directory; the rename itself is still atomic
    yield* Effect.scoped(Effect.flatMap(fs.open(path.dirname(file), { flag: "r" }), (dir) => dir.sync)).pipe(
      Effect.ignore
    )
    return { path: file, ...counts }
  })

/**
 * Parses `--filter key=value` arguments into filters: the key before the first `=`, the value after it verbatim
 * (`valid_till=>2026-01-01` keeps `>2026-01-01`). A repeated key, an empty key or value, or a key that is not a
 * plain property name is an error message.
 *
 * @example
 * ```ts
 * import { OrderListing } from "@certcentral/export"
 * import { Either } from "effect"
 *
 * assert.deepStrictEqual(
 *   OrderListing.parseFilters(["status=issued", "valid_till=>2026-01-01"]),
 *   Either.right({ status: "issued", valid_till: ">2026-01-01" })
 * )
 * assert.ok(Either.isLeft(OrderListing.parseFilters(["status"])))
 * ```
 *
 * @since 0.2.0
 * @category parsing
 */
export const parseFilters = (
  args: ReadonlyArray<string>
): Either.Either<Record<string, string>, string> => {
  const filters: Record<string, string> = {}
  for (const arg of args) {
    const eq = arg.indexOf("=")
    const key = eq === -1 ? arg : arg.slice(0, eq)
    const value = eq === -1 ? "" : arg.slice(eq + 1)
    if (eq === -1 || !/^[A-Za-z0-9_.]{1,64}$/.test(key) || value === "") {
      return Either.left(
        `--filter takes key=value with a property name as key, got ${JSON.stringify(arg.slice(0, 80))}`
      )
    }
    if (Object.hasOwn(filters, key)) return Either.left(`--filter ${key} is given twice`)
    filters[key] = value
  }
  return Either.right(filters)
}
