import { CertCentralClient, CertCentralError, ClientHealth, RollingWindowLimiter } from "@certcentral/core"
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Logger, Metric, Redacted, TestClock } from "effect"

const API_KEY = "circuit-k3y-never-in-a-log-0123456789"

type Reply = number | "reset"

/** A scripted HttpClient: `reply` answers each request by its number; every send time is recorded. */
const scripted = (reply: (n: number) => Reply) => {
  const sent: Array<number> = []
  const client = HttpClient.make((request) =>
    Effect.gen(function*() {
      sent.push(yield* Clock.currentTimeMillis)
      const answer = reply(sent.length)
      if (answer === "reset") {
        return yield* Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNRESET") })
        )
      }
      const body = answer === 200
        ? JSON.stringify({ certificates: [] })
        : JSON.stringify({ errors: [{ code: answer === 429 ? "request_limit_exceeded" : "service_unavailable" }] })
      return HttpClientResponse.fromWeb(
        request,
        new Response(body, { status: answer, headers: { "content-type": "application/json" } })
      )
    })
  )
  return { client, sent }
}

const makeClient = (client: HttpClient.HttpClient, retry: CertCentralClient.RetryOptions) =>
  CertCentralClient.make({
    apiKey: Redacted.make(API_KEY),
    baseUrl: "http://certcentral.test/services/v2",
    rateLimit: "off",
    retry: { baseDelay: "10 millis", budget: false, ...retry }
  }).pipe(Effect.orDie, Effect.provideService(HttpClient.HttpClient, client))

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((t, i) => t - times[i]!)

