/**
 * A DigiCert CertCentral stand-in HTTP server for tests, examples and benchmarks: the three endpoints, the API key
 * check, rolling-window 429s, deterministic data and fault injection.
 *
 * @since 0.1.0
 */

/**
 * The stand-in server: `TestServer.layer(options)`, `TestServer.start(options)`, options, counters.
 *
 * @since 0.1.0
 */
export * as TestServer from "./TestServer.js"

/**
 * The stand-in in memory: an `HttpClient` layer on the Effect clock, and its control (`StandIn.layer(options)`).
 *
 * @since 0.3.0
 */
export * as StandIn from "./StandIn.js"

/**
 * The orders the list endpoints list, and how they filter, sort and page them.
 *
 * @since 0.2.0
 */
export * as Account from "./Account.js"

/**
 * An account that changes over time (orders revoked, reissued, duplicated, placed, gone, failing), every endpoint
 * answered as of a moment: for rehearsing a refresh.
 *
 * @since 0.2.0
 */
export * as AccountHistory from "./AccountHistory.js"

/**
 * Fault kinds, probabilistic fault options and per-order fault queues.
 *
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"

/**
 * Orders that always answer an error (`notFound`, `missingPermission`, any status and code).
 *
 * @since 0.1.0
 */
export * as OrderScript from "./OrderScript.js"

/**
 * Deterministic order data for any id, as the docs shape it.
 *
 * @since 0.1.0
 */
export * as OrderData from "./OrderData.js"

/**
 * Rolling-window limiter and the `N/DURATION` rate-limit spec.
 *
 * @since 0.1.0
 */
export * as RateLimit from "./RateLimit.js"

/**
 * The documented sample responses, verbatim, and the order ids that serve them.
 *
 * @since 0.1.0
 */
export * as Samples from "./Samples.js"
