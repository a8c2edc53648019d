/** Clamps `x` to [lo, hi]. */
export const clamp = (x: number, lo = 0, hi = 1): number => Math.min(hi, Math.max(lo, x))

/** The value when it is a finite number, else null: what goes into `kpis` is never NaN or ±Infinity. */
export const finiteOrNull = (x: number | null | undefined): number | null =>
  typeof x === "number" && Number.isFinite(x) ? x : null

/** `numerator / denominator`, or null when the denominator is zero (or either side is missing). */
export const ratioOrNull = (numerator: number | null, denominator: number | null): number | null =>
  numerator === null || denominator === null || denominator === 0 ? null : finiteOrNull(numerator / denominator)
