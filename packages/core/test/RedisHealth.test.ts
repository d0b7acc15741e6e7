import { CertCentralError, ClientHealth } from "@certcentral/core"
import * as HealthRedis from "@certcentral/core/ClientHealth/Redis"
import * as SharedLimits from "@certcentral/core/RollingWindowLimiter/Redis"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Option, Redacted, Schedule } from "effect"
import { Redis } from "ioredis"
import { redisServer, unavailable } from "./fixtures/redisServer.js"

const apiKey = Redacted.make("test-api-key-never-stored")

const healthOn = (
  url: string,
  options: Omit<HealthRedis.Options, "url" | "redis" | "apiKey"> = {},
  circuit?: ClientHealth.Options
) =>
  Effect.flatMap(
    HealthRedis.makeStore({ url, apiKey, ...options }),
    (store) => ClientHealth.make(circuit ?? { firstPause: "300 millis" }, Effect.succeed(store))
  )

const waitUntil = (done: Effect.Effect<boolean>) =>
  done.pipe(Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (ok) => ok }))

const settled = <A, E>(fibers: ReadonlyArray<Fiber.Fiber<A, E>>) =>
  Effect.map(Effect.forEach(fibers, Fiber.poll), (polls) => polls.filter(Option.isSome).length)

describe.skipIf(unavailable !== undefined)("ClientHealth over Redis (against a real redis-server)", () => {
  it.scopedLive("a 429 in one process pauses the other, then one probe goes for both", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const a = yield* healthOn(server.url)
      const b = yield* healthOn(server.url)
      const started = yield* Clock.currentTimeMillis
      expect(yield* a.rateLimited(false, 400)).toBe(true)
      // a second 429 of the same burst, from the other process, makes no second pause
      expect(yield* b.rateLimited(false, 400)).toBe(false)
      const waiters = yield* Effect.all(
        [a, a, a, b, b, b].map((h) => Effect.fork(h.admit(Infinity))),
        { concurrency: "unbounded" }
      )
      // the pause holds all six; then exactly one of them goes, as the probe
      yield* waitUntil(Effect.map(settled(waiters), (n) => n >= 1))
      expect((yield* Clock.currentTimeMillis) - started).toBeGreaterThanOrEqual(350)
      yield* Effect.sleep("300 millis")
      expect(yield* settled(waiters)).toBe(1)
      const firstIndex = (yield* Effect.forEach(waiters, Fiber.poll)).findIndex(Option.isSome)
      const first = yield* Fiber.join(waiters[firstIndex]!)
      expect(first.probe).toBe(true)
      expect((yield* b.snapshot).pauses).toBe(1)
      // the probe's answer (in whichever process it went) lets every other request go, none as a probe
      yield* (firstIndex < 3 ? a : b).succeeded(true)
      const rest = yield* Effect.forEach(waiters.filter((_, i) => i !== firstIndex), Fiber.join)
      expect(rest.map((go) => go.probe)).toEqual([false, false, false, false, false])
    }))

  it.scopedLive("the circuit is one: opened in one process, probed once across both, closed for both", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const a = yield* healthOn(server.url)
      const b = yield* healthOn(server.url)
      yield* a.failed(false, "503 service_unavailable")
      yield* b.failed(false, "connection")
      yield* a.open("connection")
      const seen = yield* b.snapshot
      expect(seen.circuit).toBe("open")
      expect(seen.outages).toBe(1)
      expect(seen.lastFailure).toBe("connection")
      expect(seen.unavailableSince).toBeDefined()
      const waiters = yield* Effect.all(
        [a, b, a, b].map((h) => Effect.fork(h.admit(Infinity))),
        { concurrency: "unbounded" }
      )
      yield* waitUntil(Effect.map(settled(waiters), (n) => n >= 1))
      yield* Effect.sleep("300 millis")
      expect(yield* settled(waiters)).toBe(1)
      expect((yield* a.snapshot).circuit).toBe("probing")
      const index = (yield* Effect.forEach(waiters, Fiber.poll)).findIndex(Option.isSome)
      expect((yield* Fiber.join(waiters[index]!)).probe).toBe(true)
      // a failed probe reopens with a longer pause; the next probe is again one across both
      yield* (index % 2 === 0 ? a : b).failed(true, "503 service_unavailable")
      expect((yield* b.snapshot).circuit).toBe("open")
      yield* waitUntil(Effect.map(settled(waiters), (n) => n >= 2))
      yield* Effect.sleep("300 millis")
      expect(yield* settled(waiters)).toBe(2)
      const second = (yield* Effect.forEach(waiters, Fiber.poll)).findIndex((p, i) => i !== index && Option.isSome(p))
      expect((yield* Fiber.join(waiters[second]!)).probe).toBe(true)
      yield* (second % 2 === 0 ? a : b).succeeded(true)
      for (const h of [a, b]) {
        const s = yield* h.snapshot
        expect(s.circuit).toBe("closed")
        expect(s.gaveUp).toBe(false)
        expect(s.outageMillis).toBeGreaterThan(0)
      }
      const rest = yield* Effect.forEach(waiters.filter((_, i) => i !== index && i !== second), Fiber.join)
      expect(rest.map((go) => go.probe)).toEqual([false, false])
    }))

  it.scopedLive("a probe whose process stopped without an answer ends with its lease; the next request probes", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const b = yield* healthOn(server.url, { probeLease: "400 millis" })
      let started = 0
      yield* Effect.scoped(Effect.gen(function*() {
        const a = yield* healthOn(server.url, { probeLease: "400 millis" })
        yield* a.open("connection")
        expect((yield* a.admit(Infinity)).probe).toBe(true)
        started = yield* Clock.currentTimeMillis
        // process a "stops" here: its connections close, its probe never answers
      }))
      const go = yield* b.admit(Infinity)
      expect(go.probe).toBe(true)
      expect((yield* Clock.currentTimeMillis) - started).toBeGreaterThanOrEqual(350)
    }))

  it.scopedLive("an interrupted probe hands the probe on at once", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const a = yield* healthOn(server.url)
      const b = yield* healthOn(server.url)
      yield* a.open("connection")
      expect((yield* a.admit(Infinity)).probe).toBe(true)
      yield* a.abandoned
      expect((yield* b.snapshot).circuit).toBe("open")
      expect((yield* b.admit(Infinity)).probe).toBe(true)
    }))

  it.scopedLive("past maxOutage the API counts as given up in every process", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const a = yield* healthOn(server.url)
      const b = yield* healthOn(server.url)
      yield* a.open("503 service_unavailable")
      yield* Effect.sleep("50 millis")
      const go = yield* b.admit(10)
      expect(go).toMatchObject({ probe: false, gaveUp: true, first: true })
      expect((yield* a.snapshot).gaveUp).toBe(true)
      expect((yield* a.admit(10)).first).toBe(false)
    }))

  it.scopedLive("Redis lost: operations wait and retry, then fail typed (StoreUnavailableError) past maxOutage", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const a = yield* healthOn(server.url, { maxOutage: "10 seconds" })
      const b = yield* healthOn(server.url, { maxOutage: "300 millis" })
      yield* server.stop
      const waiting = yield* Effect.fork(a.admit(Infinity))
      const error = yield* Effect.flip(b.admit(Infinity))
      expect(error).toBeInstanceOf(CertCentralError.StoreUnavailableError)
      expect(error).toBeInstanceOf(SharedLimits.RedisOutageError)
      expect(error.store).toBe("health")
      expect(error.millis).toBeGreaterThanOrEqual(300)
      expect(error.message).not.toContain("test-api-key")
      // the other operations fail the same way, typed; a read answers the last state it saw
      expect((yield* Effect.flip(b.failed(false, "connection")))._tag).toBe("StoreUnavailableError")
      expect((yield* b.snapshot).circuit).toBe("closed")
      yield* server.start
      expect((yield* Fiber.join(waiting)).probe).toBe(false)
    }))

  it.scopedLive("never writes the API key to Redis: keys and values", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const a = yield* healthOn(server.url)
      yield* a.failed(false, "503 service_unavailable")
      yield* a.rateLimited(false, 50)
      yield* a.open("connection")
      yield* a.admit(Infinity)
      const redis = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(server.url)),
        (client) => Effect.promise(() => client.quit())
      )
      const dump = yield* Effect.promise(async () => {
        const keys = await redis.keys("*")
        const values = await Promise.all(keys.map(async (key) => {
          const type = await redis.type(key)
          return type === "hash" ? JSON.stringify(await redis.hgetall(key)) : String(await redis.get(key))
        }))
        return { keys, text: keys.join("\n") + values.join("\n") }
      })
      expect(dump.keys.length).toBeGreaterThanOrEqual(2)
      expect(dump.keys.every((key) => key.startsWith(SharedLimits.namespace(apiKey)))).toBe(true)
      expect(dump.text).not.toContain("test-api-key")
    }))
})
