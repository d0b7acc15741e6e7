/**
 * Requests per order for `--orders-from`: the CLI lists every order of a testkit account (list orders, 1000 per page)
 * and exports them, limits off. The account holds one order in ten with duplicates (`Account.withDuplicates`); list
 * orders says `has_duplicates`, so the planner asks only those for their duplicates: 2 requests per order, plus one
 * in ten, plus one list page per 1000 orders (2.101; 3.001 before the planner). The testkit counts the requests per
 * route.
 */
import { Account } from "@certcentral/testkit"
import type { Row } from "./harness.js"
import { check, cliScript, outputFile, round, runNode, startServer } from "./harness.js"

export interface Options {
  readonly orders: number
  /** The share of orders with duplicates. */
  readonly withDuplicates: number
  readonly concurrency: number
}

export const defaults: Options = { orders: 3000, withDuplicates: 0.1, concurrency: 16 }

/** The most requests per order allowed with one order in ten with duplicates, list pages included (issue 26). */
export const goal = 2.2

const SEED = 1

export const run = async (o: Options = defaults) => {
  const account = Account.withDuplicates(SEED, o.orders, o.withDuplicates)
  const duplicated = account.filter((id) => Account.hasDuplicates(SEED, id)).length
  const server = await startServer({ seed: SEED, rateLimit: "off", account })
  try {
    const output = outputFile("listing.csv")
    const result = await runNode(cliScript, [
      "--orders-from",
      "account",
      "--output",
      output,
      "--rate-limit",
      "off",
      "--concurrency",
      String(o.concurrency),
      "--base-url",
      server.baseUrl
    ], { env: { DIGICERT_API_KEY: server.apiKey }, output })
    check("CLI --orders-from", result)
    const { stats } = await server.stats()
    const listRequests = stats.byRoute.listOrders
    const perOrder = stats.requests / o.orders
    const results = {
      orders: o.orders,
      withDuplicates: duplicated,
      requests: stats.requests,
      listRequests,
      byRoute: stats.byRoute,
      requestsPerOrder: perOrder,
      listRequestsPerThousandOrders: (listRequests / o.orders) * 1000,
      wallMillis: result.wallMillis
    }
    console.log(
      `  ${o.orders} orders (${duplicated} with duplicates) listed and exported: ${stats.requests} requests ` +
        `(${listRequests} list pages, ${stats.byRoute.duplicates} duplicates), ` +
        `${round(perOrder, 4)} per order, in ${round(result.wallMillis)} ms`
    )
    const rows: ReadonlyArray<Row> = [{
      benchmark: "listing + export",
      metric: `requests per order (${o.orders} orders, ${duplicated} with duplicates, --orders-from account)`,
      value: `${round(perOrder, 4)} (${listRequests} list pages)`,
      goal: `<= ${goal}`,
      met: perOrder <= goal && listRequests === Math.ceil(o.orders / 1000) &&
        stats.requests === 2 * o.orders + duplicated + listRequests
    }]
    return { results, rows }
  } finally {
    await server.close()
  }
}
