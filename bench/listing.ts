/**
 * Requests per order for `--orders-from`: the CLI lists every order of a testkit account (list orders, 1000 per page)
 * and exports them, limits off. The testkit counts the requests per route; the listing should add about one request
 * per 1000 orders to the export's three per order.
 */
import type { Row } from "./harness.js"
import { check, cliScript, outputFile, round, runNode, startServer } from "./harness.js"

export interface Options {
  readonly orders: number
  readonly concurrency: number
}

export const defaults: Options = { orders: 5000, concurrency: 16 }

export const run = async (o: Options = defaults) => {
  const server = await startServer({ rateLimit: "off", account: o.orders })
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
      requests: stats.requests,
      listRequests,
      byRoute: stats.byRoute,
      requestsPerOrder: perOrder,
      listRequestsPerThousandOrders: (listRequests / o.orders) * 1000,
      wallMillis: result.wallMillis
    }
    console.log(
      `  ${o.orders} orders listed and exported: ${stats.requests} requests (${listRequests} list pages), ` +
        `${round(perOrder, 4)} per order, in ${round(result.wallMillis)} ms`
    )
    const rows: ReadonlyArray<Row> = [{
      benchmark: "listing + export",
      metric: `requests per order (${o.orders} orders, --orders-from account)`,
      value: `${round(perOrder, 4)} (${listRequests} list pages)`,
      goal: "3 + about 1/1000",
      met: listRequests === Math.ceil(o.orders / 1000) && stats.requests === 3 * o.orders + listRequests
    }]
    return { results, rows }
  } finally {
    await server.close()
  }
}
