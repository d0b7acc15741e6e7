import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Faults from "../src/Faults.js"
import * as TestServer from "../src/TestServer.js"

const PATH = "/order/certificate/12345/duplicate"

const get = (server: TestServer.Handle, signal?: AbortSignal) =>
  fetch(`${server.baseUrl}${PATH}`, {
    headers: { "X-DC-DEVKEY": server.apiKey, connection: "close" },
    ...(signal === undefined ? {} : { signal })
  })

/** What a request gets: a status, or the code of the network failure. */
const outcome = async (server: TestServer.Handle, signal?: AbortSignal): Promise<number | string> => {
  try {
    const response = await get(server, signal)
    await response.arrayBuffer()
    return response.status
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return cause?.code ?? (error as Error).name
  }
}

/** Polls until the server answers 200 again (the outage ended); the outages here last a fraction of a second. */
const untilBack = async (server: TestServer.Handle) => {
  for (let i = 0; i < 200; i++) {
    if ((await outcome(server)) === 200) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error("the outage never ended")
}

const withServer = async (options: TestServer.Options, f: (server: TestServer.Handle) => Promise<void>) => {
  const server = await TestServer.start({ rateLimit: "off", ...options })
  try {
    await f(server)
  } finally {
    await server.close()
  }
}

// The outage answers that need no socket (503, 502, reset, hang, on TestClock) are proven in memory in
// StandIn.test.ts; here only a listening socket that really closes for a refused phase, and the spec grammar.
describe("TestServer outages", () => {
  it("resets connections, then refuses them, from a request number on, one phase after the other", () =>
    withServer({
      outages: [{
        start: { atRequest: 3 },
        phases: [{ durationMs: 300, answer: { kind: "reset" } }, { durationMs: 400, answer: { kind: "refused" } }]
      }]
    }, async (server) => {
      expect(await outcome(server)).toBe(200)
      expect(await outcome(server)).toBe(200)
      expect(await outcome(server)).toBe("UND_ERR_SOCKET")
      expect(server.stats().byStatus.reset).toBe(1)
      const seen = new Set<number | string>()
      for (let i = 0; i < 400 && !seen.has("ECONNREFUSED"); i++) {
        seen.add(await outcome(server))
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      expect(seen).toContain("ECONNREFUSED")
      await untilBack(server)
    }))

  it("parses outages from the --faults syntax", () => {
    expect(Faults.parseOutage("10s+5s:503/2+20s:reset")).toEqual(Either.right({
      start: { atMs: 10_000 },
      phases: [
        { durationMs: 5000, answer: { kind: "unavailable", retryAfter: 2 } },
        { durationMs: 20_000, answer: { kind: "reset" } }
      ]
    }))
    expect(Faults.parseOutage("#200+1m:refused")).toEqual(Either.right({
      start: { atRequest: 200 },
      phases: [{ durationMs: 60_000, answer: { kind: "refused" } }]
    }))
    expect(Faults.parseSpec("serverError=0.1,outage=0ms+500ms:hang,outage=1s+2s:badgateway,seed=3")).toEqual(
      Either.right({
        probabilities: { serverError: 0.1, seed: 3 },
        outages: [
          { start: { atMs: 0 }, phases: [{ durationMs: 500, answer: { kind: "hang" } }] },
          { start: { atMs: 1000 }, phases: [{ durationMs: 2000, answer: { kind: "badGateway" } }] }
        ]
      })
    )
    // core's duration grammar, the one --rate-limit reads: hours too
    expect(Faults.parseOutage("1h+90s:hang")).toEqual(Either.right({
      start: { atMs: 3_600_000 },
      phases: [{ durationMs: 90_000, answer: { kind: "hang" } }]
    }))
    for (const bad of ["10s", "10s+5s", "10s+5s:down", "#0+1s:reset", "1d+1s:reset", "1s+0s:reset", "1s+1s:reset/3"]) {
      expect(Either.isLeft(Faults.parseOutage(bad)), bad).toBe(true)
    }
  })
})
