// The one Redis connection the shared limiter's store and the shared health store use: the checked URL and name, the
// client and its subscriber, the Lua scripts registered with `defineCommand` (ioredis sends EVALSHA and falls back
// to EVAL when a restarted server forgot them), one round trip with its timeout, and one way to wait out an outage.
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { Redis, ReplyError } from "ioredis"
import { createHash } from "node:crypto"
import { StoreUnavailableError } from "../CertCentralError.js"

/** Redis could not be used at start: a bad URL, a refused connection, a wrong password; never the password. */
export class RedisSetupError extends Schema.TaggedError<RedisSetupError>()("RedisSetupError", {
  target: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot use Redis at ${this.target} to share rate limits: ${this.detail}`
  }
}

export type Status = Data.TaggedEnum<{
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- Data.TaggedEnum's spelling of "no fields"
  Connected: {}
  Lost: { readonly since: number; readonly attempts: number; readonly detail: string }
}>
export const Status = Data.taggedEnum<Status>()

/** Where Redis is and how long to wait for it; both stores take these. */
export type ConnectionOptions =
  & ({ readonly url: string; readonly redis?: undefined } | { readonly redis: Redis; readonly url?: undefined })
  & {
    readonly apiKey: Redacted.Redacted<string>
    readonly name?: string | undefined
    readonly maxOutage?: Duration.DurationInput | undefined
    readonly commandTimeout?: Duration.DurationInput | undefined
  }

export const namespace = (apiKey: Redacted.Redacted<string>, name?: string): string => {
  const hash = createHash("sha256").update(Redacted.value(apiKey)).digest("hex")
  return `certcentral:limiter:{${hash}${name === undefined ? "" : `:${name}`}}:`
}

const NAME = /^[A-Za-z0-9._:-]{1,64}$/
const DEFAULT_COMMAND_TIMEOUT = "5 seconds"
const DEFAULT_MAX_OUTAGE = "10 minutes"

// Errors that mean "Redis is busy or coming back", not "the script is wrong".
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOSCRIPT)/

/** Every Redis command of both stores is retried on this: 50 ms doubling, at most a second apart. */
export const backoff = Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("1 second")))

export const describe = (u: unknown): string => {
  const text = u instanceof Error ? u.message : String(u)
  return text.split("\n")[0]!.slice(0, 200)
}

class StoreFailure extends Data.TaggedError("StoreFailure")<{ readonly cause: unknown }> {}

// The address to name in messages: never the password.
const targetOf = (url: URL | undefined, redis: Redis | undefined): string => {
  if (url !== undefined) {
    return `${url.protocol}//${url.hostname}${url.port === "" ? "" : `:${url.port}`}${url.pathname}`
  }
  const options = redis?.options
  return options?.path ?? `${options?.host ?? "localhost"}:${options?.port ?? 6379}`
}

/** A store's view of Redis while it waits out an outage, and the typed failure once it lasted past `maxOutage`. */
export interface Outage {
  readonly status: SubscriptionRef.SubscriptionRef<Status>
  /** Runs one command, retried on {@link backoff} while Redis is unreachable. */
  readonly retrying: <A>(once: Effect.Effect<A, StoreFailure>) => Effect.Effect<A, StoreUnavailableError>
}

export interface Connection {
  readonly redis: Redis
  readonly prefix: string
  readonly maxOutageMillis: number
  /** One try of a registered script, failing when Redis does not answer within the command timeout. */
  readonly run: (
    script: string,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>
  ) => Effect.Effect<unknown, StoreFailure>
  /** A connection of its own subscribed to `channel` (a subscribed one can run nothing else), closed with the scope. */
  readonly subscribe: (channel: string, onMessage: () => void) => Effect.Effect<void, RedisSetupError, Scope.Scope>
  /** The outage tracking of one store; `onBack` runs when Redis answers again after it was lost. */
  readonly outage: (store: "limiter" | "health", onBack?: Effect.Effect<void>) => Effect.Effect<Outage>
}

const commandName = (lua: string) => `certcentral_${createHash("sha1").update(lua).digest("hex").slice(0, 16)}`

