/** A seeded random source for simulated truths (mulberry32 + Box–Muller), so test data are reproducible. */
export const seededRandom = (seed: number) => {
  let state = seed >>> 0
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const normal = (mean = 0, sd = 1): number => {
    const u = Math.max(uniform(), 1e-12)
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform())
  }
  const exponential = (rate: number): number => -Math.log(Math.max(uniform(), 1e-12)) / rate
  return { uniform, normal, exponential }
}

/** Adjusted Rand index between two labelings of the same items. */
export const adjustedRandIndex = (a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): number => {
  const choose2 = (n: number) => (n * (n - 1)) / 2
  const table = new Map<string, number>()
  const rows = new Map<string | number, number>()
  const cols = new Map<string | number, number>()
  a.forEach((x, i) => {
    const y = b[i]!
    table.set(`${x}\u0000${y}`, (table.get(`${x}\u0000${y}`) ?? 0) + 1)
    rows.set(x, (rows.get(x) ?? 0) + 1)
    cols.set(y, (cols.get(y) ?? 0) + 1)
  })
  const sum = (values: Iterable<number>) => [...values].reduce((s, n) => s + choose2(n), 0)
  const index = sum(table.values())
  const rowSum = sum(rows.values())
  const colSum = sum(cols.values())
  const expected = (rowSum * colSum) / choose2(a.length)
  return (index - expected) / ((rowSum + colSum) / 2 - expected)
}

/** ISO date `days` after `start` (UTC). */
export const addDays = (start: string, days: number): string =>
  new Date(Date.parse(`${start}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
