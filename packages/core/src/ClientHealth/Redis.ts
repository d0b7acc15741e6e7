/**
 * A {@link ClientHealth.Store} kept in Redis: one process's 429 pauses every process on the key, one probe (a lease in
 * Redis) serves them all, and the circuit is one. Each operation is one Lua script timed by the Redis server's clock;
 * the times it answers are turned into this process's clock. Waiters wake on a pub/sub notice of any change, or at
 * the time the script computed.
 *
 * While Redis is unreachable the operations wait and retry; past `maxOutage` they fail with
 * `CertCentralError.StoreUnavailableError` (as the shared limiter's permits do). A Redis restart forgets the state: a
 * pause or an open circuit ends early, and the next 429 or failures start them again.
 *
 * This module needs `ioredis` (an optional peer dependency) and is not part of the package's index: import it as
 * `@certcentral/core/ClientHealth/Redis`, or use `RollingWindowLimiter/Redis.layerShared`, which shares both.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import type * as ClientHealth from "../ClientHealth.js"
import { initial } from "../internal/clientHealth.js"
import * as internal from "../internal/redis.js"
import * as scripts from "../internal/redisHealthScripts.js"
import * as Signal from "../internal/signal.js"

/**
 * Options of {@link makeStore}: where Redis is, the API key (and name) whose pause and circuit are shared.
 *
 * - `probeLease`: how long the probe slot outlives a process that stopped without an answer (default 1 minute,
 *   longer than a request's default time limit); meanwhile the other processes wait for the probe.
 * - `maxOutage` (default 10 minutes) and `commandTimeout` (default 5 seconds): as for the shared limiter.
 *
 * @since 0.2.0
 * @category models
 */
export type Options =
  & ({ readonly url: string; readonly redis?: undefined } | { readonly redis: Redis; readonly url?: undefined })
  & {
    readonly apiKey: Redacted.Redacted<string>
    readonly name?: string | undefined
    readonly probeLease?: Duration.DurationInput | undefined
    readonly maxOutage?: Duration.DurationInput | undefined
    readonly commandTimeout?: Duration.DurationInput | undefined
  }

const TRANSITIONS: ReadonlyArray<ClientHealth.Transition> = [undefined, "opened", "reopened", "closed"]

const SCRIPTS = [
  scripts.read,
  scripts.enter,
  scripts.succeeded,
  scripts.failed,
  scripts.open,
  scripts.rateLimited,
  scripts.releaseProbe
]

// The state from a `read` reply: {server now, probe out, field, value, ...}, server times turned into local ones.
const decodeState = (reply: ReadonlyArray<unknown>, localNow: number): ClientHealth.State => {
  const offset = Number(reply[0]) - localNow
  const fields = new Map<string, string>()
  for (let i = 2; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]))
  const time = (name: string) => {
    const value = fields.get(name)
    return value === undefined ? undefined : Number(value) - offset
  }
  const count = (name: string) => Number(fields.get(name) ?? 0)
  const circuit = fields.get("circuit")
  return {
    circuit: circuit === "open" || circuit === "probing" ? circuit : "closed",
    pauseUntil: time("pauseUntil") ?? 0,
    pauses: count("pauses"),
    probeNeeded: fields.get("probeNeeded") === "1",
    probeInFlight: Number(reply[1]) === 1,
    consecutiveFailures: count("consecutiveFailures"),
    streakSince: time("streakSince"),
    unavailableSince: time("unavailableSince"),
    openedAt: time("openedAt"),
    nextProbeAt: time("nextProbeAt"),
    openings: count("openings"),
    outages: count("outages"),
    outageMillis: count("outageMillis"),
    gaveUp: fields.get("gaveUp") === "1",
    lastFailure: fields.get("lastFailure")
  }
}

