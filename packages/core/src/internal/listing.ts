import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Api from "../CertCentralClient.js"
import * as Errors from "../CertCentralError.js"
import * as OrderSummary from "../OrderSummary.js"

/** The largest page DigiCert's list endpoints serve, and the default. */
export const MAX_PAGE_SIZE = 1000

/** What the listing needs from the client: one GET through its limiter, pause, retries and error mapping. */
export type Request = <A>(request: {
  readonly endpoint: Errors.Endpoint
  readonly path: string
  readonly query: Record<string, string>
  readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>
}) => Effect.Effect<A, Errors.CertCentralError>

type ListEndpoint = "listOrders" | "listSubaccountOrders"

const FILTER_NAME = /^[A-Za-z0-9_.]{1,64}$/

const invalid = (endpoint: ListEndpoint, option: string, message: string) =>
  new Errors.InvalidListOptionsError({ endpoint, option, message })

/** `filters[KEY]=VALUE` for every filter with a value, values verbatim (operators such as `>2026-01-01` included). */
export const query = (
  endpoint: ListEndpoint,
  options: Api.ListOrdersOptions | undefined
): Either.Either<
  { readonly limit: number; readonly filters: Record<string, string> },
  Errors.InvalidListOptionsError
> => {
  const limit = options?.pageSize ?? MAX_PAGE_SIZE
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    return Either.left(
      invalid(endpoint, "pageSize", `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${String(limit)}`)
    )
  }
  const filters: Record<string, string> = {}
  for (const [key, value] of Object.entries(options?.filters ?? {})) {
    if (value === undefined) continue
    if (!FILTER_NAME.test(key)) {
      return Either.left(
        invalid(endpoint, "filters", `filter names are letters, digits, "_" and ".", got ${JSON.stringify(key)}`)
      )
    }
    if (typeof value !== "string") {
      return Either.left(invalid(endpoint, "filters", `filter ${key} must be a string`))
    }
    filters[`filters[${key}]`] = value
  }
  return Either.right({ limit, filters })
}

interface State {
  readonly index: number
  readonly offset: number
  readonly lastId: number
  readonly listed: number
}

const decodeList = Schema.decodeUnknownEither(OrderSummary.OrderList)

/**
 * Pages through a list endpoint sorted by ascending id, `offset` advancing by the orders each page returned, until
 * `offset + count >= total` or a page comes back empty. Ids at or below the highest id already listed are dropped:
 * an order placed (or a filter match gained) during the listing shifts later pages by one, and sorting by id turns
 * that shift into a repeat, never a gap, for every order that existed when the listing began.
 */
export const pages = (
  request: Request,
  endpoint: ListEndpoint,
  path: string,
  options: Api.ListOrdersOptions | undefined
): Stream.Stream<OrderSummary.Page, Errors.CertCentralError> =>
  Either.match(query(endpoint, options), {
    onLeft: (error) => Stream.fail(error),
    onRight: ({ filters, limit }) =>
      Stream.paginateEffect(
        { index: 0, offset: 0, lastId: 0, listed: 0 } as State,
        (state): Effect.Effect<readonly [OrderSummary.Page, Option.Option<State>], Errors.CertCentralError> =>
          Effect.map(
            request({
              endpoint,
              path,
              query: { ...filters, sort: "id", offset: String(state.offset), limit: String(limit) },
              decode: decodeList
            }),
            ({ orders, page }) => {
              const fresh = orders.filter((order) => order.id > state.lastId).sort((a, b) => a.id - b.id)
              const listed = state.listed + fresh.length
              const next = state.offset + orders.length
              const last = orders.length === 0 || next >= page.total
              return [
                { orders: fresh, index: state.index, offset: state.offset, limit, total: page.total, listed, last },
                last ? Option.none() : Option.some({
                  index: state.index + 1,
                  offset: next,
                  lastId: fresh.length > 0 ? fresh[fresh.length - 1]!.id : state.lastId,
                  listed
                })
              ] as const
            }
          )
      )
  })

/** The four list methods of the service, over the client's one request seam. */
export const make = (request: Request) => ({
  listOrderPages: (options?: Api.ListOrdersOptions) => pages(request, "listOrders", "/order/certificate", options),
  listOrders: (options?: Api.ListOrdersOptions) =>
    Stream.flattenIterables(
      Stream.map(pages(request, "listOrders", "/order/certificate", options), (page) => page.orders)
    ),
  listSubaccountOrderPages: (options?: Api.ListSubaccountOrdersOptions) =>
    pages(request, "listSubaccountOrders", "/account/subaccount/order", options),
  listSubaccountOrders: (options?: Api.ListSubaccountOrdersOptions) =>
    Stream.flattenIterables(
      Stream.map(
        pages(request, "listSubaccountOrders", "/account/subaccount/order", options),
        (page) => page.orders
      )
    )
})
