/**
 * Scripted orders: an order that always answers an error on some or all endpoints, e.g. one that does not exist or
 * one the key may not read.
 *
 * @since 0.1.0
 */
import type { Endpoint } from "./OrderData.js"

/**
 * An error answer with DigiCert's body `{"errors":[{"code","message"}]}`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorResponse {
  readonly status: number
  readonly code: string
  readonly message?: string
  /** `Retry-After` seconds, if the answer should carry one. */
  readonly retryAfter?: number
}

/**
 * What an order answers: `all` applies to every endpoint unless the endpoint has its own entry.
 *
 * @since 0.1.0
 * @category models
 */
export type Behaviour = { readonly all?: ErrorResponse } & { readonly [E in Endpoint]?: ErrorResponse }

/**
 * The order does not exist: 404 `not_found|order` on all three endpoints.
 *
 * @since 0.1.0
 * @category constructors
 */
export const notFound: Behaviour = { all: { status: 404, code: "not_found|order", message: "Order not found." } }

/**
 * The key may not read this subaccount order: 403 `access_denied|missing_permission` on the subaccount endpoint.
 *
 * @since 0.1.0
 * @category constructors
 */
export const missingPermission: Behaviour = {
  subaccountOrder: {
    status: 403,
    code: "access_denied|missing_permission",
    message: "You do not have permission to perform this action."
  }
}

/**
 * Any status and code on one endpoint (or all of them).
 *
 * @since 0.1.0
 * @category constructors
 */
export const answer = (endpoint: Endpoint | "all", response: ErrorResponse): Behaviour =>
  endpoint === "all" ? { all: response } : { [endpoint]: response }

/**
 * The scripted answer for one endpoint, if any.
 *
 * @since 0.1.0
 * @category accessors
 */
export const forEndpoint = (behaviour: Behaviour, endpoint: Endpoint): ErrorResponse | undefined =>
  behaviour[endpoint] ?? behaviour.all
