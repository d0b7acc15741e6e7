/** What changed between the earlier rows of an order and its new ones: the lines of `<output>.changes.ndjson`. */
import type { DuplicateCertificate } from "@certcentral/core"
import type * as RowText from "../rowText.js"

/** The contract's one row per certificate: no row for an echo of the order's own certificate or a repeated entry. */
export const foldDuplicates = (
  duplicates: ReadonlyArray<DuplicateCertificate.DuplicateCertificate>,
  primaryId: number | null
) => {
  const seen = new Set<number>()
  return duplicates.filter((d) => {
    if (d.id === primaryId || seen.has(d.id)) return false
    seen.add(d.id)
    return true
  })
}

export interface ChangeCounts {
  added: number
  removed: number
  changed: number
}

const changeLine = (change: "added" | "removed" | "changed", row: RowText.RowText): string =>
  JSON.stringify({ change, order_id: row.orderId, source: row.source, certificate_id: row.certificateId }) + "\n"

const keyOf = (row: RowText.RowText) => `${row.source} ${row.certificateId}`

/** The changes of one order: its new rows against its earlier ones, added and changed in new order, then removed. */
export const orderChanges = (
  before: ReadonlyArray<RowText.RowText>,
  after: ReadonlyArray<RowText.RowText>,
  counts: ChangeCounts
): string => {
  const earlier = new Map<string, RowText.RowText>()
  for (const row of before) if (!earlier.has(keyOf(row))) earlier.set(keyOf(row), row)
  const now = new Set<string>()
  let text = ""
  for (const row of after) {
    const key = keyOf(row)
    if (now.has(key)) continue
    now.add(key)
    const old = earlier.get(key)
    if (old === undefined) {
      counts.added++
      text += changeLine("added", row)
    } else if (old.text !== row.text) {
      counts.changed++
      text += changeLine("changed", row)
    }
  }
  for (const [key, row] of earlier) {
    if (!now.has(key)) {
      counts.removed++
      text += changeLine("removed", row)
    }
  }
  return text
}
