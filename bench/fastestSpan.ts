// The benchmarks' yardstick for a limiter: the fewest milliseconds in which `requests` requests can all be sent under
// the given windows, with instant responses (the schedule a perfect limiter follows). Benchmarks divide the measured
// span by it. It is core's placement from an idle key, the one the ETA and --dry-run use.
import { type RollingWindowLimiter, WindowSchedule } from "@certcentral/core"

export const fastestSpanMillis = (windows: ReadonlyArray<RollingWindowLimiter.Window>, requests: number): number =>
  WindowSchedule.leastMillis(windows, requests)
