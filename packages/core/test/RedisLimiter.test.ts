import { RollingWindowLimiter } from "@certcentral/core"
import * as RedisLimiter from "@certcentral/core/RollingWindowLimiter/Redis"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Duration, Effect, Fiber, Redacted, Schedule, Stream } from "effect"
import { Redis } from "ioredis"
import * as scripts from "../src/internal/redisScripts.js"
import { freePort, redisServer, unavailable } from "./fixtures/redisServer.js"

interface Interval {
  readonly start: number
  readonly end: number
}

// Reference model of the server: a sliding log that counts arrivals in (T - W, T].
const maxInAnyWindow = (arrivals: ReadonlyArray<number>, windowMillis: number): number => {
  const sorted = [...arrivals].sort((a, b) => a - b)
  let best = 0
  let lo = 0
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[lo]! <= sorted[hi]! - windowMillis) lo++
    best = Math.max(best, hi - lo + 1)
  }
  return best
}

const expectWithinWindows = (
  intervals: ReadonlyArray<Interval>,
  windows: ReadonlyArray<{ readonly limit: number; readonly windowMillis: number }>
) => {
  for (const { limit, windowMillis } of windows) {
    // The server may count a request anywhere between send and response: check both ends and a mix.
    expect(maxInAnyWindow(intervals.map((r) => r.start), windowMillis)).toBeLessThanOrEqual(limit)
    expect(maxInAnyWindow(intervals.map((r) => r.end), windowMillis)).toBeLessThanOrEqual(limit)
    expect(maxInAnyWindow(intervals.map((r, i) => (i % 2 === 0 ? r.start : r.end)), windowMillis))
      .toBeLessThanOrEqual(limit)
  }
}

const apiKey = Redacted.make("test-api-key-never-stored")

// `fibers` fibers per limiter each run `perFiber` requests of 0 to 29 ms; returns the log of what ran when.
const runLoad = (
  limiters: ReadonlyArray<RedisLimiter.RedisLimiter>,
  fibers: number,
  perFiber: number
) =>
  Effect.gen(function*() {
    const intervals: Array<Interval> = []
    let counter = 0
    const one = Effect.gen(function*() {
      const i = counter++
      const start = yield* Clock.currentTimeMillis
      yield* Effect.sleep(Duration.millis((i * 7) % 30))
      intervals.push({ start, end: yield* Clock.currentTimeMillis })
    })
    const workers = limiters.flatMap((limiter) =>
      Array.from(
        { length: fibers },
        () => Effect.forEach(Array.from({ length: perFiber }), () => limiter.withPermitOrFail(one), { discard: true })
      )
    )
    yield* Effect.all(workers, { concurrency: "unbounded", discard: true })
    return intervals
  })

const waitUntil = (done: () => boolean) =>
  Effect.sync(done).pipe(Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (ok) => ok }))

const connect = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new Redis(url, { lazyConnect: true })
      await client.connect()
      return client
    }),
    (client) => Effect.promise(() => client.quit())
  )