/**
 * Connects to Redis (failing with `RedisSetupError` when it cannot) and makes the shared health store. A connection
 * made from `url` is closed with the scope; a client passed as `redis` stays yours.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeStore = (
  options: Options
): Effect.Effect<ClientHealth.Store, internal.RedisSetupError, Scope.Scope> =>
  Effect.gen(function*() {
    const leaseMillis = Math.max(100, Math.round(Duration.toMillis(options.probeLease ?? "1 minute")))
    const connection = yield* internal.connect(options, SCRIPTS)
    const keys = [`${connection.prefix}health`, `${connection.prefix}probe`]
    const channel = `${connection.prefix}health-changed`
    const changes = Signal.make()
    yield* connection.subscribe(channel, changes.notify)
    const outage = yield* connection.outage("health")

    // the token of this process's probe, if one is out (at most one across all processes)
    let probeToken = ""
    const tokenFor = (probe: boolean) => {
      if (!probe) return ""
      const token = probeToken
      probeToken = ""
      return token
    }
    const run = (lua: string, args: ReadonlyArray<string | number>, scriptKeys = keys) =>
      Effect.map(outage.retrying(connection.run(lua, scriptKeys, args)), (reply) => reply as ReadonlyArray<unknown>)
    const transition = (reply: ReadonlyArray<unknown>) => TRANSITIONS[Number(reply[1])]

    let lastRead = initial
    const store: ClientHealth.Store = {
      // a read (for stats and progress) never waits on Redis: while it is unreachable, or once the store is closed,
      // it answers the last state it saw
      read: Effect.flatMap(Effect.option(connection.run(scripts.read, keys, [])), (answer) =>
        answer._tag === "None" ?
          Effect.succeed(lastRead) :
          Effect.clockWith((clock) =>
            Effect.map(clock.currentTimeMillis, (now) => {
              lastRead = decodeState(answer.value as ReadonlyArray<unknown>, now)
              return lastRead
            })
          )),
      enter: (now, maxOutage) =>
        Effect.suspend(() => {
          // taken before asking, so that a change between the answer and the wait still wakes this waiter
          const changed = changes.next()
          const token = randomUUID()
          const limit = Number.isFinite(maxOutage) ? Math.max(0, Math.round(maxOutage)) : -1
          return Effect.map(
            run(scripts.enter, [channel, limit, token, leaseMillis]),
            (reply): ClientHealth.Admission => {
              const serverNow = Number(reply[0])
              if (Number(reply[1]) === 1) {
                const probe = Number(reply[2]) === 1
                if (probe) probeToken = token
                return { _tag: "Go", probe, gaveUp: Number(reply[3]) === 1, first: Number(reply[4]) === 1 }
              }
              const until = Number(reply[2])
              return { _tag: "Wait", until: until < 0 ? undefined : now + Math.max(1, until - serverNow), changed }
            }
          )
        }),
      succeeded: (_now, probe) =>
        Effect.map(Effect.suspend(() => run(scripts.succeeded, [channel, tokenFor(probe)])), transition),
      failed: (_now, probe, failure, rule) =>
        Effect.map(
          Effect.suspend(() =>
            run(scripts.failed, [
              channel,
              tokenFor(probe),
              failure,
              rule.failureThreshold,
              rule.firstPauseMillis,
              rule.maxPauseMillis,
              rule.jitter
            ])
          ),
          transition
        ),
      open: (_now, failure, rule) =>
        Effect.map(
          run(scripts.open, [channel, failure, rule.firstPauseMillis, rule.maxPauseMillis, rule.jitter], [keys[0]!]),
          transition
        ),
      rateLimited: (_now, probe, millis) =>
        Effect.map(
          Effect.suspend(() => run(scripts.rateLimited, [channel, tokenFor(probe), Math.max(0, Math.round(millis))])),
          (reply) => ({ starts: Number(reply[1]) === 1, closed: Number(reply[2]) === 1 })
        ),
      // one try: an interrupted probe must not wait on an outage, and its lease ends it anyway
      releaseProbe: Effect.suspend(() => {
        const token = tokenFor(true)
        return token === "" ? Effect.void : Effect.ignore(connection.run(scripts.releaseProbe, keys, [channel, token]))
      })
    }
    return store
  })
