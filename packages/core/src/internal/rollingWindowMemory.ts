import * as Effect from "effect/Effect"
import type * as Api from "../RollingWindowLimiter.js"
import * as Share from "./share.js"
import * as Signal from "./signal.js"

/**
 * The in-process store of a rolling-window limiter: a log of completion times and a count of requests in flight.
 * Time is the clock's monotonic, sub-millisecond time, not the wall clock in whole milliseconds: a completion rounded
 * down would open its slot up to a millisecond early, enough for a server that times arrivals finely to count one
 * request too many in a window (and a wall clock set back would open slots early too).
 */
export const make = (windows: Api.Store["windows"]): Effect.Effect<Api.Store> =>
  Effect.map(Effect.clock, (clock) => {
    const nowMillis = () => Number(clock.unsafeCurrentTimeNanos()) / 1_000_000
    const longest = Math.max(0, ...windows.map((w) => w.windowMillis))
    const released = Signal.make()
    let inFlight = 0
    // Completion times, ascending (releases happen in clock order); trimmed to the longest window.
    let completions: Array<number> = []
    let head = 0

    // The share is `cutShare` at `cutAt` and grows linearly from there.
    const rule = Share.ruleFor(windows)
    let cutShare = 1
    let cutAt = 0
    const shareAt = (now: number) => cutShare >= 1 ? 1 : Math.min(1, cutShare + (now - cutAt) / rule.recoveryMillis)

    const trim = (now: number) => {
      while (head < completions.length && completions[head]! <= now - longest) head++
      if (head > 1024 && head * 2 > completions.length) {
        completions = completions.slice(head)
        head = 0
      }
    }

    // Index of the first completion still inside a window ending now.
    const firstWithin = (now: number, windowMillis: number) => {
      let lo = head, hi = completions.length
      const bound = now - windowMillis
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (completions[mid]! <= bound) lo = mid + 1
        else hi = mid
      }
      return lo
    }

    // Either room now (undefined) or how to wait: until a time, or (null) for an in-flight request to complete.
    const nextOpening = (now: number): number | null | undefined => {
      let wakeAt: number | null | undefined = undefined
      const share = shareAt(now)
      for (const window of windows) {
        const windowMillis = window.windowMillis
        const limit = Share.limitOf(window.limit, share)
        const first = firstWithin(now, windowMillis)
        const completed = completions.length - first
        const excess = inFlight + completed - limit + 1
        if (excess <= 0) continue
        if (excess > completed) {
          wakeAt = null
          break
        }
        const at = completions[first + excess - 1]! + windowMillis
        wakeAt = wakeAt === undefined ? at : Math.max(wakeAt, at)
      }
      if (wakeAt === undefined || share >= 1) return wakeAt
      // while the share comes back, a limit grows by one request at a known time: look again then
      const grows = Math.ceil(
        Math.min(
          ...windows.map((w) =>
            cutAt + ((Share.limitOf(w.limit, share) + 1) / w.limit - cutShare) * rule.recoveryMillis
          )
        )
      )
      return wakeAt === null ? Math.max(now + 1, grows) : Math.max(now + 1, Math.min(wakeAt, grows))
    }

    const store: Api.Store = {
      windows,
      // the log needs no ids: a permit's slot is a count until its release
      permitId: () => "",
      take: () =>
        Effect.sync((): Api.Room => {
          const now = nowMillis()
          trim(now)
          const opening = nextOpening(now)
          if (opening === undefined) {
            inFlight++
            return { _tag: "Taken" }
          }
          return { _tag: "Wait", millis: opening === null ? undefined : Math.max(1, opening - now), onRelease: true }
        }),
      release: (_id, taken) =>
        Effect.sync(() => {
          if (!taken) return
          inFlight--
          completions.push(nowMillis())
          released.notify()
        }),
      renew: undefined,
      released: released.next,
      backOff: Effect.sync(() => {
        const now = nowMillis()
        cutShare = Math.max(rule.floor, shareAt(now) * rule.cut)
        cutAt = now
      }),
      share: Effect.sync(() => shareAt(nowMillis()))
    }
    return store
  })
