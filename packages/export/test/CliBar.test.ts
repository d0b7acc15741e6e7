/**
 * The live bar through the whole CLI (in this process, against the in-memory stand-in under DigiCert's windows, on the
 * test clock) on a captured terminal of 40, 80 and 200 columns, and across a resize: no line it draws is wider than the
 * terminal, and the summary gives the requests per order and the share of the windows used.
 */
import { Account } from "@certcentral/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type * as Terminal from "../src/internal/cli/terminal.js"
import * as StandInRun from "./support/standIn.js"

const SEED = 7
// 211 requests (below) under 100 per 5 s: about 10 s of the test clock, some 50 redraws at one every 200 ms
const account = Account.withDuplicates(SEED, 100, 0.1)

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*[A-Za-z]/g

/** What the terminal shows as lines: split on CR and LF, escapes removed, empty pieces dropped. */
const pieces = (text: string) => text.replace(ansi, "").split(/[\r\n]/).filter((piece) => piece !== "")

const isSummary = (piece: string) => piece.startsWith("Done")

const args = (dir: string) => ["--orders-from", "account", "--output", path.join(dir, "out.csv")]

const expectSummary = (text: string) => {
  const summary = pieces(text).filter(isSummary)
  expect(summary).toHaveLength(1)
  // 1 list page + 100 order + 10 duplicates + 100 reissues over 100 orders
  expect(summary[0]).toContain("211 requests (2.11 per order, ")
  expect(summary[0]).toMatch(/, \d+% of the rate limits \(100\/5s,1000\/3m\) used\)/)
}

describe("the live bar through the CLI", () => {
  for (const columns of [40, 80, 200]) {
    it.effect(`on a ${columns}-column terminal no line is wider than the terminal`, () =>
      Effect.gen(function*() {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-bar-"))
        const api = yield* StandInRun.api({ seed: SEED, account })
        const result = yield* StandInRun.run(api, args(dir), { columns })
        expect(result.exitCode).toBe(0)
        const live = pieces(result.stderrText).filter((piece) => !isSummary(piece))
        // redrawn many times over the run's 10 s (one every 200 ms), each time in place
        expect(live.filter((piece) => piece.includes("ETA")).length).toBeGreaterThan(20)
        for (const piece of live) expect(piece.length, piece).toBeLessThan(columns)
        expectSummary(result.stderrText)
      }))
  }

  it.effect("after a resize from 200 to 40 columns every redraw fits the new width", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-bar-"))
      const api = yield* StandInRun.api({ seed: SEED, account })
      let captured: Terminal.Captured | undefined
      let before = -1
      // 3 s into the run (of about 10 s under 100 per 5 s), on the test clock
      yield* Effect.fork(
        Effect.sleep("3 seconds").pipe(
          Effect.zipRight(Effect.suspend(() => captured!.text)),
          Effect.tap((text) => Effect.sync(() => (before = text.length))),
          Effect.zipRight(Effect.suspend(() => captured!.resize(40)))
        )
      )
      const result = yield* StandInRun.run(api, args(dir), {
        columns: 200,
        onStderr: (c) => {
          captured = c
        }
      })
      expect(result.exitCode).toBe(0)
      expect(before).toBeGreaterThan(0)
      const wide = pieces(result.stderrText.slice(0, before))
      const narrow = pieces(result.stderrText.slice(before)).filter((piece) => !isSummary(piece))
      // the wide lines did not fit 40 columns: the resize is what made the later ones narrow
      expect(wide.some((piece) => piece.length >= 40)).toBe(true)
      expect(narrow.filter((piece) => piece.includes("ETA")).length).toBeGreaterThan(20)
      for (const piece of narrow) expect(piece.length, piece).toBeLessThan(40)
      // the first redraw after the resize erases the rows the wide line wraps onto at 40 columns
      expect(result.stderrText.slice(before)).toContain("\u001b[1A\u001b[2K")
      expectSummary(result.stderrText)
    }))
})
