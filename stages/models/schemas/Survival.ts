import { Schema } from "effect"
import { IsoDate, Probability01 } from "./Common.ts"

/** Covariates the survival model may use. */
export const SurvivalCovariate = Schema.Literal("A_t", "E_t", "R_t", "sessions", "mean_gap_days")
export type SurvivalCovariate = typeof SurvivalCovariate.Type

const covariateFields = {
  A_t: Schema.optional(Schema.NullOr(Schema.Number)),
  E_t: Schema.optional(Schema.NullOr(Schema.Number)),
  R_t: Schema.optional(Schema.NullOr(Schema.Number)),
  sessions: Schema.optional(Schema.NullOr(Schema.Number)),
  mean_gap_days: Schema.optional(Schema.NullOr(Schema.Number))
}

/**
 * One student. Either `active_days` (the service derives the right-censored outcome: event = the first run of at
 * least `event_threshold_days` inactive days complete by `cutoff`, time = days from the first active day to the
 * start of that gap, else censored at the cutoff) or a precomputed `time_days` + `event`.
 */
export const SurvivalRow = Schema.Struct({
  user_id: Schema.String,
  active_days: Schema.optional(Schema.Array(IsoDate)),
  time_days: Schema.optional(Schema.Positive),
  event: Schema.optional(Schema.Boolean),
  ...covariateFields
})
export type SurvivalRow = typeof SurvivalRow.Type

/** `POST /survival/fit`. */
export const SurvivalFitRequest = Schema.Struct({
  rows: Schema.Array(SurvivalRow).pipe(Schema.minItems(5)),
  cutoff: Schema.optional(IsoDate),
  event_threshold_days: Schema.Positive,
  horizon_days: Schema.optional(Schema.Positive),
  covariates: Schema.optional(Schema.Array(SurvivalCovariate))
})
export type SurvivalFitRequest = typeof SurvivalFitRequest.Type

/** A Cox coefficient (log hazard ratio per unit of the covariate). */
export const CoxCoefficient = Schema.Struct({
  name: Schema.String,
  estimate: Schema.Number,
  se: Schema.Number,
  z: Schema.Number,
  p_value: Schema.Number
})

/** exp(coefficient) with its 95% Wald interval. */
export const HazardRatio = Schema.Struct({
  name: Schema.String,
  hazard_ratio: Schema.Number,
  lower95: Schema.Number,
  upper95: Schema.Number
})

/** Breslow baseline cumulative hazard at covariates = 0. */
export const BaselineHazardPoint = Schema.Struct({ time_days: Schema.Number, cumulative_hazard: Schema.Number })

/** Per student: probability of churning within `horizon_days`, given their follow-up so far. */
export const RiskScore = Schema.Struct({
  user_id: Schema.String,
  time_days: Schema.Number,
  linear_predictor: Schema.Number,
  churn_probability01: Probability01
})

/** `POST /survival/fit` answer. */
export const SurvivalFitResponse = Schema.Struct({
  family: Schema.Literal("cox_ph"),
  ties: Schema.String,
  cutoff: Schema.NullOr(IsoDate),
  event_threshold_days: Schema.Number,
  horizon_days: Schema.Number,
  n: Schema.Int,
  events: Schema.Int,
  covariates: Schema.Array(Schema.String),
  coefficients: Schema.Array(CoxCoefficient),
  hazard_ratios: Schema.Array(HazardRatio),
  concordance: Schema.Number,
  concordance_se: Schema.NullOr(Schema.Number),
  baseline_hazard: Schema.Array(BaselineHazardPoint),
  imputation: Schema.Record({ key: Schema.String, value: Schema.Number }),
  warnings: Schema.Array(Schema.String),
  risk_scores: Schema.Array(Schema.Struct({ ...RiskScore.fields, event: Schema.Boolean })),
  timing: Schema.Struct({ total_seconds: Schema.Number })
})
export type SurvivalFitResponse = typeof SurvivalFitResponse.Type

/** `POST /survival/predict`: stateless, coefficients and baseline hazard from a stored fit. */
export const SurvivalPredictRequest = Schema.Struct({
  coefficients: Schema.Array(Schema.Struct({ name: Schema.String, estimate: Schema.Number })).pipe(Schema.minItems(1)),
  baseline_hazard: Schema.Array(BaselineHazardPoint).pipe(Schema.minItems(1)),
  imputation: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number })),
  horizon_days: Schema.Positive,
  rows: Schema.Array(Schema.Struct({ user_id: Schema.String, time_days: Schema.NonNegative, ...covariateFields })).pipe(
    Schema.minItems(1)
  )
})
export type SurvivalPredictRequest = typeof SurvivalPredictRequest.Type

/** `POST /survival/predict` answer. */
export const SurvivalPredictResponse = Schema.Struct({
  horizon_days: Schema.Number,
  risk_scores: Schema.Array(RiskScore)
})
export type SurvivalPredictResponse = typeof SurvivalPredictResponse.Type
