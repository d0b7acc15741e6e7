/**
 * One export per output: `<output>.lock`, created next to the output before any file is opened or truncated and
 * removed when the run's scope closes, however it ends. It names its holder (pid, host, start time). A lock whose
 * process no longer exists on this host (SIGKILL, power loss) is taken over; one from another host is respected,
 * since its process cannot be checked from here.
 *
 * The lock file is written whole under a name of its own, then hard-linked to `<output>.lock`: the link fails when
 * the lock exists, so there is one winner and the lock never exists half written. A stale lock is renamed away to a
 * name of the taker's own and checked to be the one found stale before it is deleted, so that two takers at once
 * cannot delete a lock the other has just taken.
 *
 * @since 0.2.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import * as path from "node:path"
import { OutputError } from "./ExportError.js"
import { unwritable } from "./internal/directory.js"
import { describe, isNotFound } from "./internal/errno.js"

/**
 * Who holds a lock: its process, the host it runs on and when it took the lock (epoch milliseconds).
 *
 * @since 0.2.0
 * @category models
 */
export const Holder = Schema.Struct({
  pid: Schema.Int,
  host: Schema.String,
  since: Schema.Number,
  /** Tells this holder's lock from a later one of the same pid. */
  nonce: Schema.String
}).annotations({ identifier: "OutputLock.Holder" })

/**
 * The type of {@link Holder}.
 *
 * @since 0.2.0
 * @category models
 */
export type Holder = typeof Holder.Type

/**
 * Another run holds the output: nothing was opened, truncated or removed. The message names the holder; a CLI adds
 * what the user can do.
 *
 * @since 0.2.0
 * @category errors
 */
export class OutputLockedError extends Schema.TaggedError<OutputLockedError>()("OutputLockedError", {
  /** The output. */
  path: Schema.String,
  holder: Holder
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    const { host, pid, since } = this.holder
    const where = host === os.hostname() ? "" : ` on ${host}`
    return `${this.path} is being written by another certcentral-export (pid ${pid}${where}, since ${clock(since)})`
  }
}

/** The local time of day, `10:02:11`. */
const clock = (millis: number): string => {
  const date = new Date(millis)
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":")
}

/**
 * Where the lock of an output lives.
 *
 * @since 0.2.0
 * @category constructors
 */
export const pathFor = (output: string): string => `${path.resolve(output)}.lock`

// the locks this process holds: a lock file naming this pid but not here is a former process's (a container's pid 1)
const heldHere = new Set<string>()
// the locks the current fiber's enclosing scopes hold: acquiring one again there is a no-op (a CLI around its listing
// and the export inside it)
const heldByScope = FiberRef.unsafeMake(HashSet.empty<string>())

const decode = Schema.decodeUnknownOption(Schema.parseJson(Holder))

const isAlreadyExists = (e: unknown): boolean => {
  const error = e as { readonly _tag?: unknown; readonly reason?: unknown; readonly code?: unknown } | undefined
  return error?.code === "EEXIST" || (error?._tag === "SystemError" && error.reason === "AlreadyExists")
}

/** Whether a process of this host with that pid exists (EPERM: it exists, owned by someone else). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { readonly code?: unknown }).code === "EPERM"
  }
}

/** Whether the holder is gone for sure: a process of this host that no longer exists, or this pid's former life. */
const isStale = (holder: Holder): boolean =>
  holder.host === os.hostname() &&
  (holder.pid === process.pid ? !heldHere.has(holder.nonce) : !isAlive(holder.pid))

const cannot = (file: string, what: string) => (e: unknown) =>
  new OutputError({ path: file, message: `cannot ${what} the lock ${file}: ${describe(e)}` })

