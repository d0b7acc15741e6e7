import { CertCentralClient, CertCentralError, StatusChange } from "@certcentral/core"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Redacted, TestClock } from "effect"

const API_KEY = "k3y-of-the-status-change-tests-0123"

type Reply = { readonly status: number; readonly body: string }

/** A scripted status change endpoint: answers each call from `replies` (the last one repeats) and records the URLs. */
const scripted = (replies: ReadonlyArray<Reply | ((url: URL) => Reply)>) => {
  const urls: Array<URL> = []
  const raw: Array<string> = []
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      urls.push(url)
      raw.push(request.url + "?" + url.search)
      const next = replies[Math.min(urls.length, replies.length) - 1]!
      const reply = typeof next === "function" ? next(url) : next
      return HttpClientResponse.fromWeb(
        request,
        new Response(reply.body, { status: reply.status, headers: { "content-type": "application/json" } })
      )
    })
  )
  return { urls, raw, client }
}

const layerOf = (client: HttpClient.HttpClient, options: Partial<CertCentralClient.Options> = {}) =>
  CertCentralClient.layer({
    apiKey: Redacted.make(API_KEY),
    baseUrl: "http://certcentral.test/services/v2",
    rateLimit: "off",
    ...options
  }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)), Layer.orDie)

const changes = (frame: StatusChange.TimeFrame) =>
  Effect.flatMap(CertCentralClient.CertCentralClient, (cc) => cc.listStatusChanges(frame))

const ok = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body) })

const failureOf = <A, E>(exit: Exit.Exit<A, E>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  if (exit.cause._tag !== "Fail") throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return exit.cause.error
}

const day = 86_400_000

