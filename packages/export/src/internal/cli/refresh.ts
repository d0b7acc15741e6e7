/** `--refresh` on the command line: which flags it refuses, and its one-line summary. */
import * as Option from "effect/Option"
import type * as Refresh from "../../Refresh.js"
import type { Flags } from "./flags.js"

/** Why the flags cannot refresh, as one line; `undefined` when they can. */
export const refusal = (flags: Pick<Flags, "orders" | "ordersFrom" | "resume">): string | undefined =>
  Option.isSome(flags.orders)
    ? "--refresh works with --orders-from only: an ids file has no listing to compare (run a full export of it)"
    : Option.isNone(flags.ordersFrom)
    ? "--refresh needs --orders-from account|subaccounts (and the flags of the earlier export)"
    : flags.resume
    ? "--refresh and --resume do not go together: an interrupted refresh is run again with the same command"
    : undefined

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

/** The summary of a refresh: orders fetched, copied and gone, and the certificate rows added, removed and changed. */
export const summaryLine = (summary: Refresh.Summary, output: string): string => {
  const c = summary.changes
  const failures = summary.failed > 0 ? `, ${plural(summary.failed, "order")} failed (see ${summary.errors})` : ""
  if (summary.full) {
    return `No earlier export to refresh at ${output} (or it was older than --max-age): exported all ` +
      `${plural(summary.listed, "listed order")}, ${plural(summary.rows, "row")}${failures}`
  }
  return `Refreshed ${output}: ${plural(summary.listed, "listed order")}, ${summary.fetched} fetched, ` +
    `${summary.duplicatesOnly} duplicates lists, ${summary.copied} copied, ${summary.gone} gone ` +
    `(${plural(summary.statusRequests, "status change request")}); ${plural(c.added, "row")} added, ` +
    `${c.removed} removed, ${c.changed} changed (${summary.changesFile})${failures}`
}
