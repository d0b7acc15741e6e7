/**
 * What the CLI writes to and reads from besides files: stderr (progress, warnings, one-line messages) and stdin
 * (`--orders -`). The executable provides the process's; a test provides captured ones (see `capture`).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
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
  /** The terminal's width now, then each new width after a resize (nothing when stderr is not a terminal). */
  readonly widths: Stream.Stream<number>
}

/** The CLI's stderr. */
export class CliOutput extends Context.Tag("@certcentral/export/CliOutput")<CliOutput, Output>() {}

/** The CLI's stdin, as order ids (read only for `--orders -`). */
export class CliStdin extends Context.Tag("@certcentral/export/CliStdin")<
  CliStdin,
  Stream.Stream<OrderIds.Entry, OrderIds.ReadError>
>() {}

/** The process's stderr (its `columns` and `resize` events when a TTY, listened to while the layer lives) and stdin. */
export const layerProcess: Layer.Layer<CliOutput | CliStdin> = Layer.merge(
  Layer.scoped(
    CliOutput,
    Effect.gen(function*() {
      const stderr = process.stderr
      const isTTY = stderr.isTTY === true
      const columns = () => Option.fromNullable(isTTY ? stderr.columns : undefined)
      const width = yield* SubscriptionRef.make(columns())
      if (isTTY) {
        const runtime = yield* Effect.runtime<never>()
        const onResize = () => Runtime.runSync(runtime)(SubscriptionRef.set(width, columns()))
        yield* Effect.acquireRelease(
          Effect.sync(() => stderr.on("resize", onResize)),
          () => Effect.sync(() => stderr.off("resize", onResize))
        )
      }
      return {
        write: (text) => Effect.sync(() => void stderr.write(text)),
        line: (text) => Effect.sync(() => void stderr.write(`${text}\n`)),
        isTTY,
        columns: SubscriptionRef.get(width),
        widths: isTTY ? Stream.filterMap(width.changes, (w) => w) : Stream.empty
      } satisfies Output
    })
  ),
  Layer.succeed(CliStdin, OrderIds.fromStdin)
)

/** A captured stderr: what was written, and resizes driven by the test. */
export interface Captured {
  readonly output: Output
  /** Everything written so far. */
  readonly text: Effect.Effect<string>
  /** Resizes the pretend terminal to `columns` (what `widths` then emits). */
  readonly resize: (columns: number) => Effect.Effect<void>
}

/** A stderr in memory: a TTY of `columns` when `columns` is given, else a pipe. */
export const capture = (options: { readonly columns?: number | undefined } = {}): Effect.Effect<Captured> =>
  Effect.gen(function*() {
    const written = yield* Ref.make<Array<string>>([])
    const width = yield* SubscriptionRef.make(Option.fromNullable(options.columns))
    const isTTY = options.columns !== undefined
    const write = (text: string) => Ref.update(written, (parts) => (parts.push(text), parts))
    return {
      output: {
        write,
        line: (text) => write(`${text}\n`),
        isTTY,
        columns: SubscriptionRef.get(width),
        widths: isTTY ? Stream.filterMap(width.changes, (w) => w) : Stream.empty
      },
      text: Effect.map(Ref.get(written), (parts) => parts.join("")),
      resize: (columns) => SubscriptionRef.set(width, Option.some(columns))
    }
  })

/** stdin holding `text` (empty when absent). */
export const stdinOf = (text: string | undefined): Layer.Layer<CliStdin> =>
  Layer.succeed(CliStdin, OrderIds.fromText(text === undefined || text === "" ? Stream.empty : Stream.make(text)))
