import type { GrowthBrmsMetaRow } from "../../sinks/GrowthBrmsMetaSink.ts"
import type { GrowthPosteriorRow } from "../../sinks/GrowthPosteriorSink.ts"
import type { GrowthFitResponse } from "../models/schemas/Growth.ts"
import type { FitAcceptance } from "./FitAcceptance.ts"

/** Where a fit belongs: its run and the Monday of its as-of week. */
export interface FitIdentity {
  readonly runId: string
  readonly weekStart: string
}

/**
 * The fit's row of `growth_brms_meta`: formula, priors, population posterior and every student's growth line
 * (intercept, slope, correlation), diagnostics with the verdict.
 */
export const growthMetaRow = (
  fit: GrowthFitResponse,
  acceptance: FitAcceptance,
  id: FitIdentity
): GrowthBrmsMetaRow => ({
  run_id: id.runId,
  formula: fit.model.formula,
  priors: { scale: fit.model.priors_scale, priors: fit.model.priors },
  posterior_summary: {
    week_start: id.weekStart,
    family: fit.model.family,
    iter: fit.model.iter,
    chains: fit.model.chains,
    seed: fit.model.seed,
    standardisation: fit.model.standardisation,
    n_students: fit.n_students,
    n_observations: fit.n_observations,
    target: fit.target,
    as_of_week: fit.as_of_week,
    horizon_weeks: fit.horizon_weeks,
    method: fit.model.method,
    measurement_error: fit.model.measurement_error,
    population: fit.population,
    // thinned population draws (standardised scale): what /growth/predict conditions students who arrive later on
    population_draws: fit.population_draws,
    // each student's growth line: what /growth/predict takes, and the weekly trend of the report
    students: Object.fromEntries(fit.students.map((st) => [st.student, st.coefficients])),
    timing: fit.timing
  },
  diagnostics: {
    ...fit.diagnostics,
    accepted: acceptance.accepted,
    reasons: acceptance.reasons,
    thresholds: acceptance.thresholds
  }
})

/** The per-student posterior rows of an accepted fit; none for a rejected one (the last good posterior stays). */
export const growthPosteriorRows = (
  fit: GrowthFitResponse,
  acceptance: FitAcceptance,
  id: FitIdentity
): ReadonlyArray<GrowthPosteriorRow> =>
  acceptance.accepted
    ? fit.students.map((s) => ({
        run_id: id.runId,
        user_id: s.student,
        week_start: id.weekStart,
        p_goal: s.probability_reach_target01,
        sigma: s.sigma,
        lower95: s.interval95.lower,
        upper95: s.interval95.upper,
        target: fit.target,
        horizon_weeks: fit.horizon_weeks
      }))
    : []
