/**
 * An Effect client for DigiCert CertCentral's Services API v2: list duplicates, list reissues and subaccount order
 * info, with typed errors, retries, rolling-window rate limiting and Schema-decoded models.
 *
 * @since 0.1.0
 */

/**
 * The base URL of the Services API v2: one Schema for options, configuration and the CLI.
 *
 * @since 0.2.0
 */
export * as BaseUrl from "./BaseUrl.js"

/**
 * The client service for the list duplicates, list reissues and subaccount order info endpoints, its layers and
 * options.
 *
 * @since 0.1.0
 */
export * as CertCentralClient from "./CertCentralClient.js"

/**
 * The client's typed errors, one union.
 *
 * @since 0.1.0
 */
export * as CertCentralError from "./CertCentralError.js"

/**
 * The client's health: the 429 pause and the circuit for transient failures, one shared gate.
 *
 * @since 0.2.0
 */
export * as ClientHealth from "./ClientHealth.js"

/**
 * Schemas for DigiCert's wire encodings: numeric strings, flags, dates and timestamps.
 *
 * @since 0.1.0
 */
export * as DigiCertSchema from "./DigiCertSchema.js"

/**
 * Duplicate certificates (list duplicates).
 *
 * @since 0.1.0
 */
export * as DuplicateCertificate from "./DuplicateCertificate.js"

/**
 * Order ids: validation and parsing.
 *
 * @since 0.1.0
 */
export * as OrderId from "./OrderId.js"

/**
 * Orders as the list endpoints return them (list orders, list subaccount orders), and the pages of a listing.
 *
 * @since 0.2.0
 */
export * as OrderSummary from "./OrderSummary.js"

/**
 * Reissued certificates (list reissues).
 *
 * @since 0.1.0
 */
export * as ReissueCertificate from "./ReissueCertificate.js"

/**
 * The rolling-window rate limiter.
 *
 * @since 0.1.0
 */
export * as RollingWindowLimiter from "./RollingWindowLimiter.js"

/**
 * The status change list: orders whose status changed in a time frame, and DigiCert's MDT date filter.
 *
 * @since 0.2.0
 */
export * as StatusChange from "./StatusChange.js"

/**
 * When requests can go under rolling windows: the earliest end of N more, the least time of a plan.
 *
 * @since 0.2.0
 */
export * as WindowSchedule from "./WindowSchedule.js"

/**
 * Subaccount orders (subaccount order info).
 *
 * @since 0.1.0
 */
export * as SubaccountOrder from "./SubaccountOrder.js"
