import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Random from "effect/Random"
import type { StoreUnavailableError } from "../CertCentralError.js"
import type * as Api from "../ClientHealth.js"
import * as Signal from "./signal.js"

/** Circuit transitions, tagged `transition` (`opened`, `reopened`, `closed`, `gave_up`). */
export const transitions = Metric.counter("certcentral_circuit_transitions_total", {
  description: "Transitions of the CertCentral client's circuit (opened, reopened, closed, gave_up)"
})

/** A client that has seen nothing yet: closed, no pause, no failure. */
export const initial: Api.State = {
  circuit: "closed",
  pauseUntil: 0,
  pauses: 0,
  probeNeeded: false,
  probeInFlight: false,
  consecutiveFailures: 0,
  streakSince: undefined,
  unavailableSince: undefined,
  openedAt: undefined,
  nextProbeAt: undefined,
  openings: 0,
  outages: 0,
  outageMillis: 0,
  gaveUp: false,
  lastFailure: undefined
}

/** The pause before the `openings`-th probe of an outage: doubled each time, capped, then jittered. */
const pauseFor = (rule: Api.PauseRule, openings: number): number =>
  Math.round(Math.min(rule.maxPauseMillis, rule.firstPauseMillis * 2 ** Math.min(openings, 40)) * rule.jitter)

/** The in-process store: one state in a variable, waiters woken by a signal on every change. */
export const memoryStore: Effect.Effect<Api.Store> = Effect.sync(() => {
  let state: Api.State = initial
  const changes = Signal.make()
  const set = (next: Api.State) => {
    state = next
    changes.notify()
  }
  const opened = (s: Api.State, now: number, failure: string, rule: Api.PauseRule): Api.State => ({
    ...s,
    circuit: "open",
    openedAt: now,
    unavailableSince: s.streakSince ?? now,
    nextProbeAt: now + pauseFor(rule, 0),
    openings: 0,
    outages: s.outages + 1,
    lastFailure: failure
  })
  const closed = (s: Api.State, now: number): Api.State => ({
    ...s,
    circuit: "closed",
    outageMillis: s.outageMillis + (s.openedAt === undefined ? 0 : now - s.openedAt),
    openedAt: undefined,
    unavailableSince: undefined,
    nextProbeAt: undefined,
    openings: 0,
    gaveUp: false
  })
  const store: Api.Store = {
    read: Effect.sync(() => state),
    enter: (now, maxOutageMillis) =>
      Effect.sync((): Api.Admission => {
        const s = state
        if (now < s.pauseUntil) return { _tag: "Wait", until: s.pauseUntil, changed: changes.next() }
        if (s.circuit !== "closed" && s.unavailableSince !== undefined) {
          const deadline = s.unavailableSince + maxOutageMillis
          if (now >= deadline) {
            if (!s.gaveUp) set({ ...s, gaveUp: true })
            return { _tag: "Go", probe: false, gaveUp: true, first: !s.gaveUp }
          }
          if (s.circuit === "open" && s.nextProbeAt !== undefined && now < s.nextProbeAt) {
            return { _tag: "Wait", until: Math.min(s.nextProbeAt, deadline), changed: changes.next() }
          }
          if (s.probeInFlight) {
            return {
              _tag: "Wait",
              until: Number.isFinite(deadline) ? deadline : undefined,
              changed: changes.next()
            }
          }
        }
        if (s.probeInFlight) return { _tag: "Wait", until: undefined, changed: changes.next() }
        if (s.probeNeeded || s.circuit === "open") {
          set({ ...s, probeInFlight: true, probeNeeded: false, circuit: s.circuit === "open" ? "probing" : s.circuit })
          return { _tag: "Go", probe: true, gaveUp: false, first: false }
        }
        return { _tag: "Go", probe: false, gaveUp: false, first: false }
      }),
    succeeded: (now, probe) =>
      Effect.sync(() => {
        const s = state
        const base: Api.State = probe ? { ...s, probeInFlight: false } : s
        if (s.circuit === "closed") {
          if (probe || s.consecutiveFailures > 0) set({ ...base, consecutiveFailures: 0, streakSince: undefined })
          return undefined
        }
        set({ ...closed(base, now), consecutiveFailures: 0, streakSince: undefined })
        return "closed" as const
      }),
    failed: (now, probe, failure, rule) =>
      Effect.sync(() => {
        const s = state
        const counted: Api.State = {
          ...s,
          probeInFlight: probe ? false : s.probeInFlight,
          consecutiveFailures: s.consecutiveFailures + 1,
          streakSince: s.streakSince ?? now,
          lastFailure: failure
        }
        if (probe && s.circuit === "probing") {
          const openings = s.openings + 1
          set({ ...counted, circuit: "open", openings, nextProbeAt: now + pauseFor(rule, openings) })
          return "reopened" as const
        }
        if (s.circuit === "closed" && counted.consecutiveFailures >= rule.failureThreshold) {
          set(opened(counted, now, failure, rule))
          return "opened" as const
        }
        set(counted)
        return undefined
      }),
    open: (now, failure, rule) =>
      Effect.sync(() => {
        const s = state
        if (s.circuit !== "closed") return undefined
        set(opened(s, now, failure, rule))
        return "opened" as const
      }),
    rateLimited: (now, probe, millis) =>
      Effect.sync(() => {
        const s = state
        // A 429 is an answer: the API is up, so an open circuit closes and the pause takes over.
        const base = s.circuit === "closed" ? s : closed(s, now)
        const starts = s.pauseUntil <= now
        set({
          ...base,
          probeInFlight: probe ? false : s.probeInFlight,
          consecutiveFailures: 0,
          streakSince: undefined,
          pauseUntil: Math.max(s.pauseUntil, now + millis),
          pauses: starts ? s.pauses + 1 : s.pauses,
          probeNeeded: true
        })
        return { starts, closed: s.circuit !== "closed" }
      }),
    releaseProbe: Effect.sync(() => {
      const s = state
      if (!s.probeInFlight) return
      set({ ...s, probeInFlight: false, circuit: s.circuit === "probing" ? "open" : s.circuit })
    })
  }
  return store
})

