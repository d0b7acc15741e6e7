/**
 * A {@link RollingWindowLimiter.RollingWindowLimiter} kept in Redis, so that every process using one API key shares
 * its rolling windows: DigiCert counts per key, not per process.
 *
 * Same semantics as the in-memory limiter: a request holds its slot from permit until its response is back, and then
 * for one window length; all windows are checked and taken at once. Each operation is one Lua script (atomic across
 * processes) timed by the Redis server's clock, so the machines' clocks never matter. Waiters wake on a pub/sub
 * notice when a slot is released, or at the next opening the script computed; they never poll in a loop. A slot
 * whose process stops (crash, `kill -9`) is held by a lease, renewed while the request runs, and counts as completed
 * when the lease ends.
 *
 * Costs: two round trips per request (permit and release), one more per lease renewal (requests longer than a third
 * of the lease) and one per wake-up of a waiter. A Redis restart loses the log: at most one window's worth of history
 * (the requests of the last window no longer count) and the in-flight slots until their next lease renewal.
 *
 * This module needs `ioredis` 5 (an optional peer dependency of `@certcentral/core`) and is not part of the package's
 * index: import it as `@certcentral/core/RollingWindowLimiter/Redis`.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { Redis, ReplyError } from "ioredis"
import { createHash, randomUUID } from "node:crypto"
import * as ClientHealth from "../ClientHealth.js"
import * as healthScripts from "../internal/redisHealthScripts.js"
import * as limiterScripts from "../internal/redisScripts.js"
import * as RollingWindowLimiter from "../RollingWindowLimiter.js"

/**
 * Redis could not be used when the limiter started: a bad URL, a refused connection, a wrong password. The message
 * is one line and never carries the URL's password.
 *
 * @since 0.2.0
 * @category errors
 */
export class RedisSetupError extends Schema.TaggedError<RedisSetupError>()("RedisSetupError", {
  /** The Redis address without credentials. */
  target: Schema.String,
  detail: Schema.String
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    return `cannot use Redis at ${this.target} to share rate limits: ${this.detail}`
  }
}

/**
 * Redis stayed unreachable for longer than the limiter's `maxOutage`. Until then the limiter waits and retries.
 *
 * @since 0.2.0
 * @category errors
 */
export class RedisOutageError extends Schema.TaggedError<RedisOutageError>()("RedisOutageError", {
  /** How long Redis had been unreachable, in milliseconds. */
  millis: Schema.Number,
  detail: Schema.String
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    return `Redis unreachable for ${Math.round(this.millis / 1000)} s, longer than allowed: ${this.detail}`
  }
}

/**
 * The limiter's view of Redis: `Connected`, or `Lost` since a time (epoch milliseconds of this process' clock) with
 * the last error, while it waits and retries.
 *
 * @since 0.2.0
 * @category models
 */
export type Status = Data.TaggedEnum<{
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- Data.TaggedEnum's spelling of "no fields"
  Connected: {}
  Lost: { readonly since: number; readonly attempts: number; readonly detail: string }
}>

/**
 * Constructors and matchers for {@link Status}.
 *
 * @since 0.2.0
 * @category models
 */
export const Status = Data.taggedEnum<Status>()

/**
 * A rolling-window limiter shared through Redis.
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisLimiter extends RollingWindowLimiter.RollingWindowLimiter {
  /**
   * Like `withPermit`, but fails with {@link RedisOutageError} once Redis has been unreachable longer than
   * `maxOutage` (`withPermit` dies with it instead, to keep the in-memory limiter's signature).
   */
  readonly withPermitOrFail: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RedisOutageError, R>
  /** Whether Redis answers right now. */
  readonly status: Effect.Effect<Status>
  /** The current status, then every change (for progress output). */
  readonly statusChanges: Stream.Stream<Status>
  /** The key prefix in Redis: a hash of the API key (never the key) and the optional name. */
  readonly namespace: string
}

/**
 * The service tag of a {@link RedisLimiter}.
 *
 * @since 0.2.0
 * @category tags
 */
