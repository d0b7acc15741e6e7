/**
 * Encoders from rows to text, chunk by chunk: CSV (papaparse, RFC 4180, formula-safe) and NDJSON.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import Papa from "papaparse"
import * as CertificateRow from "./CertificateRow.js"

/**
 * The output formats.
 *
 * @since 0.1.0
 * @category models
 */
export const Format = Schema.Literal("csv", "ndjson")

/**
 * The type of an output format: `"csv"` or `"ndjson"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Format = typeof Format.Type

/**
 * Turns rows into text. `header` is written once at the start of a file; `encode` turns a chunk of rows into text
 * that ends with a line break (or is empty), so chunks can be appended one after the other.
 *
 * @since 0.1.0
 * @category models
 */
export interface RowEncoder {
  readonly format: Format
  readonly header: string
  readonly encode: (rows: ReadonlyArray<CertificateRow.CertificateRow>) => string
}

/**
 * Text cells starting with one of these could start a formula in a spreadsheet. A RegExp, because papaparse's own
 * `escapeFormulae: true` pattern misses values that contain a newline.
 *
 * @since 0.1.0
 * @category constants
 */
export const formulaStart: RegExp = /^[=+\-@\t\r]/

const NEWLINE = "\r\n"

type Cell = string | number | boolean | null

const csvCell = (value: CertificateRow.CertificateRow[CertificateRow.Column]): Cell =>
  Array.isArray(value) ? value.join(";") : value as Cell

/**
 * CSV: a header line with the contract's columns, CRLF line ends, RFC 4180 quoting, lists joined with `;`, missing
 * values empty. Text cells starting with `=`, `+`, `-`, `@`, tab or CR are prefixed with `'`; numbers and booleans
 * are written as they are (a negative `days_remaining` stays `-5`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const csv: RowEncoder = {
  format: "csv",
  header: CertificateRow.columns.join(",") + NEWLINE,
  encode: (rows) => {
    if (rows.length === 0) return ""
    const data = rows.map((row) => CertificateRow.columns.map((column) => csvCell(row[column])))
    return Papa.unparse(data, { header: false, newline: NEWLINE, escapeFormulae: formulaStart }) + NEWLINE
  }
}

const encodeRow = Schema.encodeSync(CertificateRow.CertificateRow)

/**
 * NDJSON: one JSON object per line with every column as a key in the contract's order; missing values `null`, lists
 * arrays, numbers numbers, booleans `true`/`false`. No header.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ndjson: RowEncoder = {
  format: "ndjson",
  header: "",
  encode: (rows) => {
    let text = ""
    for (const row of rows) text += JSON.stringify(encodeRow(row)) + "\n"
    return text
  }
}

/**
 * The encoder of a format.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (format: Format): RowEncoder => format === "csv" ? csv : ndjson

/**
 * The format an output path implies: `.ndjson` and `.jsonl` give NDJSON, anything else CSV.
 *
 * @since 0.1.0
 * @category constructors
 */
export const formatFromPath = (path: string): Format => /\.(ndjson|jsonl)$/i.test(path) ? "ndjson" : "csv"