const seconds = (millis: number) => Duration.format(Duration.millis(Math.max(0, Math.round(millis / 100) * 100)))

/** The health service over a store: the waiting, the jitter, the log lines and the metric. */
export const make = (
  options: Api.Options = {},
  storeEffect: Effect.Effect<Api.Store> = memoryStore
): Effect.Effect<Api.ClientHealth> =>
  Effect.gen(function*() {
    const store = yield* storeEffect
    const clock = yield* Effect.clock
    const failureThreshold = options.failureThreshold ?? 5
    const firstPauseMillis = Duration.toMillis(options.firstPause ?? "1 second")
    const maxPauseMillis = Duration.toMillis(options.maxPause ?? "1 minute")
    const rule = Effect.map(Random.nextRange(0.8, 1.2), (jitter): Api.PauseRule => ({
      failureThreshold,
      firstPauseMillis,
      maxPauseMillis,
      jitter
    }))

    const record = (transition: "opened" | "reopened" | "closed" | "gave_up") =>
      Metric.increment(Metric.tagged(transitions, "transition", transition))

    const logTransition = (transition: Api.Transition, now: number): Effect.Effect<void> => {
      if (transition === undefined) return Effect.void
      return Effect.flatMap(store.read, (s) => {
        const since = s.unavailableSince === undefined ? "" : ` for ${seconds(now - s.unavailableSince)}`
        const next = s.nextProbeAt === undefined ? "" : `; next try in ${seconds(s.nextProbeAt - now)}`
        const last = s.lastFailure === undefined ? "" : ` (last: ${s.lastFailure})`
        const message = transition === "closed"
          ? "CertCentral API available again: circuit closed"
          : transition === "opened"
          ? `CertCentral API unavailable${last}: circuit open, one probe per pause${next}`
          : `CertCentral API still unavailable${since}${last}${next}`
        return Effect.zipRight(
          record(transition),
          Effect.logWarning(message).pipe(
            Effect.annotateLogs({ "certcentral.circuit": s.circuit, "certcentral.outages": s.outages })
          )
        )
      })
    }

    const admit = (maxOutageMillis: number): Effect.Effect<Api.Go, StoreUnavailableError> =>
      Effect.suspend(() => {
        const now = clock.unsafeCurrentTimeMillis()
        return Effect.flatMap(store.enter(now, maxOutageMillis), (admission): Effect.Effect<
          Api.Go,
          StoreUnavailableError
        > => {
          if (admission._tag === "Go") {
            if (!admission.first) return Effect.succeed(admission)
            return Effect.flatMap(store.read, (s) =>
              Effect.zipRight(
                record("gave_up"),
                Effect.logWarning(
                  `CertCentral API unavailable for ${
                    seconds(now - (s.unavailableSince ?? now))
                  }, longer than maxOutage: calls fail with their last error${
                    s.lastFailure === undefined ? "" : ` (last: ${s.lastFailure})`
                  }`
                ).pipe(Effect.as(admission))
              ))
          }
          const wait = admission.until === undefined
            ? admission.changed
            : Effect.raceFirst(admission.changed, clock.sleep(Duration.millis(Math.max(1, admission.until - now))))
          return Effect.zipRight(wait, admit(maxOutageMillis))
        })
      })

    const health: Api.ClientHealth = {
      store,
      admit,
      succeeded: (probe) =>
        Effect.suspend(() => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(store.succeeded(now, probe), (t) => logTransition(t, now))
        }),
      failed: (probe, failure) =>
        Effect.suspend(() => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(
            rule,
            (r) => Effect.flatMap(store.failed(now, probe, failure, r), (t) => logTransition(t, now))
          )
        }),
      open: (failure) =>
        Effect.suspend(() => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(rule, (r) => Effect.flatMap(store.open(now, failure, r), (t) => logTransition(t, now)))
        }),
      rateLimited: (probe, millis) =>
        Effect.suspend(() => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(
            store.rateLimited(now, probe, millis),
            ({ closed, starts }) => Effect.as(closed ? logTransition("closed", now) : Effect.void, starts)
          )
        }),
      abandoned: store.releaseProbe,
      snapshot: Effect.map(store.read, (s) => {
        const now = clock.unsafeCurrentTimeMillis()
        return {
          circuit: s.circuit,
          unavailableSince: s.unavailableSince,
          nextProbeAt: s.circuit === "open" ? s.nextProbeAt : undefined,
          outages: s.outages,
          outageMillis: s.outageMillis + (s.openedAt === undefined ? 0 : now - s.openedAt),
          gaveUp: s.gaveUp,
          pauses: s.pauses,
          lastFailure: s.lastFailure
        }
      })
    }
    return health
  })
