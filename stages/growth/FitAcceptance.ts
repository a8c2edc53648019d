import type { GrowthFitResponse } from "../models/schemas/Growth.ts"

/** A fit is rejected when any parameter's R-hat is above this (the chains disagree). */
export const MAX_RHAT = 1.05
/** A fit is rejected with more divergent transitions than this (the sampler missed part of the posterior). */
export const MAX_DIVERGENCES = 0

/** Whether a growth fit may replace the stored posterior, and if not, why. */
export interface FitAcceptance {
  readonly accepted: boolean
  readonly reasons: ReadonlyArray<string>
  readonly max_rhat: number | null
  readonly divergences: number
  readonly thresholds: { readonly max_rhat: number; readonly max_divergences: number }
}

/** The acceptance rule of the growth model: R-hat ≤ 1.05 everywhere and no divergent transition. */
export const fitAcceptance = (diagnostics: GrowthFitResponse["diagnostics"]): FitAcceptance => {
  const reasons = [
    diagnostics.max_rhat === null && "R-hat could not be computed",
    diagnostics.max_rhat !== null && diagnostics.max_rhat > MAX_RHAT && `max R-hat ${diagnostics.max_rhat.toFixed(3)} > ${MAX_RHAT}`,
    diagnostics.divergences > MAX_DIVERGENCES && `${diagnostics.divergences} divergent transitions`
  ].filter((r): r is string => typeof r === "string")
  return {
    accepted: reasons.length === 0,
    reasons,
    max_rhat: diagnostics.max_rhat,
    divergences: diagnostics.divergences,
    thresholds: { max_rhat: MAX_RHAT, max_divergences: MAX_DIVERGENCES }
  }
}