export const RedisLimiter: Context.Tag<RedisLimiter, RedisLimiter> = Context.GenericTag<RedisLimiter>(
  "@certcentral/core/RollingWindowLimiter/Redis"
)

/**
 * Options of {@link make}: where Redis is (a URL, or an `ioredis` client you own), the API key whose limits are
 * shared, and the windows.
 *
 * - `name` splits one key's budget into separately limited groups (default: one group per key).
 * - `lease`: how long a slot outlives a process that stopped without releasing it (default 15 seconds); renewed every
 *   third of it while the request runs.
 * - `maxOutage`: how long Redis may stay unreachable mid-run before permits fail (default 10 minutes).
 * - `commandTimeout`: how long one round trip may take before Redis counts as unreachable (default 5 seconds).
 *
 * @since 0.2.0
 * @category models
 */
export type Options =
  & ({ readonly url: string; readonly redis?: undefined } | { readonly redis: Redis; readonly url?: undefined })
  & {
    readonly apiKey: Redacted.Redacted<string>
    readonly windows: ReadonlyArray<RollingWindowLimiter.Window>
    readonly name?: string | undefined
    readonly lease?: Duration.DurationInput | undefined
    readonly maxOutage?: Duration.DurationInput | undefined
    readonly commandTimeout?: Duration.DurationInput | undefined
  }

/**
 * The key prefix the limiter uses for an API key and an optional name: a SHA-256 of the key, never the key, in a
 * hash tag so that a Redis Cluster keeps all of one limiter's keys on one node.
 *
 * @example
 * ```ts
 * import { namespace } from "@certcentral/core/RollingWindowLimiter/Redis"
 * import { Redacted } from "effect"
 *
 * const prefix = namespace(Redacted.make("my-secret-key"))
 * assert.ok(prefix.startsWith("certcentral:limiter:{"))
 * assert.ok(!prefix.includes("my-secret-key"))
 * assert.notStrictEqual(namespace(Redacted.make("my-secret-key"), "nightly"), prefix)
 * ```
 *
 * @since 0.2.0
 * @category utils
 */
export const namespace = (apiKey: Redacted.Redacted<string>, name?: string): string => {
  const hash = createHash("sha256").update(Redacted.value(apiKey)).digest("hex")
  return `certcentral:limiter:{${hash}${name === undefined ? "" : `:${name}`}}:`
}

// Same constants as the in-memory limiter's AIMD share.
const SHARE_RECOVERY = 0.1

const NAME = /^[A-Za-z0-9._:-]{1,64}$/

// Errors that mean "Redis is busy or coming back", not "the script is wrong".
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOSCRIPT)/

// The message of an error Redis answered (as opposed to a connection failure).
const replyMessage = (u: unknown): string | undefined => u instanceof ReplyError ? (u as Error).message : undefined

const describe = (u: unknown): string => {
  const text = u instanceof Error ? u.message : String(u)
  return text.split("\n")[0]!.slice(0, 200)
}

