/**
 * A {@link RollingWindowLimiter.RollingWindowLimiter} kept in Redis, so that every process using one API key shares
 * its rolling windows: DigiCert counts per key, not per process.
 *
 * This module is only the limiter's Redis store (`RollingWindowLimiter.Store`); the waiting is the limiter's own
 * (`RollingWindowLimiter.makeWith`). Same semantics as the in-memory store: a request holds its slot from permit until
 * its response is back, and then for one window length; all windows are checked and taken at once. Each operation is
 * one Lua script (atomic across processes) timed by the Redis server's clock, so the machines' clocks never matter.
 * Waiters wake on a pub/sub notice when a slot is released, or at the next opening the script computed. A slot whose
 * process stops (crash, `kill -9`) is held by a lease, renewed while the request runs, and counts as completed when
 * the lease ends.
 *
 * Costs: two round trips per request (permit and release), one more per lease renewal (requests longer than a third
 * of the lease) and one per wake-up of a waiter. A Redis restart loses the log: at most one window's worth of history
 * and the in-flight slots until their next lease renewal.
 *
 * This module needs `ioredis` (an optional peer dependency of `@certcentral/core`) and is not part of the package's
 * index: import it as `@certcentral/core/RollingWindowLimiter/Redis`.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import * as CertCentralError from "../CertCentralError.js"
import * as ClientHealth from "../ClientHealth.js"
import * as HealthRedis from "../ClientHealth/Redis.js"
import * as internal from "../internal/redis.js"
import * as scripts from "../internal/redisScripts.js"
import * as Share from "../internal/share.js"
import * as Signal from "../internal/signal.js"
import * as RollingWindowLimiter from "../RollingWindowLimiter.js"

/**
 * Redis could not be used when the limiter started: a bad URL, a refused connection, a wrong password. The message
 * is one line and never carries the URL's password.
 *
 * @since 0.2.0
 * @category errors
 */
export const RedisSetupError: typeof internal.RedisSetupError = internal.RedisSetupError

/**
 * The type of {@link RedisSetupError}.
 *
 * @since 0.2.0
 * @category errors
 */
export type RedisSetupError = internal.RedisSetupError

/**
 * Redis stayed unreachable for longer than `maxOutage`: the shared stores' typed failure (until then they wait and
 * retry). The same class as `CertCentralError.StoreUnavailableError`, which a client call carries in its
 * `UnavailableError`.
 *
 * @since 0.2.0
 * @category errors
 */
export const RedisOutageError: typeof CertCentralError.StoreUnavailableError = CertCentralError.StoreUnavailableError

/**
 * The type of {@link RedisOutageError}.
 *
 * @since 0.2.0
 * @category errors
 */
export type RedisOutageError = CertCentralError.StoreUnavailableError

/**
 * The limiter's view of Redis: `Connected`, or `Lost` since a time (epoch milliseconds of this process' clock) with
 * the last error, while it waits and retries.
 *
 * @since 0.2.0
 * @category models
 */
export type Status = internal.Status

/**
 * Constructors and matchers for {@link Status}.
 *
 * @since 0.2.0
 * @category models
 */
export const Status: typeof internal.Status = internal.Status

/**
 * A rolling-window limiter shared through Redis.
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisLimiter extends RollingWindowLimiter.RollingWindowLimiter {
  /** The same as `withPermit`, which fails with {@link RedisOutageError} too (kept for callers of 0.2.0 betas). */
  readonly withPermitOrFail: RollingWindowLimiter.RollingWindowLimiter["withPermit"]
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
export const namespace: (apiKey: Redacted.Redacted<string>, name?: string) => string = internal.namespace

