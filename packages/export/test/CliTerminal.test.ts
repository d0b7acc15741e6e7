import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Stream } from "effect"
import * as Terminal from "../src/internal/cli/terminal.js"

describe("the CLI's stderr service", () => {
  it.effect("a captured terminal tells its width and each resize, and keeps what was written", () =>
    Effect.gen(function*() {
      const captured = yield* Terminal.capture({ columns: 80 })
      expect(captured.output.isTTY).toBe(true)
      expect(yield* captured.output.columns).toEqual(Option.some(80))
      // whenever the stream starts, it begins with the width then and ends at 100
      const widths = yield* Effect.fork(
        Stream.runCollect(Stream.takeUntil(captured.output.widths, (width) => width === 100))
      )
      yield* captured.resize(60)
      yield* captured.resize(100)
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(widths))
      expect(seen.at(-1)).toBe(100)
      expect([[80, 60, 100], [60, 100], [100]]).toContainEqual(seen)
      expect(yield* captured.output.columns).toEqual(Option.some(100))
      yield* captured.output.write("\rbar")
      yield* captured.output.line("done")
      expect(yield* captured.text).toBe("\rbardone\n")
    }))

  it.effect("a captured pipe is no TTY, has no width and no widths", () =>
    Effect.gen(function*() {
      const captured = yield* Terminal.capture()
      expect(captured.output.isTTY).toBe(false)
      expect(yield* captured.output.columns).toEqual(Option.none())
      expect(Chunk.size(yield* Stream.runCollect(Stream.take(captured.output.widths, 1)))).toBe(0)
    }))
})