// The address to name in messages: never the password.
const targetOf = (url: URL | undefined, redis: Redis | undefined): string => {
  if (url !== undefined) {
    return `${url.protocol}//${url.hostname}${url.port === "" ? "" : `:${url.port}`}${url.pathname}`
  }
  const options = redis?.options
  return options?.path ?? `${options?.host ?? "localhost"}:${options?.port ?? 6379}`
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex")

class StoreFailure extends Data.TaggedError("StoreFailure")<{ readonly cause: unknown }> {}

interface Permit {
  readonly id: string
  sent: boolean
  held: boolean
}

/** The connection both shared pieces use: checked URL and name, connected (or pinged), closed with the scope. */
const connection = (
  options: {
    readonly url?: string | undefined
    readonly redis?: Redis | undefined
    readonly name?: string | undefined
  },
  commandTimeout: Duration.Duration
) =>
  Effect.gen(function*() {
    let url: URL | undefined
    if (options.url !== undefined) {
      const parsed = URL.canParse(options.url) ? new URL(options.url) : undefined
      if (parsed === undefined || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")) {
        return yield* new RedisSetupError({
          target: "(invalid URL)",
          detail: "expected redis://host:port[/db] or rediss://host:port[/db]"
        })
      }
      url = parsed
    }
    const target = targetOf(url, options.redis)
    if (options.name !== undefined && !NAME.test(options.name)) {
      return yield* new RedisSetupError({
        target,
        detail: `limiter name must be 1 to 64 of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(options.name)}`
      })
    }
    const setupError = (cause: unknown) => new RedisSetupError({ target, detail: describe(cause) })

    // Commands fail at once while disconnected (no offline queue): the limiter decides how long to wait, not ioredis.
    const connect = (client: Redis) =>
      Effect.tryPromise({ try: () => client.connect(), catch: setupError }).pipe(
        Effect.timeoutFail({ duration: commandTimeout, onTimeout: () => setupError("no answer to connect") }),
        Effect.tapError(() => Effect.sync(() => client.disconnect()))
      )
    const quit = (client: Redis) =>
      Effect.promise(() => client.quit().then(() => undefined, () => client.disconnect())).pipe(
        Effect.timeoutTo({ duration: "1 second", onSuccess: () => undefined, onTimeout: () => client.disconnect() })
      )
    const clientOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Duration.toMillis(commandTimeout),
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000)
    }
    // ioredis reports connection trouble as events; the limiter reads it from failed commands instead
    const ignoreErrors = (client: Redis) => client.on("error", () => {})

    const redis: Redis = options.redis ?? (yield* Effect.acquireRelease(
      Effect.suspend(() => {
        const client = ignoreErrors(new Redis(url!.href, clientOptions))
        return Effect.as(connect(client), client)
      }),
      quit
    ))
    if (options.redis !== undefined) {
      yield* Effect.tryPromise({ try: () => redis.ping(), catch: setupError }).pipe(
        Effect.timeoutFail({ duration: commandTimeout, onTimeout: () => setupError("no answer to PING") })
      )
    }
    return { clientOptions, connect, ignoreErrors, quit, redis, setupError, target }
  })

