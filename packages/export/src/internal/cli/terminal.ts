/**
 * What the CLI writes to and reads from besides files: stderr (progress, warnings, one-line messages) and stdin
 * (`--orders -`). The executable provides the process's; a test provides captured ones (see `capture`).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as OrderIds from "../../OrderIds.js"

/** stderr as the CLI uses it. */
export interface Output {
  /** Writes text as it is (a progress bar redraws its line with `\r`). */
  readonly write: (text: string) => Effect.Effect<void>
  /** Writes one line; the newline is added. */
  readonly line: (text: string) => Effect.Effect<void>
  /** Whether stderr is a terminal (a bar redrawn in place) or not (a line every few seconds). */
  readonly isTTY: boolean
  /** The terminal's width in columns, when stderr is a terminal that tells. */
  readonly columns: Effect.Effect<Option.Option<number>>
  /** Each new width after the terminal was resized (nothing when stderr is not a terminal). */
  readonly resizes: Stream.Stream<number>
}

/** The CLI's stderr. */
export class CliOutput extends Context.Tag("@certcentral/export/CliOutput")<CliOutput, Output>() {}

/** The CLI's stdin, as order ids (read only for `--orders -`). */
export class CliStdin extends Context.Tag("@certcentral/export/CliStdin")<
  CliStdin,
  Stream.Stream<OrderIds.Entry, OrderIds.ReadError>
>() {}

/** The process's stderr (its `columns` and `resize` events when a TTY) and stdin. */
export const layerProcess: Layer.Layer<CliOutput | CliStdin> = Layer.merge(
  Layer.sync(CliOutput, () => {
    const stderr = process.stderr
    const columns = () => Option.fromNullable(stderr.isTTY === true ? stderr.columns : undefined)
    return {
      write: (text) => Effect.sync(() => void stderr.write(text)),
      line: (text) => Effect.sync(() => void stderr.write(`${text}\n`)),
      isTTY: stderr.isTTY === true,
      columns: Effect.sync(columns),
      resizes: stderr.isTTY === true
        ? Stream.async<number>((emit) => {
          const onResize = () => Option.map(columns(), (width) => emit.single(width))
          stderr.on("resize", onResize)
          return Effect.sync(() => void stderr.off("resize", onResize))
        })
        : Stream.empty
    }
  }),
  Layer.succeed(CliStdin, OrderIds.fromStdin)
)

/** A captured stderr: what was written, and resizes driven by the test. */
export interface Captured {
  readonly output: Output
  /** Everything written so far. */
  readonly text: Effect.Effect<string>
  /** Resizes the pretend terminal to `columns` (what `resizes` then emits). */
  readonly resize: (columns: number) => Effect.Effect<void>
}

/** A stderr in memory: a TTY of `columns` when `columns` is given, else a pipe. */
export const capture = (options: { readonly columns?: number | undefined } = {}): Effect.Effect<Captured> =>
  Effect.gen(function*() {
    const written = yield* Ref.make<Array<string>>([])
    const width = yield* Ref.make(Option.fromNullable(options.columns))
    const resized = yield* PubSub.unbounded<number>()
    const isTTY = options.columns !== undefined
    const write = (text: string) => Ref.update(written, (parts) => (parts.push(text), parts))
    return {
      output: {
        write,
        line: (text) => write(`${text}\n`),
        isTTY,
        columns: Ref.get(width),
        resizes: isTTY ? Stream.fromPubSub(resized) : Stream.empty
      },
      text: Effect.map(Ref.get(written), (parts) => parts.join("")),
      resize: (columns) =>
        Effect.asVoid(Effect.zipRight(Ref.set(width, Option.some(columns)), PubSub.publish(resized, columns)))
    }
  })

/** stdin holding `text` (empty when absent). */
export const stdinOf = (text: string | undefined): Layer.Layer<CliStdin> =>
  Layer.succeed(CliStdin, OrderIds.fromText(text === undefined || text === "" ? Stream.empty : Stream.make(text)))
