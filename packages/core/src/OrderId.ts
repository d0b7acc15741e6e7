/**
 * Order ids: positive safe integers, checked before any request so that nothing else can reach a URL path.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"

/**
 * A CertCentral order id: an integer from 1 to 2^53 − 1.
 *
 * @since 0.1.0
 * @category models
 */
export const OrderId = Schema.Int.pipe(
  Schema.positive(),
  Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER),
  Schema.brand("OrderId")
).annotations({ identifier: "OrderId", description: "a positive safe integer" })

/**
 * A validated order id (a branded number).
 *
 * @since 0.1.0
 * @category models
 */
export type OrderId = typeof OrderId.Type

/**
 * Tells whether a value is a valid order id.
 *
 * @since 0.1.0
 * @category guards
 */
export const isOrderId = (u: unknown): u is OrderId => typeof u === "number" && Number.isSafeInteger(u) && u > 0

/**
 * Parses an order id from text as people write it in files: digits only, surrounding spaces allowed. Signs,
 * exponents, decimals, separators, path characters and values above 2^53 − 1 are rejected.
 *
 * @example
 * ```ts
 * import { OrderId } from "@certcentral/core"
 * import { Either } from "effect"
 *
 * assert.deepStrictEqual(OrderId.parse(" 12345 "), Either.right(12345))
 * assert.ok(Either.isLeft(OrderId.parse("12345/../1")))
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string): Either.Either<OrderId, string> => {
  const trimmed = text.trim()
  if (!/^\d{1,16}$/.test(trimmed)) {
    return Either.left(`not an order id (expected digits only): ${JSON.stringify(text.slice(0, 80))}`)
  }
  const n = Number(trimmed)
  return isOrderId(n)
    ? Either.right(n)
    : Either.left(`not an order id (expected 1 to ${Number.MAX_SAFE_INTEGER}): ${trimmed}`)
}
