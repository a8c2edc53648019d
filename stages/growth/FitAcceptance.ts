import type { GrowthDiagnostics } from "../models/schemas/Growth.ts"

/**
 * The acceptance rule of the growth model, on its population parameters (Vehtari, Gelman, Simpson, Carpenter &
 * Bürkner 2021, "Rank-normalization, folding, and localization: an improved R-hat"): every R-hat at most 1.01,
 * bulk and tail ESS at least 400, and no divergent transition.
 */
export const thresholds = { max_rhat: 1.01, min_ess_bulk: 400, min_ess_tail: 400, max_divergences: 0 } as const

/** Whether a growth fit may replace the stored posterior, and if not, why. */
export interface FitAcceptance {
  readonly accepted: boolean
  readonly reasons: ReadonlyArray<string>
  readonly max_rhat: number | null
  readonly min_ess_bulk: number | null
  readonly min_ess_tail: number | null
  readonly divergences: number
  readonly thresholds: typeof thresholds
}

/** Judges a fit's population diagnostics; a missing statistic is a reason to reject, never a pass. */
export const fitAcceptance = (diagnostics: GrowthDiagnostics): FitAcceptance => {
  const { divergences, max_rhat, min_ess_bulk, min_ess_tail } = diagnostics
  const reasons = [
    max_rhat === null && "R-hat could not be computed",
    max_rhat !== null && max_rhat > thresholds.max_rhat && `max R-hat ${max_rhat.toFixed(3)} > ${thresholds.max_rhat}`,
    min_ess_bulk === null && "bulk ESS could not be computed",
    min_ess_bulk !== null &&
      min_ess_bulk < thresholds.min_ess_bulk &&
      `min bulk ESS ${min_ess_bulk.toFixed(0)} < ${thresholds.min_ess_bulk}`,
    min_ess_tail === null && "tail ESS could not be computed",
    min_ess_tail !== null &&
      min_ess_tail < thresholds.min_ess_tail &&
      `min tail ESS ${min_ess_tail.toFixed(0)} < ${thresholds.min_ess_tail}`,
    divergences > thresholds.max_divergences && `${divergences} divergent transitions`
  ].filter((r): r is string => typeof r === "string")
  return { accepted: reasons.length === 0, reasons, max_rhat, min_ess_bulk, min_ess_tail, divergences, thresholds }
}
