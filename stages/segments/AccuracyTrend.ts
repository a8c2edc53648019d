/** One user's least-squares line through weekly accuracy (week index → share correct). */
export interface AccuracyTrendFit {
  /** Slope, in accuracy (0–1) per week; null with fewer than two weeks. */
  readonly slopePerWeek: number | null
  /** Weeks with practice: the points of the line. */
  readonly weeks: number
  /** Σ (week − mean week)²: how much the weeks spread, which sets the slope's precision. */
  readonly weekSpread: number | null
  /** Σ squared residuals around the line. */
  readonly residualSs: number | null
}

/** What the cohort's trends say about noise and real differences, for the run record. */
export interface TrendShrinkage {
  /** Users whose slope was shrunk. */
  readonly users: number
  /** Precision-weighted mean slope: where a noisy slope is pulled to. */
  readonly meanSlopePerWeek: number
  /** Pooled SD of weekly accuracy around each user's line. */
  readonly residualSd: number
  /** Estimated SD of the true slopes between users (0: the slopes differ no more than their noise). */
  readonly slopeSdBetweenUsers: number
  /** The median factor a slope's distance from the mean was multiplied by (1 = kept, 0 = pulled to the mean). */
  readonly medianFactor: number
}

/**
 * Empirical-Bayes accuracy trends: each slope pulled towards the cohort mean by its own noise,
 * `mean + (slope − mean) · τ² / (τ² + se²)`, with `se² = s² / weekSpread` (s² the residual variance pooled over
 * users) and τ² the between-user variance of the true slopes, `max(0, var(slopes) − mean(se²))` (method of moments).
 * A line through three or four weeks of a few dozen answers is mostly noise, while twelve weeks pin a slope down:
 * on the generated cohort the most extreme raw slopes (−0.12 and +0.07 per week) belonged to students who stopped
 * after a few weeks, beyond every planted improver (+0.013 to +0.048), so raw slopes rank noise as the strongest
 * improvers and decliners. Slopes stay as they are when the noise cannot be estimated (no user has three weeks).
 */
export const shrunkAccuracyTrends = (
  fits: ReadonlyArray<AccuracyTrendFit>
): { readonly slopes: ReadonlyArray<number | null>; readonly shrinkage: TrendShrinkage | null } => {
  const usable = fits.filter(
    (f): f is AccuracyTrendFit & { slopePerWeek: number; weekSpread: number } =>
      f.slopePerWeek !== null && f.weekSpread !== null && f.weekSpread > 0
  )
  const withResiduals = usable.filter((f) => f.weeks > 2 && f.residualSs !== null)
  const residualDf = withResiduals.reduce((s, f) => s + f.weeks - 2, 0)
  if (usable.length < 2 || residualDf === 0) return { slopes: fits.map((f) => f.slopePerWeek), shrinkage: null }
  const residualVariance = withResiduals.reduce((s, f) => s + Math.max(0, f.residualSs!), 0) / residualDf
  const noise = (f: { readonly weekSpread: number }) => residualVariance / f.weekSpread
  // weights 1/se² = weekSpread/s²
  const mean =
    usable.reduce((s, f) => s + f.slopePerWeek * f.weekSpread, 0) / usable.reduce((s, f) => s + f.weekSpread, 0)
  const slopeMean = usable.reduce((s, f) => s + f.slopePerWeek, 0) / usable.length
  const slopeVariance = usable.reduce((s, f) => s + (f.slopePerWeek - slopeMean) ** 2, 0) / (usable.length - 1)
  const between = Math.max(0, slopeVariance - usable.reduce((s, f) => s + noise(f), 0) / usable.length)
  const factor = (f: { readonly weekSpread: number }) => (between === 0 ? 0 : between / (between + noise(f)))
  const factors = usable.map(factor).sort((a, b) => a - b)
  return {
    slopes: fits.map((f) =>
      f.slopePerWeek === null || f.weekSpread === null || f.weekSpread <= 0
        ? f.slopePerWeek
        : mean + (f.slopePerWeek - mean) * factor({ weekSpread: f.weekSpread })
    ),
    shrinkage: {
      users: usable.length,
      meanSlopePerWeek: mean,
      residualSd: Math.sqrt(residualVariance),
      slopeSdBetweenUsers: Math.sqrt(between),
      medianFactor: factors[Math.floor((factors.length - 1) / 2)]!
    }
  }
}