/** The lock's holder; `undefined` when there is no lock, or one that is not a lock (taken over as stale). */
const readHolder = (
  fs: FileSystem.FileSystem,
  file: string
): Effect.Effect<{ readonly text: string; readonly holder: Holder | undefined } | undefined, OutputError> =>
  fs.readFileString(file).pipe(
    Effect.map((text) => ({ text, holder: Option.getOrUndefined(decode(text)) })),
    Effect.catchAll((e) => isNotFound(e) ? Effect.succeed(undefined) : Effect.fail(cannot(file, "read")(e)))
  )

/**
 * Takes the lock of `output` until the current scope closes: fails with {@link OutputLockedError} while another
 * live run (of this process or another) holds it, takes over one left by a process that no longer exists on this
 * host, and does nothing when an enclosing scope of the same fiber already holds it.
 *
 * @since 0.2.0
 * @category locking
 */
export const acquire = (
  output: string
): Effect.Effect<void, OutputLockedError | OutputError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const file = pathFor(output)
    if (HashSet.has(yield* FiberRef.get(heldByScope), file)) return
    const fs = yield* FileSystem.FileSystem
    const holder: Holder = {
      pid: process.pid,
      host: os.hostname(),
      since: Date.now(),
      nonce: randomBytes(12).toString("hex")
    }
    const text = JSON.stringify(holder) + "\n"
    const own = `${file}.${holder.nonce}`
    const attempt = Effect.acquireUseRelease(
      fs.writeFileString(own, text, { flag: "wx" }).pipe(Effect.mapError((e) => unwritable(path.dirname(own), e))),
      () =>
        fs.link(own, file).pipe(
          Effect.as(true),
          Effect.catchAll((e) => isAlreadyExists(e) ? Effect.succeed(false) : Effect.fail(cannot(file, "create")(e)))
        ),
      () => Effect.ignore(fs.remove(own, { force: true }))
    )
    // a few rounds at most: each one either takes the lock, meets a live holder, or removes a stale lock
    for (let round = 0;; round++) {
      if (yield* attempt) break
      const found = yield* readHolder(fs, file)
      if (found?.holder !== undefined && !isStale(found.holder)) {
        return yield* new OutputLockedError({ path: path.resolve(output), holder: found.holder })
      }
      if (round >= 5) return yield* new OutputError({ path: file, message: `cannot take the lock ${file}` })
      if (found !== undefined) yield* takeOver(fs, file, found.text)
    }
    heldHere.add(holder.nonce)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        heldHere.delete(holder.nonce)
        // only this run's own lock is removed: one taken over after all (another host's view) is left alone
        const found = yield* Effect.orElseSucceed(readHolder(fs, file), () => undefined)
        if (found?.text === text) yield* Effect.ignore(fs.remove(file))
      })
    )
    yield* Effect.locallyScopedWith(heldByScope, HashSet.add(file))
  })

/**
 * Removes a stale lock whose content was `stale`: renamed to a name of our own first, then deleted if it is still that
 * lock. A lock another taker created in between is linked back (the link fails if a third run took it meanwhile).
 */
const takeOver = (fs: FileSystem.FileSystem, file: string, stale: string): Effect.Effect<void, OutputError> =>
  Effect.gen(function*() {
    const aside = `${file}.stale-${process.pid}-${randomBytes(6).toString("hex")}`
    const moved = yield* fs.rename(file, aside).pipe(
      Effect.as(true),
      Effect.catchAll((e) => isNotFound(e) ? Effect.succeed(false) : Effect.fail(cannot(file, "take over")(e)))
    )
    if (!moved) return
    const text = yield* fs.readFileString(aside).pipe(Effect.orElseSucceed(() => stale))
    if (text !== stale) yield* Effect.ignore(fs.link(aside, file))
    yield* Effect.ignore(fs.remove(aside, { force: true }))
  })

/**
 * Runs `self` holding the lock of `output` (see {@link acquire}), released when it ends.
 *
 * @since 0.2.0
 * @category locking
 */
export const withLock = (output: string) =>
<A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | OutputLockedError | OutputError, Exclude<R, Scope.Scope> | FileSystem.FileSystem> =>
  Effect.scoped(Effect.zipRight(acquire(output), self))
