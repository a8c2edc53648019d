/**
 * A small seeded pseudo-random stream (sfc32 seeded through splitmix32): the same seed and stream always give the
 * same numbers, on every platform, so a generated cohort is reproducible student by student.
 */
export interface Random {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Standard normal (Box–Muller). */
  readonly normal: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
  /** Exponential with the given mean. */
  readonly exponential: (mean: number) => number
}

const splitmix32 = (state: number) => () => {
  state = (state + 0x9e3779b9) | 0
  let z = state
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** A stream for `(seed, stream)`: independent streams let each student be generated on its own. */
export const make = (seed: number, stream: number): Random => {
  const init = splitmix32((Math.imul(seed | 0, 0x27d4eb2d) ^ Math.imul(stream | 0, 0x165667b1)) | 0)
  let a = init(),
    b = init(),
    c = init(),
    d = init()
  const next = () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  const normal = () => {
    const u = 1 - next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next())
  }
  return {
    next,
    normal,
    int: (n) => Math.floor(next() * n),
    exponential: (mean) => -Math.log(1 - next()) * mean
  }
}
