import { normalCdf } from "./NormalDistribution.ts"
import { clamp, finiteOrNull } from "./Numbers.ts"

/**
 * Weekly accuracy sums over the trend window, weeks at offsets x = −7 … 0 from the KPI week (n_x graded attempts,
 * k_x correct): Σn, Σk, Σn·x, Σn·x², Σk·x. Sums, so SQL can compute them in one pass.
 */
export interface AccuracyTrend {
  readonly graded: number
  readonly correct: number
  readonly sumX: number
  readonly sumXX: number
  readonly sumKX: number
}

/** P and its uncertainty. */
export interface GoalAttainment {
  /** Probability in [0, 1] that accuracy reaches the target at the horizon. */
  readonly probability01: number
  /** Standard deviation of the projected accuracy. */
  readonly sigma: number
}

/**
 * The closed-form goal attainment: a weighted least-squares line through weekly accuracy (weights = graded attempts
 * per week) projected `horizonWeeks` past the KPI week, μ = ȳ + b·(h − x̄), with the prediction variance of that
 * line under binomial noise, σ² = p̃(1−p̃)·(1/N + (h − x̄)²/Sxx), p̃ = (k + ½)/(N + 1) (so a student at 0% or 100%
 * still has some uncertainty). P = 1 − Φ((target − μ)/σ). With a single week of data there is no slope: μ = ȳ,
 * σ² = p̃(1−p̃)/N. Null without graded attempts. P is clamped to [0, 1]: Φ's series sums to 1 ± 2e-16 in the tails,
 * so 1 − Φ alone stored 1.0000000000000002 and −4.4e-16 for students far from the target.
 */
export const goalAttainment = (trend: AccuracyTrend, target01: number, horizonWeeks: number): GoalAttainment | null => {
  const n = trend.graded
  if (!(n > 0)) return null
  const mean = trend.correct / n
  const xBar = trend.sumX / n
  const sxx = trend.sumXX - (trend.sumX * trend.sumX) / n
  const hasSlope = sxx > 1e-9
  const slope = hasSlope ? (trend.sumKX - xBar * trend.correct) / sxx : 0
  const projected = mean + slope * (horizonWeeks - xBar)
  const smoothed = (trend.correct + 0.5) / (n + 1)
  const variance = smoothed * (1 - smoothed) * (1 / n + (hasSlope ? (horizonWeeks - xBar) ** 2 / sxx : 0))
  const sigma = Math.sqrt(variance)
  const tail = finiteOrNull(1 - normalCdf((target01 - projected) / sigma))
  const probability01 = tail === null ? null : clamp(tail)
  return probability01 === null || finiteOrNull(sigma) === null ? null : { probability01, sigma }
}