describe("ClientHealth", () => {
  it.effect("opens after N failures in a row, sends one probe per pause (doubling, capped), closes on success", () =>
    Effect.gen(function*() {
      let down = true
      const { client, sent } = scripted(() => (down ? 503 : 200))
      const cc = yield* makeClient(client, {
        maxAttempts: 2,
        circuit: { failureThreshold: 3, firstPause: "1 second", maxPause: "4 seconds" }
      })
      const calls = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 10 }, (_, i) => i + 1), (id) => cc.listDuplicates(id), {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust("100 millis")
      expect(sent).toHaveLength(10)
      const open = yield* cc.stats
      expect(open.circuit).toBe("open")
      expect(open.outages).toBe(1)
      expect(open.unavailableSince).toBe(0)
      expect(open.nextProbeAt).toBeGreaterThanOrEqual(800)
      expect(open.nextProbeAt).toBeLessThanOrEqual(1200)

      // pauses of 1, 2, 4, 4, 4 seconds (±20 %): five failed probes, one request each; the clock moves in small steps
      // until each probe goes, so that the jitter drawn cannot change what the test sees
      for (let probe = 0; probe < 5; probe++) {
        const before = sent.length
        for (let step = 0; step < 100 && sent.length === before; step++) yield* TestClock.adjust("100 millis")
        expect(sent.length).toBe(before + 1)
      }
      const probes = sent.slice(10)
      const expected = [2000, 4000, 4000, 4000]
      gaps(probes).forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(expected[i]! * 0.8)
        expect(gap).toBeLessThanOrEqual(expected[i]! * 1.2 + 100)
      })
      // calls that waited did not fail, although each may try only twice
      expect(calls.unsafePoll()).toBeNull()

      down = false
      yield* TestClock.adjust("6 seconds")
      const results = yield* Fiber.join(calls)
      expect(results).toHaveLength(10)
      // the probe's success let the nine others through
      expect(sent).toHaveLength(10 + 6 + 9)
      const stats = yield* cc.stats
      expect(stats.circuit).toBe("closed")
      expect(stats.unavailableSince).toBeUndefined()
      expect(stats.nextProbeAt).toBeUndefined()
      expect(stats.outages).toBe(1)
      // 0.8 + 1.6 + 3.2 + 3.2 + 3.2 s at the least, then the pause before the probe that succeeds
      expect(stats.outageMillis).toBeGreaterThanOrEqual(15_000)
      expect(stats.gaveUp).toBe(false)
    }))

  it.effect("keeps today's per-call retries for isolated failures", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted((n) => (n % 2 === 1 ? "reset" : 200))
      const cc = yield* makeClient(client, { maxAttempts: 2 })
      for (let id = 1; id <= 20; id++) {
        const fiber = yield* Effect.fork(cc.listDuplicates(id))
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toEqual([])
      }
      expect(sent).toHaveLength(40)
      expect((yield* cc.stats).outages).toBe(0)
    }))

  it.effect("gives up past maxOutage with the last error, gaveUp set first, cleared by a success", () =>
    Effect.gen(function*() {
      let down = true
      const { client, sent } = scripted((n) => (down ? (n % 2 === 0 ? "reset" : 502) : 200))
      const cc = yield* makeClient(client, { maxOutage: "10 seconds", circuit: { failureThreshold: 2 } })
      const seenWhenFailing: Array<boolean> = []
      const call = yield* Effect.fork(
        cc.listDuplicates(1).pipe(
          Effect.tapError(() => Effect.map(cc.stats, (s) => seenWhenFailing.push(s.gaveUp)))
        )
      )
      yield* TestClock.adjust("9 seconds")
      expect(call.unsafePoll()).toBeNull()
      const requestsBefore = sent.length
      // 1 + 2 + 4 s of pauses: a handful of requests in 9 s, not one per backoff
      expect(requestsBefore).toBeLessThanOrEqual(6)
      yield* TestClock.adjust("2 seconds")
      const exit = yield* Fiber.await(call)
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        const error = exit.cause.error
        // a typed give-up carrying the call's last failure (the gate sends nothing more when it gives up)
        expect(error._tag).toBe("UnavailableError")
        if (error._tag !== "UnavailableError") return
        expect(["ServerError", "TransportError"]).toContain(error.lastError._tag)
        expect(error.unavailableMillis).toBeGreaterThanOrEqual(10_000)
        expect(error.message).toContain(`last: ${CertCentralError.describe(error.lastError)}`)
      } else {
        throw new Error("expected a typed failure")
      }
      expect(seenWhenFailing).toEqual([true])
      expect(sent.length).toBe(requestsBefore)
      const gaveUp = yield* cc.stats
      expect(gaveUp.gaveUp).toBe(true)
      expect(gaveUp.circuit).not.toBe("closed")

      // a new call goes out at once instead of waiting, and its success ends the outage
      down = false
      expect(yield* cc.listDuplicates(2)).toEqual([])
      const back = yield* cc.stats
      expect(back.gaveUp).toBe(false)
      expect(back.circuit).toBe("closed")
    }))

  it.effect("maxOutage 0 fails fast as soon as the circuit opens", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted(() => 503)
      const cc = yield* makeClient(client, { maxOutage: 0, maxAttempts: 10, circuit: { failureThreshold: 3 } })
      const fiber = yield* Effect.fork(cc.listDuplicates(1))
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "UnavailableError" } } })
      expect(sent).toHaveLength(3)
      expect((yield* cc.stats).gaveUp).toBe(true)
    }))

  it.effect("a 429 from the probe closes the circuit and its pause takes over; 429s never open it", () =>
    Effect.gen(function*() {
      // two 503s open the circuit, the probe gets a 429, then the API answers
      const { client, sent } = scripted((n) => (n <= 2 ? 503 : n === 3 ? 429 : 200))
      const cc = yield* makeClient(client, {
        baseDelay: "3 seconds",
        circuit: { failureThreshold: 2, firstPause: "1 second" }
      })
      const calls = yield* Effect.fork(
        Effect.all([cc.listDuplicates(1), cc.listDuplicates(2)], { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("100 millis")
      expect((yield* cc.stats).circuit).toBe("open")
      yield* TestClock.adjust("1200 millis")
      expect(sent).toHaveLength(3)
      const paused = yield* cc.stats
      expect(paused.circuit).toBe("closed")
      expect(paused.pauses).toBe(1)
      expect(paused.rateLimited).toBe(1)
      // the 429 pause (the retry backoff of about 3 s) holds both calls: nothing is sent into it
      yield* TestClock.adjust("2 seconds")
      expect(sent).toHaveLength(3)
      yield* TestClock.adjust("5 seconds")
      expect(yield* Fiber.join(calls)).toEqual([[], []])
      expect(sent).toHaveLength(5)

      const storm = scripted((n) => (n <= 10 ? 429 : 200))
      const other = yield* makeClient(storm.client, { circuit: { failureThreshold: 2 } })
      const fiber = yield* Effect.fork(
        Effect.forEach([1, 2, 3, 4, 5], (id) => other.listDuplicates(id), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("2 minutes")
      expect(yield* Fiber.join(fiber)).toHaveLength(5)
      const stats = yield* other.stats
      expect(stats.outages).toBe(0)
      expect(stats.rateLimited).toBe(10)
    }))

  it.effect("logs transitions at warning level without the key and counts them in a Metric", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => lines.push(`${logLevel.label} ${String(message)}`))
      let down = true
      const { client } = scripted(() => (down ? 503 : 200))
      const opened = Metric.tagged(ClientHealth.transitions, "transition", "opened")
      const closed = Metric.tagged(ClientHealth.transitions, "transition", "closed")
      const before = { opened: (yield* Metric.value(opened)).count, closed: (yield* Metric.value(closed)).count }
      const program = Effect.gen(function*() {
        const cc = yield* makeClient(client, { circuit: { failureThreshold: 2 } })
        const fiber = yield* Effect.fork(cc.listDuplicates(1))
        yield* TestClock.adjust("2 seconds")
        down = false
        yield* TestClock.adjust("5 seconds")
        yield* Fiber.join(fiber)
      })
      yield* program.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(lines.some((l) => /^WARN CertCentral API unavailable \(last: 503 service_unavailable\)/.test(l))).toBe(
        true
      )
      expect(lines.some((l) => /^WARN CertCentral API available again/.test(l))).toBe(true)
      expect(lines.join("\n")).not.toContain(API_KEY)
      expect((yield* Metric.value(opened)).count - before.opened).toBe(1)
      expect((yield* Metric.value(closed)).count - before.closed).toBe(1)
    }))

  it.effect("two clients given the same health and limiter layers share one circuit", () =>
    Effect.gen(function*() {
      let down = true
      const a = scripted(() => (down ? 503 : 200))
      const b = scripted(() => 200)
      const make = (client: HttpClient.HttpClient) =>
        CertCentralClient.make({
          apiKey: Redacted.make(API_KEY),
          baseUrl: "http://certcentral.test/services/v2",
          retry: { baseDelay: "10 millis", budget: false }
        }).pipe(Effect.orDie, Effect.provideService(HttpClient.HttpClient, client))
      const shared = Layer.merge(
        ClientHealth.layer({ failureThreshold: 2, firstPause: "5 seconds" }),
        RollingWindowLimiter.layer([{ limit: 100, window: "1 second" }])
      )
      yield* Effect.gen(function*() {
        const first = yield* make(a.client)
        const second = yield* make(b.client)
        const failing = yield* Effect.fork(first.listDuplicates(1))
        yield* TestClock.adjust("100 millis")
        expect((yield* second.stats).circuit).toBe("open")
        // the second client waits for the shared probe instead of sending
        const waiting = yield* Effect.fork(second.listDuplicates(2))
        yield* TestClock.adjust("1 second")
        expect(b.sent).toHaveLength(0)
        down = false
        yield* TestClock.adjust("10 seconds")
        yield* Fiber.join(failing)
        yield* Fiber.join(waiting)
        expect(b.sent).toHaveLength(1)
        expect(yield* RollingWindowLimiter.RollingWindowLimiter.pipe(Effect.flatMap((l) => l.share))).toBe(1)
      }).pipe(Effect.provide(shared))
    }))

  it.effect("bad options fail with a typed InvalidOptionsError naming the option", () =>
    Effect.gen(function*() {
      const { client } = scripted(() => 200)
      const attempt = (options: Partial<CertCentralClient.Options>) =>
        CertCentralClient.make({ apiKey: Redacted.make(API_KEY), ...options }).pipe(
          Effect.provideService(HttpClient.HttpClient, client),
          Effect.flip
        )
      const cases: Array<[Partial<CertCentralClient.Options>, string]> = [
        [{ baseUrl: "ftp://example.com" }, "baseUrl"],
        [{ region: "mars" as never }, "region"],
        [{ rateLimit: [{ limit: 0, window: "1 second" }] }, "rateLimit"],
        [{ timeout: -5 }, "timeout"],
        [{ retry: { maxOutage: "soon" as never } }, "retry.maxOutage"],
        [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
        [{ maxResponseBytes: 0 }, "maxResponseBytes"]
      ]
      for (const [options, option] of cases) {
        const error = yield* attempt(options)
        expect(error._tag).toBe("InvalidOptionsError")
        expect(error.option).toBe(option)
        expect(error.message).not.toContain(API_KEY)
      }
    }))

  it.effect("a shared store lost past its maxOutage fails the call typed: UnavailableError carrying the store's error", () =>
    Effect.gen(function*() {
      const { client, sent } = scripted(() => 200)
      const lost = (store: "limiter" | "health") =>
        new CertCentralError.StoreUnavailableError({ store, millis: 600_000, detail: "connect ECONNREFUSED" })
      // the limiter's store lost: no request goes out
      const memory = yield* RollingWindowLimiter.memoryStore([{ limit: 10, window: "1 second" }])
      const limiter = yield* RollingWindowLimiter.makeWith({ ...memory, take: () => Effect.fail(lost("limiter")) })
      const overLimiter = yield* CertCentralClient.make({
        apiKey: Redacted.make(API_KEY),
        baseUrl: "http://certcentral.test/services/v2",
        rateLimit: limiter
      }).pipe(Effect.orDie, Effect.provideService(HttpClient.HttpClient, client))
      const first = yield* Effect.flip(overLimiter.listDuplicates(1))
      expect(first._tag).toBe("UnavailableError")
      if (first._tag !== "UnavailableError") return
      expect(first.lastError).toMatchObject({ _tag: "StoreUnavailableError", store: "limiter" })
      expect(first.unavailableMillis).toBe(600_000)
      expect(CertCentralError.describe(first.lastError)).toBe("Redis unreachable: connect ECONNREFUSED")
      // the health store lost: the gate fails the same way, typed, never a defect
      const health = yield* ClientHealth.make(
        undefined,
        Effect.map(ClientHealth.memoryStore, (store) => ({ ...store, enter: () => Effect.fail(lost("health")) }))
      )
      const overHealth = yield* makeClient(client, {}).pipe(Effect.provideService(ClientHealth.ClientHealth, health))
      const second = yield* Effect.flip(overHealth.listDuplicates(1))
      expect(second).toMatchObject({ _tag: "UnavailableError", lastError: { store: "health" } })
      expect(sent).toHaveLength(0)
    }))
})
