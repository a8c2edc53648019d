const LOG_SQRT_2PI = 0.9189385332046728

/**
 * The standard normal cumulative distribution Φ(x), to about 1e-15 absolute (Marsaglia 2004, "Evaluating the Normal
 * Distribution": the Taylor series of Φ − ½ around 0, which converges for every x; beyond ±8.3 Φ is 0 or 1 in
 * double precision).
 */
export const normalCdf = (x: number): number => {
  if (Number.isNaN(x)) return Number.NaN
  if (x < -8.3) return 0
  if (x > 8.3) return 1
  let sum = x
  let term = x
  const x2 = x * x
  for (let i = 3; sum + term !== sum; i += 2) {
    term = (term * x2) / i
    sum += term
  }
  return 0.5 + sum * Math.exp(-0.5 * x2 - LOG_SQRT_2PI)
}