/**
 * Connects to Redis (failing with {@link RedisSetupError} when it cannot) and makes a limiter for the given windows,
 * shared with every process that uses the same Redis, API key and name. A connection made from `url` is closed when
 * the scope closes; a client passed as `redis` stays yours (only the limiter's subscriber connection is closed).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<RedisLimiter, RedisSetupError, Scope.Scope> =>
  Effect.gen(function*() {
    // the in-memory limiter validates and normalises windows: one rule for both
    const normalized = (yield* RollingWindowLimiter.make(options.windows)).windows
    if (normalized.length === 0) return yield* Effect.dieMessage("a shared limiter needs at least one window")
    const longest = Math.max(...normalized.map((w) => w.windowMillis))
    const floor = Math.min(...normalized.map((w) => 1 / w.limit))
    const recoveryMillis = Math.max(1, longest) / SHARE_RECOVERY
    const leaseMillis = Math.max(100, Math.round(Duration.toMillis(options.lease ?? "15 seconds")))
    const maxOutageMillis = Duration.toMillis(options.maxOutage ?? "10 minutes")
    const commandTimeout = Duration.millis(Math.max(1, Duration.toMillis(options.commandTimeout ?? "5 seconds")))

    const { clientOptions, connect, ignoreErrors, quit, redis, setupError } = yield* connection(
      options,
      commandTimeout
    )

    const prefix = namespace(options.apiKey, options.name)
    const keys = {
      inflight: `${prefix}inflight`,
      log: `${prefix}log`,
      horizon: `${prefix}horizon`,
      share: `${prefix}share`,
      channel: `${prefix}released`
    }

    // Local waiters wait on `released`; a release here or a notice from any process completes it.
    let released = yield* Deferred.make<void>()
    const wakeWaiters = () => {
      const done = released
      released = Deferred.unsafeMake(FiberId.none)
      Deferred.unsafeDone(done, Exit.void)
    }
    // a connection of its own, since a subscribed connection can run nothing else
    yield* Effect.acquireRelease(
      Effect.suspend(() => {
        const client = ignoreErrors(redis.duplicate({ ...clientOptions, enableOfflineQueue: true }))
        client.on("message", wakeWaiters)
        return connect(client).pipe(
          Effect.zipRight(Effect.tryPromise({ try: () => client.subscribe(keys.channel), catch: setupError })),
          Effect.as(client)
        )
      }),
      quit
    )

    const status = yield* SubscriptionRef.make<Status>(Status.Connected())
    const scope = yield* Effect.scope

    const evaluate = (
      lua: string,
      sha: string,
      scriptKeys: ReadonlyArray<string>,
      args: ReadonlyArray<string | number>
    ) =>
      Effect.tryPromise({
        try: () =>
          redis.evalsha(sha, scriptKeys.length, ...scriptKeys, ...args).catch((e: unknown) =>
            // scripts are cached per server: a restarted Redis has forgotten them
            replyMessage(e)?.startsWith("NOSCRIPT")
              ? redis.eval(lua, scriptKeys.length, ...scriptKeys, ...args)
              : Promise.reject(e)
          ),
        catch: (cause) => new StoreFailure({ cause })
      }).pipe(
        Effect.timeoutFail({ duration: commandTimeout, onTimeout: () => new StoreFailure({ cause: "no answer" }) })
      )

    // Requests this process holds a slot for: re-registered as soon as Redis answers again after an outage, since a
    // restarted Redis has forgotten them.
    const holding = new Set<Permit>()
    const renewKeys = [keys.inflight, keys.log]
    const renewArgs = (permit: Permit) => [permit.id, leaseMillis, longest]
    const connected: Effect.Effect<void> = SubscriptionRef.modify(
      status,
      (s) => [s._tag === "Lost", s._tag === "Connected" ? s : Status.Connected()] as const
    ).pipe(
      Effect.flatMap((wasLost) =>
        wasLost
          ? Effect.forEach(Array.from(holding), (permit) =>
            Effect.ignore(store(limiterScripts.renew, renewKeys, renewArgs(permit))), {
            discard: true
          }).pipe(Effect.forkIn(scope), Effect.asVoid)
          : Effect.void
      )
    )

    // One round trip, retried while Redis is unreachable, until `maxOutage` has passed since it was first lost.
    const store = (lua: string, scriptKeys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) => {
      const sha = sha1(lua)
      const attempt = (tries: number): Effect.Effect<unknown, RedisOutageError> =>
        evaluate(lua, sha, scriptKeys, args).pipe(
          Effect.tap(() => connected),
          Effect.catchAll((failure) => {
            const cause = failure.cause
            const reply = replyMessage(cause)
            if (reply !== undefined && !TRANSIENT_REPLY.test(reply)) return Effect.die(cause)
            return Effect.gen(function*() {
              const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
              const current = yield* SubscriptionRef.updateAndGet(status, (s) =>
                Status.Lost({
                  since: s._tag === "Lost" ? s.since : now,
                  attempts: s._tag === "Lost" ? s.attempts + 1 : 1,
                  detail: describe(cause)
                }))
              const since = current._tag === "Lost" ? current.since : now
              if (now - since >= maxOutageMillis) {
                return yield* new RedisOutageError({ millis: now - since, detail: describe(cause) })
              }
              yield* Effect.sleep(Duration.millis(Math.min(50 * 2 ** Math.min(tries, 5), 1000)))
              return yield* attempt(tries + 1)
            })
          })
        )
      return attempt(0)
    }

    const windowArgs = normalized.flatMap((w) => [w.limit, w.windowMillis])
    const acquireKeys = [keys.inflight, keys.log, keys.horizon, keys.share]
    let inFlight = 0
    let lastShare = 1

    const waitForRoom = (permit: Permit): Effect.Effect<void, RedisOutageError> =>
      Effect.suspend(() => {
        // taken before asking, so that a release between the answer and the wait still wakes this waiter
        const signal = released
        permit.sent = true
        return store(limiterScripts.acquire, acquireKeys, [
          permit.id,
          leaseMillis,
          longest,
          normalized.length,
          ...windowArgs
        ])
          .pipe(
            Effect.flatMap((reply) => {
              const [granted, now, share, wake, onRelease] = reply as [number, number, string, number?, number?]
              lastShare = Number(share)
              if (granted === 1) {
                permit.held = true
                holding.add(permit)
                inFlight++
                return Effect.void
              }
              const timer = Effect.sleep(Duration.millis(Math.max(1, (wake ?? now + 1) - now)))
              const wait = onRelease === 1 ? Effect.raceFirst(Deferred.await(signal), timer) : timer
              return Effect.zipRight(wait, waitForRoom(permit))
            })
          )
      })

    const releaseArgs = (permit: Permit) => [permit.id, longest, keys.channel]
    // Released by a background fiber when Redis does not answer at once, so that no caller waits on an outage (the
    // lease ends the slot anyway if Redis never comes back).
    const release = (permit: Permit) =>
      Effect.suspend(() => {
        if (!permit.sent) return Effect.void
        if (permit.held) {
          permit.held = false
          holding.delete(permit)
          inFlight--
        }
        const once = evaluate(limiterScripts.release, sha1(limiterScripts.release), [
          keys.inflight,
          keys.log,
          keys.horizon
        ], [
          ...releaseArgs(permit)
        ])
        return once.pipe(
          Effect.zipRight(Effect.sync(wakeWaiters)),
          Effect.catchAll(() =>
            store(limiterScripts.release, [keys.inflight, keys.log, keys.horizon], releaseArgs(permit)).pipe(
              Effect.zipRight(Effect.sync(wakeWaiters)),
              Effect.ignore,
              Effect.forkIn(scope),
              Effect.asVoid
            )
          )
        )
      })

    const renewal = (permit: Permit) =>
      store(limiterScripts.renew, renewKeys, renewArgs(permit)).pipe(
        Effect.ignore,
        Effect.delay(Duration.millis(Math.floor(leaseMillis / 3))),
        Effect.forever
      )

    // One fiber per process asks Redis at a time: waiters here are admitted in arrival order, and a crowd of local
    // waiters costs one round trip per wake-up, not one each.
    const turnstile = yield* Effect.makeSemaphore(1)

    const permitted = <A, E, R, E2>(
      effect: Effect.Effect<A, E, R>,
      wait: (permit: Permit) => Effect.Effect<void, E2>
    ): Effect.Effect<A, E | E2, R> =>
      Effect.suspend(() => {
        const permit: Permit = { id: randomUUID(), sent: false, held: false }
        return turnstile.withPermits(1)(wait(permit)).pipe(
          Effect.zipRight(Effect.scoped(Effect.zipRight(Effect.forkScoped(renewal(permit)), effect))),
          Effect.ensuring(release(permit))
        )
      })

    const limiter: RedisLimiter = {
      [RollingWindowLimiter.TypeId]: RollingWindowLimiter.TypeId,
      windows: normalized,
      withPermitOrFail: (effect) => permitted(effect, waitForRoom),
      withPermit: (effect) => permitted(effect, (permit) => Effect.orDie(waitForRoom(permit))),
      inFlight: Effect.sync(() => inFlight),
      backOff: store(limiterScripts.backOff, [keys.share], [floor, recoveryMillis]).pipe(
        Effect.tap((share) => Effect.sync(() => lastShare = Number(share))),
        Effect.ignore
      ),
      share: evaluate(limiterScripts.share, sha1(limiterScripts.share), [keys.share], []).pipe(
        Effect.map((share) => lastShare = Number(share)),
        Effect.orElseSucceed(() => lastShare)
      ),
      status: SubscriptionRef.get(status),
      statusChanges: status.changes,
      namespace: prefix
    }
    return limiter
  })

/**
 * A layer of {@link RedisLimiter} (see {@link make}); the connection closes with the layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<RedisLimiter, RedisSetupError> =>
  Layer.scoped(RedisLimiter, make(options))

/**
 * Options of {@link makeHealthStore}: where Redis is, the API key (and name) whose pause and circuit are shared.
 *
 * - `probeLease`: how long the probe slot outlives a process that stopped without an answer (default 1 minute,
 *   longer than a request's default time limit); meanwhile the other processes wait for the probe.
 * - `maxOutage` and `commandTimeout`: as for the limiter ({@link Options}).
 *
 * @since 0.2.0
 * @category models
 */
