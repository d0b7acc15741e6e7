/**
 * The testkit server in its own process, driven over IPC by the harness (`harness.ts`), so that its CPU is not the
 * harness's. Messages in: `start` (options), `stats`, `reset`, `close`. It samples its own counters every 250 ms.
 */
import { TestServer } from "@certcentral/testkit"

export interface Sample {
  readonly t: number
  readonly requests: number
  readonly rateLimited: number
  readonly foreignAdmitted: number
}

export type Message =
  | { readonly type: "start"; readonly options: TestServer.Options; readonly sample: boolean }
  | { readonly type: "stats" }
  | { readonly type: "reset" }
  | { readonly type: "close" }

export type Reply =
  | { readonly type: "started"; readonly baseUrl: string; readonly apiKey: string }
  | {
    readonly type: "stats"
    readonly stats: TestServer.Stats
    readonly timeline: ReadonlyArray<Sample>
    readonly cpuMillis: number
  }
  | { readonly type: "done" }

const send = (reply: Reply) => process.send!(reply)

let handle: TestServer.Handle | undefined
let sampling = false
let timeline: Array<Sample> = []
let cpuStart = process.cpuUsage()
const cpuMillis = () => {
  const used = process.cpuUsage(cpuStart)
  return (used.user + used.system) / 1000
}

setInterval(() => {
  if (handle === undefined || !sampling) return
  const stats = handle.stats()
  timeline.push({
    t: Math.round(performance.timeOrigin + performance.now()),
    requests: stats.requests,
    rateLimited: stats.rateLimited,
    foreignAdmitted: stats.foreign.admitted
  })
}, 250)

process.on("message", async (message: Message) => {
  switch (message.type) {
    case "start":
      handle = await TestServer.start(message.options)
      sampling = message.sample
      timeline = []
      cpuStart = process.cpuUsage()
      return send({ type: "started", baseUrl: handle.baseUrl, apiKey: handle.apiKey })
    case "stats":
      return send({ type: "stats", stats: handle!.stats(), timeline, cpuMillis: cpuMillis() })
    case "reset":
      handle!.resetStats()
      handle!.resetRateLimit()
      timeline = []
      cpuStart = process.cpuUsage()
      return send({ type: "done" })
    case "close":
      await handle?.close()
      send({ type: "done" })
      process.exit(0)
  }
})
