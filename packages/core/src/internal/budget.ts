/**
 * The retry budget against retry storms: each retry of a 5xx or transport failure spends `retryCost` tokens, each
 * success refunds one. An empty budget does not drop the retry: it opens the circuit (the caller does), whose pause
 * slows the whole client down, and the budget starts full again.
 */
export interface Budget {
  /** True when the retry may go at once; false when the budget was empty (it is refilled). */
  readonly spend: () => boolean
  readonly refund: () => void
}

export const make = (config: false | { readonly capacity: number; readonly retryCost: number } | undefined): Budget => {
  if (config === false) return { spend: () => true, refund: () => {} }
  const capacity = config?.capacity ?? 100
  const cost = config?.retryCost ?? 5
  let tokens = capacity
  return {
    spend: () => {
      if (tokens >= cost) {
        tokens -= cost
        return true
      }
      tokens = capacity
      return false
    },
    refund: () => {
      tokens = Math.min(capacity, tokens + 1)
    }
  }
}
