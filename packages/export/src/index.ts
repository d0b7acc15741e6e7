/**
 * Turns DigiCert CertCentral order ids into one stream of certificate rows (the order's certificate, its duplicates
 * and its reissues) and writes them as CSV or NDJSON, with progress, an errors file and resume.
 *
 * @since 0.1.0
 */

/**
 * The row of the export: columns, Schema and how it is built from an order's endpoints.
 *
 * @since 0.1.0
 */
export * as CertificateRow from "./CertificateRow.js"

/**
 * Order ids from files, stdin or lists: header detection, de-duplication, bad lines with line numbers.
 *
 * @since 0.1.0
 */
export * as OrderIds from "./OrderIds.js"

/**
 * Order ids from a listing (list orders, list subaccount orders) instead of a file, filtered.
 *
 * @since 0.2.0
 */
export * as OrderListing from "./OrderListing.js"

/**
 * `--refresh` as a library function: bring a complete export made from a listing up to date, fetching only what can
 * have changed, with `<output>.changes.ndjson`.
 *
 * @since 0.2.0
 */
export * as Refresh from "./Refresh.js"

/**
 * CSV and NDJSON encoders for rows, chunk by chunk.
 *
 * @since 0.1.0
 */
export * as RowEncoder from "./RowEncoder.js"

/**
 * Lines of the errors file: failed orders and bad input lines.
 *
 * @since 0.1.0
 */
export * as ErrorRecord from "./ErrorRecord.js"

/**
 * The middle stage: input entries to outcomes (each order's rows or its error), the only module that calls CertCentral.
 *
 * @since 0.2.0
 */
export * as Outcomes from "./Outcomes.js"

/**
 * The last stage: a Sink of outcomes into the output, the errors file and the checkpoint, on the platform's FileSystem.
 *
 * @since 0.2.0
 */
export * as ExportSink from "./ExportSink.js"

/**
 * One export per output: the `<output>.lock` an export holds while it writes.
 *
 * @since 0.2.0
 */
export * as OutputLock from "./OutputLock.js"

/**
 * The pipeline: order ids to outcomes and rows, and to files with resume.
 *
 * @since 0.1.0
 */
export * as Export from "./Export.js"

/**
 * Errors of writing an export to files and of resuming it.
 *
 * @since 0.1.0
 */
export * as ExportError from "./ExportError.js"

/**
 * The checkpoint next to the output that makes `--resume` byte-identical.
 *
 * @since 0.1.0
 */
export * as Checkpoint from "./Checkpoint.js"

/**
 * Progress snapshots of an export and their text renderings.
 *
 * @since 0.1.0
 */
export * as Progress from "./Progress.js"

/**
 * The live progress line fitted to a terminal's width, and its redraw.
 *
 * @since 0.2.0
 */
export * as ProgressLine from "./ProgressLine.js"

/**
 * The plan of an export before any per-order request: orders, requests by endpoint, the least time the windows allow.
 *
 * @since 0.2.0
 */
export * as Plan from "./Plan.js"

/**
 * The `certcentral-export` command line.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
