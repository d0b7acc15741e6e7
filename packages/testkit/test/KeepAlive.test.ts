/**
 * Keep-alive between the stand-in and undici (what `NodeHttpClient.layerUndici` and the CLI use): a request sent on a
 * connection the client kept idle must reach the server, even when the server's process falls behind.
 *
 * undici keeps an idle connection for the server's `Keep-Alive: timeout=N` hint less 2 s, and counts that time in
 * ticks of its own timer, which come late in a process starved of CPU. The stand-in used to close idle connections
 * 5 s after a response (6 s on Node 22 and 24): on a loaded machine a client reused a connection just as the server
 * closed it, and its request failed with `UND_ERR_SOCKET` / `ECONNRESET` without the server ever seeing it. The
 * stand-in now keeps idle connections a minute while still advertising `timeout=5`.
 *
 * The server runs in a process of its own (test/fixtures/stallingServer.mjs, the built testkit) whose event loop the
 * test stalls, as a starved process's stalls: the client's request arrives while the server is stalled, past the old
 * idle timeout.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import { fileURLToPath } from "node:url"
import { ensureBuilt } from "../../export/test/support/built.js"

// plain JavaScript over the built testkit, on plain Node (without the tests' source condition)
const fixture = fileURLToPath(new URL("fixtures/stallingServer.mjs", import.meta.url))
const { NODE_OPTIONS: _, ...env } = process.env

beforeAll(() => ensureBuilt(), 120_000)

/** The fixture's server: its address, and a way to send a command and wait for the line it answers with. */
const stallingServer = Effect.acquireRelease(
  Effect.async<
    {
      readonly baseUrl: string
      readonly apiKey: string
      readonly command: (line: string, answer: RegExp) => Effect.Effect<RegExpExecArray>
      readonly stop: () => void
    },
    Error
  >((resume) => {
    const child = spawn(process.execPath, [fixture], { stdio: ["pipe", "pipe", "pipe"], env })
    let stdout = ""
    let stderr = ""
    const waiting = new Set<() => void>()
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString()
      for (const check of waiting) check()
    })
    // the line matching `answer` that comes after what was read so far
    const command = (line: string, answer: RegExp) =>
      Effect.async<RegExpExecArray>((resumeCommand) => {
        const from = stdout.length
        const check = () => {
          const found = answer.exec(stdout.slice(from))
          if (found !== null) {
            waiting.delete(check)
            resumeCommand(Effect.succeed(found))
          }
        }
        waiting.add(check)
        child.stdin.write(`${line}\n`)
        return Effect.sync(() => waiting.delete(check))
      })
    const ready = () => {
      const found = /^ready (\S+) (\S+)$/m.exec(stdout)
      if (found === null) return
      waiting.delete(ready)
      resume(Effect.succeed({ baseUrl: found[1]!, apiKey: found[2]!, command, stop: () => child.stdin.end() }))
    }
    waiting.add(ready)
    child.on("exit", (code) => resume(Effect.fail(new Error(`the server process exited ${code}: ${stderr}`))))
    return Effect.sync(() => child.kill("SIGKILL"))
  }),
  ({ stop }) => Effect.sync(stop)
)

/** Connections undici opened to `port`, counted from its diagnostics channel. */
const connectionsTo = (port: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const counter = { opened: 0 }
      const onConnected = (message: unknown) => {
        const params = (message as { readonly connectParams?: { readonly port?: unknown } }).connectParams
        if (String(params?.port) === port) counter.opened++
      }
      DiagnosticsChannel.subscribe("undici:client:connected", onConnected)
      return { counter, onConnected }
    }),
    ({ onConnected }) => Effect.sync(() => DiagnosticsChannel.unsubscribe("undici:client:connected", onConnected))
  ).pipe(Effect.map(({ counter }) => counter))

describe("TestServer keep-alive", () => {
  // Past the old idle timeout (5 s on Node 20, 6 s on 22 and 24 with their 1 s keepAliveTimeoutBuffer).
  const STALL_MS = 7_500

  it.scoped(
    "serves a request sent on an idle connection while the server's process was stalled",
    () =>
      Effect.gen(function*() {
        const server = yield* stallingServer
        const connections = yield* connectionsTo(new URL(server.baseUrl).port)
        const client = yield* HttpClient.HttpClient
        const get = (id: number) =>
          client.get(`${server.baseUrl}/account/subaccount/order/${id}`, {
            headers: { "X-DC-DEVKEY": server.apiKey }
          }).pipe(Effect.flatMap((response) => Effect.map(response.text, (body) => ({ response, body }))))

        const first = yield* get(1001)
        expect(first.response.status).toBe(200)
        // the hint clients size their idle time on: well under what the server keeps, so they let go first
        expect(first.response.headers["keep-alive"]).toBe("timeout=5")

        // within undici's idle time (3 s under that hint), so it reuses the connection; the server reads it only later
        yield* server.command(`stall ${STALL_MS}`, /^stalling$/m)
        const second = yield* Effect.either(get(1002))
        expect(second._tag === "Left" ? String(second.left.cause) : "", "the request on the idle connection").toBe("")
        if (second._tag === "Right") {
          expect(second.right.response.status).toBe(200)
          expect(JSON.parse(second.right.body).id).toBe(1002)
        }
        // one connection carried both, and the server saw every request the client sent
        expect(connections.opened).toBe(1)
        const seen = yield* server.command("requests", /^requests (\d+)$/m)
        expect(Number(seen[1])).toBe(2)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici)),
    { timeout: 120_000 }
  )
})