describe.skipIf(unavailable !== undefined)("RollingWindowLimiter/Redis (against a real redis-server)", () => {
  it.scopedLive("two limiters on one key never exceed any window together", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const windows: ReadonlyArray<RollingWindowLimiter.Window> = [{ limit: 5, window: "200 millis" }, {
        limit: 12,
        window: "1 second"
      }]
      const a = yield* RedisLimiter.make({ url: server.url, apiKey, windows })
      const b = yield* RedisLimiter.make({ url: server.url, apiKey, windows })
      expect(a.namespace).toBe(b.namespace)
      const intervals = yield* runLoad([a, b], 5, 4)
      expect(intervals).toHaveLength(40)
      expectWithinWindows(intervals, a.windows)
      expect(yield* a.inFlight).toBe(0)
      expect(yield* b.inFlight).toBe(0)
    }))

  it.scopedLive("limiters on other keys or names do not share a budget", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const windows: ReadonlyArray<RollingWindowLimiter.Window> = [{ limit: 2, window: "1 minute" }]
      const a = yield* RedisLimiter.make({ url: server.url, apiKey, windows })
      const other = yield* RedisLimiter.make({ url: server.url, apiKey: Redacted.make("another-key"), windows })
      const named = yield* RedisLimiter.make({ url: server.url, apiKey, windows, name: "inventory" })
      expect(new Set([a.namespace, other.namespace, named.namespace]).size).toBe(3)
      // each of the three may send its two at once: a shared budget would leave the last four waiting a minute
      yield* Effect.all([a, a, other, other, named, named].map((l) => l.withPermitOrFail(Effect.void)), {
        concurrency: "unbounded"
      })
    }))

  it.scopedLive("the acquire script admits exactly the limit among 100 concurrent callers on 4 connections", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const clients = yield* Effect.all(Array.from({ length: 4 }, () => connect(server.url)))
      const keys = ["t:{x}:inflight", "t:{x}:log", "t:{x}:horizon", "t:{x}:share"]
      const acquire = (id: string) =>
        Effect.promise(() =>
          clients[id.length % 4]!.eval(scripts.acquire, 4, ...keys, id, 60_000, 60_000, 2, 7, 60_000, 50, 1000)
        ) as Effect.Effect<[number, number, string, number?]>
      const replies = yield* Effect.all(Array.from({ length: 100 }, (_, i) => acquire(`id-${i}`)), {
        concurrency: "unbounded"
      })
      expect(replies.filter((r) => r[0] === 1)).toHaveLength(7)
      expect(yield* Effect.promise(() => clients[0]!.zcard(keys[0]!))).toBe(7)
      // a retried acquire of an admitted id keeps its one slot
      const admitted = replies.findIndex((r) => r[0] === 1)
      expect((yield* acquire(`id-${admitted}`))[0]).toBe(1)
      expect(yield* Effect.promise(() => clients[0]!.zcard(keys[0]!))).toBe(7)
      // the refused wait for a release: the earliest lease end is when to look again at the latest
      const refused = replies.find((r) => r[0] === 0)!
      expect(refused[3]! - refused[1]).toBeGreaterThan(0)
      expect(refused[3]! - refused[1]).toBeLessThanOrEqual(60_000)
      // releasing two lets exactly two of the next 50 in; the other window (7 per minute) is now the limit
      const release = (id: string) =>
        Effect.promise(() => clients[1]!.eval(scripts.release, 3, ...keys.slice(0, 3), id, 60_000, "t:chan"))
      const held = replies.flatMap((r, i) => r[0] === 1 ? [`id-${i}`] : [])
      yield* Effect.all(held.slice(0, 2).map(release), { concurrency: "unbounded" })
      const again = yield* Effect.all(Array.from({ length: 50 }, (_, i) => acquire(`next-${i}`)), {
        concurrency: "unbounded"
      })
      // 7 per minute counts the two released ones too: nobody gets in
      expect(again.filter((r) => r[0] === 1)).toHaveLength(0)
      // releasing an id that was never admitted changes nothing
      yield* release("never-admitted")
      expect(yield* Effect.promise(() => clients[0]!.zcard(keys[1]!))).toBe(2)
    }))

  it.scopedLive("a waiter wakes on the release and at the computed opening, never by polling", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const client = yield* connect(server.url)
      const scriptCalls = Effect.promise(async () => {
        const info = await client.info("commandstats")
        return [...info.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
      })
      const windows: ReadonlyArray<RollingWindowLimiter.Window> = [{ limit: 1, window: "2 seconds" }]
      // a's lease outlasts the test: only the release notice over pub/sub can wake b in time
      const a = yield* RedisLimiter.make({ url: server.url, apiKey, windows, lease: "1 hour" })
      const b = yield* RedisLimiter.make({ url: server.url, apiKey, windows })
      const warmUp = yield* RedisLimiter.make({ url: server.url, apiKey, name: "warm-up", windows })
      yield* warmUp.withPermitOrFail(Effect.void) // loads the scripts into Redis
      const before = yield* scriptCalls
      // a holds the only slot for 300 ms; b asks at 100 ms and may go 2 s after a's response
      const ran: Array<string> = []
      yield* Effect.all([
        a.withPermitOrFail(Effect.sleep("300 millis").pipe(Effect.zipRight(Effect.sync(() => ran.push("a"))))),
        Effect.sleep("100 millis").pipe(Effect.zipRight(b.withPermitOrFail(Effect.sync(() => ran.push("b")))))
      ], { concurrency: "unbounded" })
      expect(ran).toEqual(["a", "b"])
      // a: acquire, release. b: refused (wait for a release), refused again on the release's notice (now it knows
      // when the window opens), admitted then, release: 6. The second refusal is skipped only if b woke so late that
      // the window had opened. Polling would be dozens.
      const calls = (yield* scriptCalls) - before
      expect(calls).toBeGreaterThanOrEqual(5)
      expect(calls).toBeLessThanOrEqual(6)
    }))

  it.scopedLive("a slot whose process never releases it ends with its lease, then counts for a window", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const limiter = yield* RedisLimiter.make({
        url: server.url,
        apiKey,
        windows: [{ limit: 1, window: "300 millis" }],
        lease: "400 millis"
      })
      const client = yield* connect(server.url)
      const keys = ["inflight", "log", "horizon", "share"].map((k) => `${limiter.namespace}${k}`)
      // a "crashed" process took the only slot with a 400 ms lease and vanished
      const [granted, crashedAt] = (yield* Effect.promise(() =>
        client.eval(scripts.acquire, 4, ...keys, "crashed", 400, 300, 1, 1, 300)
      )) as [number, number]
      expect(granted).toBe(1)
      yield* limiter.withPermitOrFail(Effect.void)
      const time = yield* Effect.promise(() =>
        client.time()
      )
      const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
      // it got in no sooner than lease end + window, in the server's time
      expect(now - crashedAt).toBeGreaterThanOrEqual(700)
    }))

  it.scopedLive("backOff in one process lowers the share of every process on the key", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const windows: ReadonlyArray<RollingWindowLimiter.Window> = [{ limit: 4, window: "1 hour" }]
      const a = yield* RedisLimiter.make({ url: server.url, apiKey, windows })
      const b = yield* RedisLimiter.make({ url: server.url, apiKey, windows })
      yield* a.backOff
      expect(yield* b.share).toBeCloseTo(0.75, 3)
      // 4 * 0.75 = 3: b admits three within the hour, and the fourth waits
      let ran = 0
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 4 }, () => b.withPermitOrFail(Effect.sync(() => ran++))), {
          concurrency: "unbounded"
        })
      )
      yield* waitUntil(() => ran >= 3)
      // a fourth admission could only come later, so a pause can only let an error show, never hide one
      yield* Effect.sleep("300 millis")
      expect(ran).toBe(3)
      yield* Fiber.interrupt(fiber)
      yield* b.backOff
      expect(yield* a.share).toBeCloseTo(0.5625, 3)
    }))

  it.scopedLive("survives a Redis restart mid-run: waits, shows it, and goes on", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const windows: ReadonlyArray<RollingWindowLimiter.Window> = [{ limit: 4, window: "200 millis" }]
      const limiter = yield* RedisLimiter.make({
        url: server.url,
        apiKey,
        windows,
        maxOutage: "1 minute",
        commandTimeout: "500 millis",
        // no periodic renewal within the test: only the re-registration after the outage can restore a slot
        lease: "1 hour"
      })
      const statuses: Array<string> = []
      yield* Effect.forkScoped(
        Stream.runForEach(limiter.statusChanges, (s) => Effect.sync(() => statuses.push(s._tag)))
      )
      const before = yield* runLoad([limiter], 2, 4)
      // a long request holds its slot across the restart
      const gate = yield* Deferred.make<void>()
      let longStarted = false
      const long = yield* Effect.fork(
        limiter.withPermitOrFail(Effect.zipRight(Effect.sync(() => longStarted = true), Deferred.await(gate)))
      )
      yield* waitUntil(() => longStarted)
      yield* server.stop
      const during = yield* Effect.fork(runLoad([limiter], 2, 4))
      yield* waitUntil(() => statuses.includes("Lost"))
      const status = yield* limiter.status
      expect(status._tag).toBe("Lost")
      yield* server.start
      const after = yield* Fiber.join(during)
      expect(before).toHaveLength(8)
      expect(after).toHaveLength(8)
      // the restarted Redis knew nothing of the long request: the limiter registered it again
      const client = yield* connect(server.url)
      yield* Effect.promise(() => client.zcard(`${limiter.namespace}inflight`)).pipe(
        Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (n) => n === 1 })
      )
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(long)
      expect(yield* Effect.promise(() => client.zcard(`${limiter.namespace}inflight`))).toBe(0)
      // the requests after the restart keep the windows among themselves (the restart forgot the earlier ones)
      expectWithinWindows(after, limiter.windows)
      expect((yield* limiter.status)._tag).toBe("Connected")
      expect(statuses.slice(-1)).toEqual(["Connected"])
    }))

  it.scopedLive("Redis lost for longer than maxOutage: withPermit and withPermitOrFail fail typed, never die", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const limiter = yield* RedisLimiter.make({
        url: server.url,
        apiKey,
        windows: [{ limit: 10, window: "1 second" }],
        maxOutage: "300 millis",
        commandTimeout: "200 millis"
      })
      yield* limiter.withPermitOrFail(Effect.void)
      yield* server.stop
      const failed = yield* Effect.flip(limiter.withPermitOrFail(Effect.void))
      expect(failed._tag).toBe("StoreUnavailableError")
      expect(failed).toBeInstanceOf(RedisLimiter.RedisOutageError)
      expect(failed.message).toMatch(/^Redis unreachable for \d+ s/)
      const again = yield* Effect.flip(limiter.withPermit(Effect.void))
      expect(again).toMatchObject({ _tag: "StoreUnavailableError", store: "limiter" })
    }))

  it.scopedLive("never writes the API key to Redis", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const limiter = yield* RedisLimiter.make({ url: server.url, apiKey, windows: [{ limit: 3, window: "1 second" }] })
      yield* limiter.withPermitOrFail(Effect.void)
      yield* limiter.backOff
      const client = yield* connect(server.url)
      const keys = yield* Effect.promise(() => client.keys("*"))
      expect(keys.length).toBeGreaterThan(0)
      for (const key of keys) {
        expect(key.startsWith(limiter.namespace)).toBe(true)
        expect(key).not.toContain(Redacted.value(apiKey))
      }
    }))
})