const SCRIPTS = [scripts.acquire, scripts.release, scripts.renew, scripts.backOff, scripts.share]

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
    const windows = RollingWindowLimiter.normalize(options.windows)
    if (windows.length === 0) return yield* Effect.dieMessage("a shared limiter needs at least one window")
    const longest = Math.max(...windows.map((w) => w.windowMillis))
    const share = Share.ruleFor(windows)
    const leaseMillis = Math.max(100, Math.round(Duration.toMillis(options.lease ?? "15 seconds")))
    const connection = yield* internal.connect(options, SCRIPTS)
    const prefix = connection.prefix
    const keys = {
      inflight: `${prefix}inflight`,
      log: `${prefix}log`,
      horizon: `${prefix}horizon`,
      share: `${prefix}share`,
      channel: `${prefix}released`
    }
    // local waiters wake on a release here or on a notice from any process
    const released = Signal.make()
    yield* connection.subscribe(keys.channel, released.notify)
    const scope = yield* Effect.scope

    // Slots this process holds: put back as soon as Redis answers again after an outage (a restart forgot them).
    const holding = new Set<string>()
    const renewOnce = (id: string) =>
      connection.run(scripts.renew, [keys.inflight, keys.log], [id, leaseMillis, longest])
    const releaseOnce = (id: string) =>
      connection.run(scripts.release, [keys.inflight, keys.log, keys.horizon], [id, longest, keys.channel]).pipe(
        Effect.zipRight(Effect.sync(released.notify))
      )
    // a permit released while its renewal was on the way is released again: the renewal put it back in flight
    const renewHeld = (id: string) =>
      renewOnce(id).pipe(Effect.zipRight(Effect.suspend(() => holding.has(id) ? Effect.void : releaseOnce(id))))
    const outage = yield* connection.outage(
      "limiter",
      Effect.suspend(() => Effect.forEach(Array.from(holding), (id) => Effect.ignore(renewHeld(id)), { discard: true }))
        .pipe(Effect.forkIn(scope), Effect.asVoid)
    )
    const windowArgs = windows.flatMap((w) => [w.limit, w.windowMillis])
    const acquireKeys = [keys.inflight, keys.log, keys.horizon, keys.share]
    let lastShare = 1

    const store: RollingWindowLimiter.Store = {
      windows,
      permitId: randomUUID,
      take: (id) =>
        Effect.map(
          outage.retrying(
            connection.run(scripts.acquire, acquireKeys, [id, leaseMillis, longest, windows.length, ...windowArgs])
          ),
          (reply): RollingWindowLimiter.Room => {
            const [granted, now, share, wake, onRelease] = reply as [number, number, string, number?, number?]
            lastShare = Number(share)
            if (granted === 1) {
              holding.add(id)
              return { _tag: "Taken" }
            }
            return { _tag: "Wait", millis: Math.max(1, (wake ?? now + 1) - now), onRelease: onRelease === 1 }
          }
        ),
      // released by a background fiber when Redis does not answer at once, so that no caller waits on an outage (the
      // lease ends the slot anyway if Redis never comes back)
      release: (id) =>
        Effect.suspend(() => {
          holding.delete(id)
          return Effect.catchAll(releaseOnce(id), () =>
            outage.retrying(releaseOnce(id)).pipe(Effect.ignore, Effect.forkIn(scope), Effect.asVoid))
        }),
      renew: { everyMillis: Math.floor(leaseMillis / 3), run: (id) => Effect.ignore(outage.retrying(renewOnce(id))) },
      released: released.next,
      backOff: outage.retrying(
        connection.run(scripts.backOff, [keys.share], [share.floor, share.recoveryMillis, share.cut])
      ).pipe(
        Effect.tap((cut) => Effect.sync(() => lastShare = Number(cut))),
        Effect.ignore
      ),
      // a read never waits on Redis: while it is unreachable it answers the last share it saw
      share: connection.run(scripts.share, [keys.share], []).pipe(
        Effect.map((answer) => lastShare = Number(answer)),
        Effect.orElseSucceed(() => lastShare)
      )
    }
    const limiter = yield* RollingWindowLimiter.makeWith(store)
    const redisLimiter: RedisLimiter = {
      ...limiter,
      withPermitOrFail: limiter.withPermit,
      status: SubscriptionRef.get(outage.status),
      statusChanges: outage.status.changes,
      namespace: prefix
    }
    return redisLimiter
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
 * Options of {@link layerShared}: the limiter's ({@link Options}) and the health store's
 * (`ClientHealth/Redis.Options`), with `circuit` for how the shared circuit opens and pauses.
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
 * as the `RollingWindowLimiter` a client picks up) and the 429 pause and circuit (`ClientHealth` over the store of
 * `ClientHealth/Redis`). Provide it under `CertCentralClient.layer(...)` (without its own `rateLimit`).
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
    const { redis } = yield* internal.connect(options, [])
    const shared = { ...options, url: undefined, redis }
    const limiter = yield* make(shared)
    const store = yield* HealthRedis.makeStore(shared)
    const health = yield* ClientHealth.make(options.circuit, Effect.succeed(store))
    return Context.make(RedisLimiter, limiter).pipe(
      Context.add(RollingWindowLimiter.RollingWindowLimiter, limiter),
      Context.add(ClientHealth.ClientHealth, health)
    )
  }))
