import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"

/**
 * Splits text into lines at `\n` (without a CR before it, and without a CR that ends the text, as `Stream.splitLines`
 * does), keeping at most `keep` characters of each line: the rest of a longer line is skipped as it streams by, never
 * held.
 */
export const splitBounded = <E, R>(text: Stream.Stream<string, E, R>, keep: number): Stream.Stream<string, E, R> =>
  Stream.suspend(() => {
    let line = ""
    // whether the current line has text, kept or skipped (a last line without a line break is still a line)
    let started = false
    let cut = false
    // the characters from `from` to `to` of `text` belong to the current line: at most what it still has room for is
    // copied
    const take = (text: string, from: number, to: number) => {
      if (to > from) started = true
      const room = keep - line.length
      if (to - from > room) cut = true
      if (room > 0) line += text.slice(from, Math.min(to, from + room))
    }
    const end = () => {
      const done = !cut && line.endsWith("\r") ? line.slice(0, -1) : line
      line = ""
      started = false
      cut = false
      return done
    }
    const split = (chunk: Chunk.Chunk<string>): Chunk.Chunk<string> => {
      const lines: Array<string> = []
      for (const text of chunk) {
        let from = 0
        for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", from)) {
          take(text, from, at)
          lines.push(end())
          from = at + 1
        }
        take(text, from, text.length)
      }
      return Chunk.unsafeFromArray(lines)
    }
    return Stream.mapChunks(text, split).pipe(
      Stream.concat(Stream.suspend(() => started ? Stream.make(end()) : Stream.empty))
    )
  })