/** Connects (or pings a client you own), registers `scripts`, and closes what it opened with the scope. */
export const connect = (
  options: ConnectionOptions,
  scripts: ReadonlyArray<string>
): Effect.Effect<Connection, RedisSetupError, Scope.Scope> =>
  Effect.gen(function*() {
    const commandTimeout = Duration.millis(
      Math.max(1, Duration.toMillis(options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT))
    )
    const maxOutageMillis = Duration.toMillis(options.maxOutage ?? DEFAULT_MAX_OUTAGE)
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

    // Commands fail at once while disconnected (no offline queue): the stores decide how long to wait, not ioredis.
    const open = (client: Redis) =>
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
    // ioredis reports connection trouble as events; the stores read it from failed commands instead
    const quiet = (client: Redis) => client.on("error", () => {})

    const redis: Redis = options.redis ?? (yield* Effect.acquireRelease(
      Effect.suspend(() => {
        const client = quiet(new Redis(url!.href, clientOptions))
        return Effect.as(open(client), client)
      }),
      quit
    ))
    if (options.redis !== undefined) {
      yield* Effect.tryPromise({ try: () => redis.ping(), catch: setupError }).pipe(
        Effect.timeoutFail({ duration: commandTimeout, onTimeout: () => setupError("no answer to PING") })
      )
    }
    for (const lua of scripts) redis.defineCommand(commandName(lua), { lua })
    const commands = redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>

    const connection: Connection = {
      redis,
      prefix: namespace(options.apiKey, options.name),
      maxOutageMillis,
      run: (lua, keys, args) =>
        Effect.tryPromise({
          try: () => commands[commandName(lua)]!.call(redis, keys.length, ...keys, ...args),
          catch: (cause) => new StoreFailure({ cause })
        }).pipe(
          Effect.timeoutFail({ duration: commandTimeout, onTimeout: () => new StoreFailure({ cause: "no answer" }) })
        ),
      subscribe: (channel, onMessage) =>
        Effect.asVoid(Effect.acquireRelease(
          Effect.suspend(() => {
            const client = quiet(redis.duplicate({ ...clientOptions, enableOfflineQueue: true }))
            client.on("message", onMessage)
            return open(client).pipe(
              Effect.zipRight(Effect.tryPromise({ try: () => client.subscribe(channel), catch: setupError })),
              Effect.as(client)
            )
          }),
          quit
        )),
      outage: (store, onBack = Effect.void) =>
        Effect.map(SubscriptionRef.make<Status>(Status.Connected()), (status): Outage => {
          const back = SubscriptionRef.modify(
            status,
            (s) => [s._tag === "Lost", s._tag === "Connected" ? s : Status.Connected()] as const
          ).pipe(Effect.flatMap((wasLost) => wasLost ? onBack : Effect.void))
          // a failure Redis answered that no wait fixes is a bug in a script: a defect
          const lost = (failure: StoreFailure): Effect.Effect<never, StoreFailure | StoreUnavailableError> => {
            const reply = failure.cause instanceof ReplyError ? (failure.cause as Error).message : undefined
            if (reply !== undefined && !TRANSIENT_REPLY.test(reply)) return Effect.die(failure.cause)
            return Effect.gen(function*() {
              const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
              const detail = describe(failure.cause)
              const current = yield* SubscriptionRef.updateAndGet(status, (s) =>
                Status.Lost({
                  since: s._tag === "Lost" ? s.since : now,
                  attempts: s._tag === "Lost" ? s.attempts + 1 : 1,
                  detail
                }))
              const since = current._tag === "Lost" ? current.since : now
              if (now - since >= maxOutageMillis) {
                return yield* new StoreUnavailableError({ store, millis: now - since, detail })
              }
              return yield* failure
            })
          }
          return {
            status,
            retrying: (once) =>
              once.pipe(
                Effect.tap(() => back),
                Effect.catchAll(lost),
                Effect.retry({ schedule: backoff, while: (e) => e._tag === "StoreFailure" }),
                Effect.catchTag("StoreFailure", Effect.die)
              )
          }
        })
    }
    return connection
  })
