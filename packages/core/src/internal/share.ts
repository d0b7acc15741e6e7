// The share of a key's limits a limiter uses, for the in-memory store and the Redis one (whose Lua gets `cut` as an
// argument): additive increase, multiplicative decrease after a 429, since something else uses the same key.

/** After a 429 every limit is multiplied by this (never below one request)... */
export const CUT = 0.75
/** ...and grows back by this much of the configured limits per longest window. */
export const RECOVERY = 0.1

/** The rule for given windows: below `floor` every limit is down to one request already. */
export const ruleFor = (windows: ReadonlyArray<{ readonly limit: number; readonly windowMillis: number }>) => ({
  cut: CUT,
  floor: Math.min(...windows.map((w) => 1 / w.limit)),
  recoveryMillis: Math.max(1, ...windows.map((w) => w.windowMillis)) / RECOVERY
})

/** A limit at a share below 1. */
export const limitOf = (limit: number, share: number): number =>
  share >= 1 ? limit : Math.max(1, Math.floor(limit * share + 1e-9))