describe("RollingWindowLimiter/Redis at start", () => {
  it.scopedLive("an unreachable Redis is a RedisSetupError with one line and no password", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const error = yield* Effect.flip(RedisLimiter.make({
        url: `redis://:hunter2@127.0.0.1:${port}/2`,
        apiKey,
        windows: [{ limit: 1, window: "1 second" }],
        commandTimeout: "2 seconds"
      }))
      expect(error._tag).toBe("RedisSetupError")
      expect(error.message).toContain(`redis://127.0.0.1:${port}/2`)
      expect(error.message).not.toContain("hunter2")
      expect(error.message).not.toContain("\n")
    }))

  it.scopedLive("refuses URLs that are not redis:// before connecting", () =>
    Effect.gen(function*() {
      for (const url of ["http://127.0.0.1:6379", "not a url", ""]) {
        const error = yield* Effect.flip(
          RedisLimiter.make({ url, apiKey, windows: [{ limit: 1, window: "1 second" }] })
        )
        expect(error._tag).toBe("RedisSetupError")
        expect(error.detail).toContain("redis://host:port")
      }
      const badName = yield* Effect.flip(RedisLimiter.make({
        url: "redis://127.0.0.1:1",
        apiKey,
        name: "has space",
        windows: [{ limit: 1, window: "1 second" }]
      }))
      expect(badName.detail).toContain("limiter name")
    }))
})
