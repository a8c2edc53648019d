import { Schema } from "effect"
import { Probability01, ServiceHealth } from "./Common.ts"

/** The brms family; each needs its own compiled template. */
export const GrowthFamily = Schema.Literal("gaussian", "student")

/**
 * One weekly observation of a student. With `graded` (the week's number of graded attempts; then `score` is an
 * accuracy in [0, 1]) the week's known binomial variance is added to the residual variance, so a week of 3 attempts
 * weighs less than one of 60; give it for every row or for none.
 */
export const GrowthObservation = Schema.Struct({
  student: Schema.String,
  week: Schema.Number,
  score: Schema.Number,
  graded: Schema.optional(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)))
})

/** `POST /growth/fit`: rows, goal target on the score's own scale, horizon and sampler settings. */
export const GrowthFitRequest = Schema.Struct({
  rows: Schema.Array(GrowthObservation).pipe(Schema.minItems(3)),
  target: Schema.Number,
  horizon_weeks: Schema.NonNegative,
  as_of_week: Schema.optional(Schema.Number),
  iter: Schema.Int.pipe(Schema.between(100, 20000)),
  chains: Schema.Int.pipe(Schema.between(1, 8)),
  family: GrowthFamily,
  seed: Schema.optional(Schema.Int),
  adapt_delta: Schema.optional(Schema.Number.pipe(Schema.between(0.5, 0.999))),
  /** Gaussian family: a fit that misses the acceptance rule without divergences is sampled once more with twice
   * the iterations (default true). */
  extend: Schema.optional(Schema.Boolean),
  /** Gaussian family: false leaves the per-student step to `/growth/predict` (default true); the answer then has no
   * students and carries every population draw in `student_draws`. */
  students: Schema.optional(Schema.Boolean)
})
export type GrowthFitRequest = typeof GrowthFitRequest.Type

/** Posterior summary of one quantity on the original score scale; R-hat/ESS are null when undefined. */
export const DrawsSummary = Schema.Struct({
  mean: Schema.Number,
  sd: Schema.Number,
  q2_5: Schema.Number,
  q50: Schema.Number,
  q97_5: Schema.Number,
  rhat: Schema.NullOr(Schema.Number),
  ess_bulk: Schema.NullOr(Schema.Number),
  ess_tail: Schema.NullOr(Schema.Number)
})

const MeanSd = Schema.Struct({ mean: Schema.Number, sd: Schema.NonNegative })

/** A student's growth line on the original scale: intercept at week 0, slope per week, their correlation. */
export const GrowthCoefficients = Schema.Struct({
  intercept: MeanSd,
  slope: Schema.Struct({
    mean: Schema.Number,
    sd: Schema.NonNegative,
    q2_5: Schema.optional(Schema.Number),
    q97_5: Schema.optional(Schema.Number)
  }),
  intercept_slope_cor: Schema.Number.pipe(Schema.between(-1, 1))
})
export type GrowthCoefficients = typeof GrowthCoefficients.Type

const Interval95 = Schema.Struct({ lower: Schema.Number, upper: Schema.Number })

/** Per student: the posterior of the expected score at the horizon week. */
export const StudentGrowth = Schema.Struct({
  student: Schema.String,
  n_observations: Schema.Int,
  expected_score_at_horizon: Schema.Struct({
    mean: Schema.Number,
    median: Schema.Number,
    sd: Schema.Number,
    q2_5: Schema.Number,
    q97_5: Schema.Number
  }),
  probability_reach_target01: Probability01,
  sigma: Schema.NonNegative,
  interval95: Interval95,
  coefficients: GrowthCoefficients
})
export type StudentGrowth = typeof StudentGrowth.Type

const Convergence = Schema.Struct({
  rhat: Schema.NullOr(Schema.Number),
  ess_bulk: Schema.NullOr(Schema.Number),
  ess_tail: Schema.NullOr(Schema.Number)
})

/** Sampler diagnostics of the population parameters (what acceptance looks at), worst values and per parameter. */
export const GrowthDiagnostics = Schema.Struct({
  scope: Schema.Literal("population"),
  parameters: Schema.Array(Schema.String),
  max_rhat: Schema.NullOr(Schema.Number),
  min_ess_bulk: Schema.NullOr(Schema.Number),
  min_ess_tail: Schema.NullOr(Schema.Number),
  divergences: Schema.Int,
  max_treedepth_hits: Schema.Int,
  n_parameters: Schema.Int,
  converged: Schema.Boolean,
  per_parameter: Schema.Record({ key: Schema.String, value: Convergence }),
  /** Gaussian family: each sampling attempt (a second one with twice the iterations when the first missed the rule). */
  attempts: Schema.optional(
    Schema.Array(
      Schema.Struct({
        iter: Schema.Int,
        seed: Schema.Int,
        max_rhat: Schema.NullOr(Schema.Number),
        min_ess_bulk: Schema.NullOr(Schema.Number),
        min_ess_tail: Schema.NullOr(Schema.Number),
        divergences: Schema.Int
      })
    )
  )
})
export type GrowthDiagnostics = typeof GrowthDiagnostics.Type

