/**
 * The rows of a written export as text: split back into records (CSV with quoted line breaks, or NDJSON lines), each
 * with the identity the changes file uses, and spliced by cell so that copied rows keep their exact bytes.
 */
import * as CertificateRow from "../CertificateRow.js"
import type * as RowEncoder from "../RowEncoder.js"

/** One written row: its exact text (line end included) and its identity. */
export interface RowText {
  readonly text: string
  readonly orderId: number
  readonly source: CertificateRow.Source
  readonly certificateId: number | null
}

/** The columns an order's rows share: the order's, repeated on every row. */
export const orderColumns: ReadonlyArray<CertificateRow.Column> = [
  "order_status",
  "order_date_created",
  "order_date_issued",
  "order_valid_from",
  "order_valid_till",
  "validity_years",
  "is_multi_year_plan",
  "product_name_id",
  "product_name",
  "product_type",
  "order_cost",
  "order_currency",
  "organization_id",
  "organization_name",
  "organization_display_name",
  "organization_units",
  "subaccount_id",
  "subaccount_type",
  "subaccount_organization_name"
]

const orderColumnIndexes = new Set(orderColumns.map((c) => CertificateRow.columns.indexOf(c)))
const sources: ReadonlyArray<string> = CertificateRow.Source.literals

/** CSV records (CRLF outside quotes ends one), each with its cells' raw text (quotes kept). */
const csvRecords = (text: string): Array<{ readonly text: string; readonly cells: Array<string> }> => {
  const out: Array<{ text: string; cells: Array<string> }> = []
  let start = 0
  let cellStart = 0
  let cells: Array<string> = []
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (quoted) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++
        else quoted = false
      }
    } else if (c === 34) quoted = true
    else if (c === 44) {
      cells.push(text.slice(cellStart, i))
      cellStart = i + 1
    } else if (c === 13 && text.charCodeAt(i + 1) === 10) {
      cells.push(text.slice(cellStart, i))
      out.push({ text: text.slice(start, i + 2), cells })
      i++
      start = cellStart = i + 1
      cells = []
    }
  }
  if (start < text.length) throw new Error("the last row has no line end")
  return out
}

const identity = (orderId: unknown, source: unknown, certificateId: unknown) => {
  if (typeof orderId !== "number" || !Number.isSafeInteger(orderId) || orderId < 1) throw new Error("bad order_id")
  if (typeof source !== "string" || !sources.includes(source)) throw new Error("bad source")
  if (certificateId !== null && (typeof certificateId !== "number" || !Number.isSafeInteger(certificateId))) {
    throw new Error("bad certificate_id")
  }
  return { orderId, source: source as CertificateRow.Source, certificateId }
}

const cellNumber = (cell: string): number | null => {
  if (cell === "") return null
  if (!/^-?\d{1,16}$/.test(cell)) return Number.NaN
  return Number(cell)
}

/**
 * The rows of an output file's text, in file order; throws (with a short reason) on text a writer of this format
 * could not have produced: no header, a cut-off last row, a row without its identity.
 */
export const parse = (format: RowEncoder.Format, header: string, text: string): Array<RowText> => {
  if (!text.startsWith(header)) throw new Error("the header is not the export's")
  const body = text.slice(header.length)
  if (format === "csv") {
    return csvRecords(body).map((record) => {
      if (record.cells.length !== CertificateRow.columns.length) throw new Error("a row has the wrong number of cells")
      return {
        text: record.text,
        ...identity(cellNumber(record.cells[0]!), record.cells[1], cellNumber(record.cells[2]!))
      }
    })
  }
  if (body !== "" && !body.endsWith("\n")) throw new Error("the last row has no line end")
  const lines = body === "" ? [] : body.slice(0, -1).split("\n")
  return lines.map((line) => {
    const row = JSON.parse(line) as Record<string, unknown>
    return { text: line + "\n", ...identity(row.order_id, row.source, row.certificate_id) }
  })
}

/** A fresh row's text with the order columns taken from another row of the same order (its `order` row). */
export const withOrderColumnsOf = (format: RowEncoder.Format, row: string, orderRow: string): string => {
  if (format === "csv") {
    const [fresh] = csvRecords(row)
    const [order] = csvRecords(orderRow)
    const cells = fresh!.cells.map((cell, i) => orderColumnIndexes.has(i) ? order!.cells[i]! : cell)
    return cells.join(",") + "\r\n"
  }
  const fresh = JSON.parse(row) as Record<string, unknown>
  const order = JSON.parse(orderRow) as Record<string, unknown>
  for (const column of orderColumns) fresh[column] = order[column]
  return JSON.stringify(fresh) + "\n"
}