export type HealthStoreOptions =
  & ({ readonly url: string; readonly redis?: undefined } | { readonly redis: Redis; readonly url?: undefined })
  & {
    readonly apiKey: Redacted.Redacted<string>
    readonly name?: string | undefined
    readonly probeLease?: Duration.DurationInput | undefined
    readonly maxOutage?: Duration.DurationInput | undefined
    readonly commandTimeout?: Duration.DurationInput | undefined
  }

const TRANSITIONS: ReadonlyArray<ClientHealth.Transition> = [undefined, "opened", "reopened", "closed"]

/**
 * A {@link ClientHealth.Store} kept in Redis: one process's 429 pauses every process on the key, one probe (a lease in
 * Redis) serves them all, and the circuit is one. Each operation is one Lua script timed by the Redis server's clock;
 * the times it answers are turned into this process's clock. Waiters wake on a pub/sub notice of any change, or at
 * the time the script computed.
 *
 * While Redis is unreachable the operations wait and retry; past `maxOutage` they die with {@link RedisOutageError}
 * (as the limiter's `withPermit` does). A Redis restart forgets the state: a pause or an open circuit ends early, and
 * the next 429 or failures start them again.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeHealthStore = (
  options: HealthStoreOptions
): Effect.Effect<ClientHealth.Store, RedisSetupError, Scope.Scope> =>
  Effect.gen(function*() {
    const commandTimeout = Duration.millis(Math.max(1, Duration.toMillis(options.commandTimeout ?? "5 seconds")))
    const maxOutageMillis = Duration.toMillis(options.maxOutage ?? "10 minutes")
    const leaseMillis = Math.max(100, Math.round(Duration.toMillis(options.probeLease ?? "1 minute")))
    const { clientOptions, connect, ignoreErrors, quit, redis, setupError } = yield* connection(
      options,
      commandTimeout
    )
    const prefix = namespace(options.apiKey, options.name)
    const keys = [`${prefix}health`, `${prefix}probe`]
    const channel = `${prefix}health-changed`

    let changed = yield* Deferred.make<void>()
    const wake = () => {
      const done = changed
      changed = Deferred.unsafeMake(FiberId.none)
      Deferred.unsafeDone(done, Exit.void)
    }
    yield* Effect.acquireRelease(
      Effect.suspend(() => {
        const client = ignoreErrors(redis.duplicate({ ...clientOptions, enableOfflineQueue: true }))
        client.on("message", wake)
        return connect(client).pipe(
          Effect.zipRight(Effect.tryPromise({ try: () => client.subscribe(channel), catch: setupError })),
          Effect.as(client)
        )
      }),
      quit
    )

    // the token of this process's probe, if one is out (at most one across all processes)
    let probeToken = ""
    const tokenFor = (probe: boolean) => {
      if (!probe) return ""
      const token = probeToken
      probeToken = ""
      return token
    }

    let lostSince: number | undefined
    const once = (lua: string, args: ReadonlyArray<string | number>, scriptKeys = keys) =>
      Effect.tryPromise({
        try: () =>
          redis.evalsha(sha1(lua), scriptKeys.length, ...scriptKeys, ...args).catch((e: unknown) =>
            replyMessage(e)?.startsWith("NOSCRIPT")
              ? redis.eval(lua, scriptKeys.length, ...scriptKeys, ...args)
              : Promise.reject(e)
          ) as Promise<Array<unknown>>,
        catch: (cause) => new StoreFailure({ cause })
      }).pipe(
        Effect.timeoutFail({ duration: commandTimeout, onTimeout: () => new StoreFailure({ cause: "no answer" }) })
      )
    // One operation, retried while Redis is unreachable; past `maxOutage` a defect, as the limiter's permits.
    const run = (lua: string, args: ReadonlyArray<string | number>, scriptKeys = keys) => {
      const attempt = (tries: number): Effect.Effect<Array<unknown>> =>
        once(lua, args, scriptKeys).pipe(
          Effect.tap(() => Effect.sync(() => lostSince = undefined)),
          Effect.catchAll((failure) => {
            const reply = replyMessage(failure.cause)
            if (reply !== undefined && !TRANSIENT_REPLY.test(reply)) return Effect.die(failure.cause)
            return Effect.gen(function*() {
              const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
              lostSince ??= now
              if (now - lostSince >= maxOutageMillis) {
                return yield* Effect.die(
                  new RedisOutageError({ millis: now - lostSince, detail: describe(failure.cause) })
                )
              }
              yield* Effect.sleep(Duration.millis(Math.min(50 * 2 ** Math.min(tries, 5), 1000)))
              return yield* attempt(tries + 1)
            })
          })
        )
      return attempt(0)
    }

    let lastRead: ClientHealth.State = {
      circuit: "closed",
      pauseUntil: 0,
      pauses: 0,
      probeNeeded: false,
      probeInFlight: false,
      consecutiveFailures: 0,
      streakSince: undefined,
      unavailableSince: undefined,
      openedAt: undefined,
      nextProbeAt: undefined,
      openings: 0,
      outages: 0,
      outageMillis: 0,
      gaveUp: false,
      lastFailure: undefined
    }
    const numberOr = (text: string | undefined, fallback: number) => text === undefined ? fallback : Number(text)
    const local = (serverTime: number | undefined, offset: number) =>
      serverTime === undefined ? undefined : serverTime - offset

    const store: ClientHealth.Store = {
      // a read (for stats and progress) never waits on Redis: while it is unreachable, or once the store is closed,
      // it answers the last state it saw
      read: Effect.gen(function*() {
        const answer = yield* Effect.option(once(healthScripts.read, []))
        if (answer._tag === "None") return lastRead
        const reply = answer.value
        const localNow = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const offset = Number(reply[0]) - localNow
        const fields = new Map<string, string>()
        for (let i = 2; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]))
        const time = (name: string) => {
          const value = fields.get(name)
          return value === undefined ? undefined : local(Number(value), offset)
        }
        const circuit = fields.get("circuit")
        const state: ClientHealth.State = {
          circuit: circuit === "open" || circuit === "probing" ? circuit : "closed",
          pauseUntil: time("pauseUntil") ?? 0,
          pauses: numberOr(fields.get("pauses"), 0),
          probeNeeded: fields.get("probeNeeded") === "1",
          probeInFlight: Number(reply[1]) === 1,
          consecutiveFailures: numberOr(fields.get("consecutiveFailures"), 0),
          streakSince: time("streakSince"),
          unavailableSince: time("unavailableSince"),
          openedAt: time("openedAt"),
          nextProbeAt: time("nextProbeAt"),
          openings: numberOr(fields.get("openings"), 0),
          outages: numberOr(fields.get("outages"), 0),
          outageMillis: numberOr(fields.get("outageMillis"), 0),
          gaveUp: fields.get("gaveUp") === "1",
          lastFailure: fields.get("lastFailure")
        }
        lastRead = state
        return state
      }),
      enter: (now, maxOutage) =>
        Effect.suspend(() => {
          // taken before asking, so that a change between the answer and the wait still wakes this waiter
          const signal = changed
          const token = randomUUID()
          const limit = Number.isFinite(maxOutage) ? Math.max(0, Math.round(maxOutage)) : -1
          return Effect.map(run(healthScripts.enter, [channel, limit, token, leaseMillis]), (reply) => {
            const serverNow = Number(reply[0])
            if (Number(reply[1]) === 1) {
              const probe = Number(reply[2]) === 1
              if (probe) probeToken = token
              const go: ClientHealth.Go = {
                _tag: "Go",
                probe,
                gaveUp: Number(reply[3]) === 1,
                first: Number(reply[4]) === 1
              }
              return go
            }
            const until = Number(reply[2])
            const admission: ClientHealth.Admission = {
              _tag: "Wait",
              until: until < 0 ? undefined : now + Math.max(1, until - serverNow),
              changed: Deferred.await(signal)
            }
            return admission
          })
        }),
      succeeded: (_now, probe) =>
        Effect.map(
          Effect.suspend(() => run(healthScripts.succeeded, [channel, tokenFor(probe)])),
          (reply) => TRANSITIONS[Number(reply[1])]
        ),
      failed: (_now, probe, failure, rule) =>
        Effect.map(
          Effect.suspend(() =>
            run(healthScripts.failed, [
              channel,
              tokenFor(probe),
              failure,
              rule.failureThreshold,
              rule.firstPauseMillis,
              rule.maxPauseMillis,
              rule.jitter
            ])
          ),
          (reply) => TRANSITIONS[Number(reply[1])]
        ),
      open: (_now, failure, rule) =>
        Effect.map(
          run(healthScripts.open, [channel, failure, rule.firstPauseMillis, rule.maxPauseMillis, rule.jitter], [
            keys[0]!
          ]),
          (reply) => TRANSITIONS[Number(reply[1])]
        ),
      rateLimited: (_now, probe, millis) =>
        Effect.map(
          Effect.suspend(() =>
            run(healthScripts.rateLimited, [channel, tokenFor(probe), Math.max(0, Math.round(millis))])
          ),
          (reply) => ({ starts: Number(reply[1]) === 1, closed: Number(reply[2]) === 1 })
        ),
      // one try: an interrupted probe must not wait on an outage, and its lease ends it anyway
      releaseProbe: Effect.suspend(() => {
        const token = tokenFor(true)
        return token === "" ? Effect.void : Effect.ignore(once(healthScripts.releaseProbe, [channel, token]))
      })
    }
    return store
  })

/**
 * Options of {@link layerShared}: the limiter's ({@link Options}) and the health store's ({@link HealthStoreOptions}),
 * with `circuit` for how the shared circuit opens and pauses.
 *
 * @since 0.2.0
 * @category models
 */
