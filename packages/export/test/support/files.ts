import * as fs from "node:fs"

/**
 * Where two files first differ, or `undefined` when they are byte-identical. (Comparing large Buffers with
 * `toEqual` makes vitest render a diff byte by byte, which takes minutes.)
 */
export const firstDifference = (actualPath: string, expectedPath: string): string | undefined => {
  const actual = fs.readFileSync(actualPath)
  const expected = fs.readFileSync(expectedPath)
  if (actual.equals(expected)) return undefined
  let at = 0
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++
  const line = actual.subarray(0, at).toString("utf8").split("\n").length
  const show = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, at - 40), at + 80).toString("utf8"))
  return `${actualPath} (${actual.length} bytes) differs from ${expectedPath} (${expected.length} bytes) at byte ${at}, line ${line}: ${
    show(actual)
  } vs ${show(expected)}`
}

/** Fails with the first difference unless the two files are byte-identical. */
export const expectSameBytes = (actualPath: string, expectedPath: string): void => {
  const difference = firstDifference(actualPath, expectedPath)
  if (difference !== undefined) throw new Error(difference)
}