describe("listStatusChanges", () => {
  it.effect("decodes the documented answer and asks the documented path with minutes", () =>
    Effect.gen(function*() {
      const { client, urls } = scripted([
        ok({
          orders: [{ order_id: 265, certificate_id: 112233, status: "issued" }, {
            order_id: 266,
            certificate_id: 9,
            status: "revoked"
          }]
        })
      ])
      const list = yield* Effect.provide(changes(StatusChange.upToNow(90 * 60_000)), layerOf(client))
      expect(list.map((c) => [c.order_id, c.certificate_id, c.status])).toEqual([[265, 112233, "issued"], [
        266,
        9,
        "revoked"
      ]])
      expect(urls).toHaveLength(1)
      expect(urls[0]!.pathname).toBe("/services/v2/order/certificate/status-changes")
      expect(urls[0]!.searchParams.get("minutes")).toBe("90")
      expect(urls[0]!.searchParams.has("seconds")).toBe(false)
      expect(urls[0]!.searchParams.has("filters[status_last_updated]")).toBe(false)
    }))

  it.effect("sends seconds when the frame is not whole minutes", () =>
    Effect.gen(function*() {
      const { client, urls } = scripted([ok({ orders: [] })])
      yield* Effect.provide(changes(StatusChange.upToNow(61_500)), layerOf(client))
      expect(urls[0]!.searchParams.get("seconds")).toBe("62")
      expect(urls[0]!.searchParams.has("minutes")).toBe(false)
    }))

  it.effect("reads the empty object of DigiCert's examples as no changes", () =>
    Effect.gen(function*() {
      const { client } = scripted([ok({})])
      expect(yield* Effect.provide(changes(StatusChange.upToNow(60_000)), layerOf(client))).toEqual([])
    }))

  it.effect("accepts unknown fields, unknown statuses and a missing certificate id", () =>
    Effect.gen(function*() {
      const { client } = scripted([
        ok({ orders: [{ order_id: 7, status: "quarantined", x_future: { a: 1 } }], x_meta: true })
      ])
      const list = yield* Effect.provide(changes(StatusChange.upToNow(60_000)), layerOf(client))
      expect(list.map((c) => [c.order_id, c.certificate_id, c.status])).toEqual([[7, undefined, "quarantined"]])
    }))

  it.effect("a body that does not fit (an order id that is not an id) is a DecodeError naming the endpoint", () =>
    Effect.gen(function*() {
      const { client } = scripted([ok({ orders: [{ order_id: "x", status: "issued" }] })])
      const error = failureOf(
        yield* Effect.exit(Effect.provide(changes(StatusChange.upToNow(60_000)), layerOf(client)))
      )
      expect(error._tag).toBe("DecodeError")
      expect(error.endpoint).toBe("listStatusChanges")
    }))

  it.effect("sends the date filter in MDT (UTC-6) as yyyy-MM-dd+HH:mm:ss, widened to whole seconds", () =>
    Effect.gen(function*() {
      const { client, urls, raw } = scripted([ok({ orders: [] })])
      const start = Date.UTC(2024, 0, 2, 3, 4, 5, 600) // 2024-01-01 21:04:05.600 in MDT
      const end = Date.UTC(2024, 0, 8, 0, 0, 0, 1)
      yield* Effect.provide(changes(StatusChange.between(start, end)), layerOf(client))
      expect(urls[0]!.searchParams.get("filters[status_last_updated]")).toBe(
        "2024-01-01 21:04:05...2024-01-07 18:00:01"
      )
      // form encoding: the space travels as "+", DigiCert's own spelling
      expect(raw[0]).toContain("2024-01-01+21%3A04%3A05...2024-01-07+18%3A00%3A01")
      expect(urls[0]!.searchParams.has("minutes")).toBe(false)
    }))

  it("formats moments across a day boundary in MDT", () => {
    expect(StatusChange.formatMdt(Date.UTC(2024, 2, 1, 5, 59, 59))).toBe("2024-02-29 23:59:59")
    expect(StatusChange.formatMdt(Date.UTC(2024, 2, 1, 6, 0, 0))).toBe("2024-03-01 00:00:00")
  })

  it.effect("a frame of exactly 7 days is sent; one a second longer fails before any request", () =>
    Effect.gen(function*() {
      const { client, urls } = scripted([ok({ orders: [] })])
      const start = Date.UTC(2024, 0, 1)
      yield* Effect.provide(changes(StatusChange.between(start, start + 7 * day)), layerOf(client))
      yield* Effect.provide(changes(StatusChange.upToNow(7 * day)), layerOf(client))
      expect(urls).toHaveLength(2)
      expect(urls[1]!.searchParams.get("minutes")).toBe("10080")
      for (const frame of [StatusChange.between(start, start + 7 * day + 1000), StatusChange.upToNow(7 * day + 1000)]) {
        const error = failureOf(yield* Effect.exit(Effect.provide(changes(frame), layerOf(client))))
        expect(error._tag).toBe("InvalidListOptionsError")
        expect(error.endpoint).toBe("listStatusChanges")
      }
      const backwards = failureOf(
        yield* Effect.exit(Effect.provide(changes(StatusChange.between(start, start - 1000)), layerOf(client)))
      )
      expect(backwards._tag).toBe("InvalidListOptionsError")
      expect(urls).toHaveLength(2)
    }))

  it.effect("time_frame_too_long from DigiCert is a BadRequestError that isTimeFrameTooLong recognises, not retried", () =>
    Effect.gen(function*() {
      const { client, urls } = scripted([
        {
          status: 400,
          body: JSON.stringify({ errors: [{ code: "time_frame_too_long", message: "Time frame too long" }] })
        }
      ])
      const error = failureOf(
        yield* Effect.exit(Effect.provide(changes(StatusChange.upToNow(60_000)), layerOf(client)))
      )
      expect(error._tag).toBe("BadRequestError")
      expect(StatusChange.isTimeFrameTooLong(error)).toBe(true)
      expect(urls).toHaveLength(1)
    }))

  it("isTimeFrameTooLong is false for other 400s and other errors", () => {
    const entry = (code: string) => new CertCentralError.DigiCertErrorEntry({ raw: code, code, message: "refused" })
    const bad = (code: string) =>
      new CertCentralError.BadRequestError({
        endpoint: "listStatusChanges",
        status: 400,
        errors: [entry(code)],
        message: "refused"
      })
    expect(StatusChange.isTimeFrameTooLong(bad("time_frame_too_long"))).toBe(true)
    expect(StatusChange.isTimeFrameTooLong(bad("invalid_filter"))).toBe(false)
    expect(StatusChange.isTimeFrameTooLong(
      new CertCentralError.NotFoundError({
        endpoint: "listStatusChanges",
        status: 404,
        errors: [entry("time_frame_too_long")],
        message: "x"
      })
    )).toBe(false)
  })

  it.effect("pages while a page block says more are left, then stops", () =>
    Effect.gen(function*() {
      const all = Array.from({ length: 2300 }, (_, i) => ({ order_id: i + 1, certificate_id: i + 1, status: "issued" }))
      const { client, urls } = scripted([(url) => {
        const offset = Number(url.searchParams.get("offset"))
        const limit = Number(url.searchParams.get("limit"))
        return ok({ orders: all.slice(offset, offset + limit), page: { total: all.length, limit, offset } })
      }])
      const list = yield* Effect.provide(changes(StatusChange.upToNow(60_000)), layerOf(client))
      expect(list.map((c) => c.order_id)).toEqual(all.map((c) => c.order_id))
      expect(urls.map((u) => u.searchParams.get("offset"))).toEqual(["0", "1000", "2000"])
      expect(urls.every((u) => u.searchParams.get("minutes") === "1")).toBe(true)
    }))

  it.effect("goes through the client's retries: a 503 is retried and the second answer used", () =>
    Effect.gen(function*() {
      const { client, urls } = scripted([
        { status: 503, body: JSON.stringify({ errors: [{ code: "service_unavailable", message: "down" }] }) },
        ok({ orders: [{ order_id: 5, certificate_id: 6, status: "issued" }] })
      ])
      const fiber = yield* Effect.fork(Effect.provide(changes(StatusChange.upToNow(60_000)), layerOf(client)))
      yield* TestClock.adjust("1 minute")
      const list = yield* Fiber.join(fiber)
      expect(list.map((c) => c.order_id)).toEqual([5])
      expect(urls).toHaveLength(2)
    }))

  it.effect("goes through the client's rate limiter: a third request in a 2-per-minute window waits", () =>
    Effect.gen(function*() {
      const { client, urls } = scripted([ok({ orders: [] })])
      const layer = layerOf(client, { rateLimit: [{ limit: 2, window: "1 minute" }] })
      const fiber = yield* Effect.fork(Effect.provide(
        Effect.flatMap(
          CertCentralClient.CertCentralClient,
          (cc) => Effect.forEach([1, 2, 3], () => cc.listStatusChanges(StatusChange.upToNow(60_000)))
        ),
        layer
      ))
      yield* TestClock.adjust("1 second")
      expect(urls).toHaveLength(2)
      yield* TestClock.adjust("2 minutes")
      yield* Fiber.join(fiber)
      expect(urls).toHaveLength(3)
    }))
})