export type SharedOptions = Options & {
  readonly probeLease?: Duration.DurationInput | undefined
  readonly circuit?: ClientHealth.Options | undefined
}

/**
 * Everything a client shares through one Redis connection: the rolling windows ({@link RedisLimiter}, also provided
 * as the `RollingWindowLimiter` a client picks up) and the 429 pause and circuit (`ClientHealth` over
 * {@link makeHealthStore}). Provide it under `CertCentralClient.layer(...)` (without its own `rateLimit`).
 *
 * @example
 * ```ts
 * import { CertCentralClient } from "@certcentral/core"
 * import * as SharedLimits from "@certcentral/core/RollingWindowLimiter/Redis"
 * import { Layer, Redacted } from "effect"
 *
 * const apiKey = Redacted.make("my-api-key")
 * const client = CertCentralClient.layer({ apiKey }).pipe(
 *   Layer.provide(
 *     SharedLimits.layerShared({
 *       url: "redis://127.0.0.1:6379/0",
 *       apiKey,
 *       windows: [{ limit: 100, window: "5 seconds" }, { limit: 1000, window: "3 minutes" }]
 *     })
 *   )
 * )
 * assert.ok(Layer.isLayer(client))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerShared = (
  options: SharedOptions
): Layer.Layer<RedisLimiter | RollingWindowLimiter.RollingWindowLimiter | ClientHealth.ClientHealth, RedisSetupError> =>
  Layer.scopedContext(Effect.gen(function*() {
    const commandTimeout = Duration.millis(Math.max(1, Duration.toMillis(options.commandTimeout ?? "5 seconds")))
    const { redis } = yield* connection(options, commandTimeout)
    const shared = { ...options, url: undefined, redis }
    const limiter = yield* make(shared)
    const store = yield* makeHealthStore(shared)
    const health = yield* ClientHealth.make(options.circuit, Effect.succeed(store))
    return Context.make(RedisLimiter, limiter).pipe(
      Context.add(RollingWindowLimiter.RollingWindowLimiter, limiter),
      Context.add(ClientHealth.ClientHealth, health)
    )
  }))
