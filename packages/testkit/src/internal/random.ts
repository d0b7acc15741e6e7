/** A fast seeded generator: returns floats in [0, 1). */
export type Random = () => number

const mix = (h: number, v: number): number => {
  h = Math.imul(h ^ (v >>> 0), 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Hash a seed and a few integers (safe integers, split into two 32-bit halves) into a 32-bit state. */
export const hash = (...parts: ReadonlyArray<number>): number => {
  let h = 0x9e3779b9
  for (const part of parts) {
    h = mix(h, part % 0x100000000)
    h = mix(h, Math.floor(part / 0x100000000))
  }
  return h
}

/** mulberry32: small, fast and good enough for test data. */
export const make = (state: number): Random => {
  let a = state >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [min, max]. */
export const int = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1))

/** One element of a non-empty list. */
export const pick = <A>(random: Random, items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]

/** One element of a non-empty list of `[item, weight]` pairs, by weight. */
export const weighted = <A>(random: Random, items: ReadonlyArray<readonly [A, number]>): A => {
  let total = 0
  for (const [, w] of items) total += w
  let r = random() * total
  for (const [item, w] of items) {
    r -= w
    if (r < 0) return item
  }
  return items[items.length - 1][0]
}

/** `digits` upper-case hex digits. */
export const hex = (random: Random, digits: number): string => {
  let out = ""
  while (out.length < digits) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, "0")
  return out.slice(0, digits).toUpperCase()
}