const Draws = Schema.Array(Schema.Number).pipe(Schema.minItems(1))

/**
 * Population draws on the standardised scale (thinned), what `/growth/predict` conditions new students on: the
 * intercept and slope of z on u, the SDs and correlation of the student effects, and the residual SD.
 */
export const PopulationDraws = Schema.Struct({
  Intercept: Draws,
  b: Draws,
  sd_intercept: Draws,
  sd_slope: Draws,
  cor: Draws,
  sigma: Draws
})
export type PopulationDraws = typeof PopulationDraws.Type

/** How scores and weeks were standardised for the fit: z = (score − score_mean)/score_sd, u likewise. */
export const Standardisation = Schema.Struct({
  score_mean: Schema.Number,
  score_sd: Schema.Number,
  week_mean: Schema.Number,
  week_sd: Schema.Number
})

/** `POST /growth/fit` answer. */
export const GrowthFitResponse = Schema.Struct({
  model: Schema.Struct({
    formula: Schema.String,
    family: GrowthFamily,
    method: Schema.String,
    measurement_error: Schema.Boolean,
    standardisation: Standardisation,
    priors: Schema.Array(Schema.Struct({ class: Schema.String, prior: Schema.String })),
    priors_scale: Schema.String,
    iter: Schema.Int,
    chains: Schema.Int,
    seed: Schema.Int
  }),
  n_students: Schema.Int,
  n_observations: Schema.Int,
  target: Schema.Number,
  as_of_week: Schema.Number,
  horizon_weeks: Schema.Number,
  horizon_week: Schema.Number,
  population: Schema.Struct({
    intercept: DrawsSummary,
    slope: DrawsSummary,
    sd_student_intercept: DrawsSummary,
    sd_student_slope: DrawsSummary,
    cor_student_intercept_slope: DrawsSummary,
    sigma: DrawsSummary,
    nu: Schema.optional(DrawsSummary)
  }),
  /** Null for the student family (brms), whose students have no closed form to condition on. */
  population_draws: Schema.NullOr(PopulationDraws),
  /** Every population draw (standardised scale), when the fit was asked for no students: `/growth/predict` given
   * these computes the students exactly as the fit would have. */
  student_draws: Schema.optional(Schema.NullOr(PopulationDraws)),
  diagnostics: GrowthDiagnostics,
  students: Schema.Array(StudentGrowth),
  timing: Schema.Struct({
    sampling_seconds: Schema.Number,
    stan_seconds: Schema.Number,
    student_seconds: Schema.Number,
    postprocess_seconds: Schema.Number,
    total_seconds: Schema.Number
  }),
  compiled: Schema.Boolean
})
export type GrowthFitResponse = typeof GrowthFitResponse.Type

/**
 * `POST /growth/predict`: stateless — the exact posterior of students who arrived after a fit, from the fit's stored
 * population draws and standardisation and the students' own weekly observations.
 */
export const GrowthPredictRequest = Schema.Struct({
  target: Schema.Number,
  horizon_weeks: Schema.NonNegative,
  as_of_week: Schema.Number,
  population: Schema.Struct({ standardisation: Standardisation, draws: PopulationDraws }),
  rows: Schema.Array(GrowthObservation).pipe(Schema.minItems(1))
})
export type GrowthPredictRequest = typeof GrowthPredictRequest.Type

/** `POST /growth/predict` answer: per student the same posterior quantities as a fit. */
export const GrowthPredictResponse = Schema.Struct({
  target: Schema.Number,
  horizon_week: Schema.Number,
  n_draws: Schema.Int,
  method: Schema.String,
  students: Schema.Array(StudentGrowth)
})
export type GrowthPredictResponse = typeof GrowthPredictResponse.Type

/** brms `/health`: ready only once every prepared family's compiled template is loaded. */
export const BrmsHealth = Schema.Struct({
  ...ServiceHealth.fields,
  compiles: Schema.Int,
  families: Schema.Record({ key: Schema.String, value: Schema.Literal("missing", "compiling", "ready", "failed") }),
  errors: Schema.Record({ key: Schema.String, value: Schema.String }),
  cache_dir: Schema.String,
  cores: Schema.Int
})
export type BrmsHealth = typeof BrmsHealth.Type
