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
 * One student: their active days up to the cutoff (the service turns them into gaps: each gap between consecutive
 * active days is a return after that many days, the open gap since the last active day is censored at the cutoff)
 * and their covariates.
 */
export const SurvivalRow = Schema.Struct({
  user_id: Schema.String,
  active_days: Schema.Array(IsoDate).pipe(Schema.minItems(1)),
  ...covariateFields
})
export type SurvivalRow = typeof SurvivalRow.Type

/** `POST /survival/fit`: the time-to-return model over all students' gaps, scored at `cutoff`. */
export const SurvivalFitRequest = Schema.Struct({
  rows: Schema.Array(SurvivalRow).pipe(Schema.minItems(5)),
  cutoff: IsoDate,
  /** Churn = a run of at least this many days without activity. */
  event_threshold_days: Schema.Positive,
  /** Defaults to the threshold, where S is exactly "a churn run completes within the horizon". */
  horizon_days: Schema.optional(Schema.Positive),
  covariates: Schema.optional(Schema.Array(SurvivalCovariate))
})
export type SurvivalFitRequest = typeof SurvivalFitRequest.Type

/** A Cox coefficient: log hazard ratio of returning per unit of the covariate (> 0: returns sooner, lower churn risk). */
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

/** Baseline cumulative hazard of returning, by gap length in days, at covariates = 0 (Efron tie correction). */
export const BaselineHazardPoint = Schema.Struct({ time_days: Schema.Number, cumulative_hazard: Schema.Number })

/**
 * Per student at the cutoff: the probability that their current gap becomes a churn run (1 once it already is one).
 * `time_days` is the gap's length so far: days since the last active day.
 */
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
  cutoff: IsoDate,
  event_threshold_days: Schema.Number,
  horizon_days: Schema.Number,
  /** Students. */
  n: Schema.Int,
  /** Students with a churn run complete by the cutoff (between two active days, or since the last one). */
  events: Schema.Int,
  /** Gaps the model is fitted on (the open ones of students not active on the cutoff day included). */
  gaps: Schema.Int,
  /** Gaps that ended with a return: the Cox model's events. */
  returns: Schema.Int,
  covariates: Schema.Array(Schema.String),
  coefficients: Schema.Array(CoxCoefficient),
  hazard_ratios: Schema.Array(HazardRatio),
  /** Of the return hazard over gaps (not students). */
  concordance: Schema.Number,
  concordance_se: Schema.NullOr(Schema.Number),
  baseline_hazard: Schema.Array(BaselineHazardPoint),
  imputation: Schema.Record({ key: Schema.String, value: Schema.Number }),
  warnings: Schema.Array(Schema.String),
  /** `event`: the student has a churn run complete by the cutoff (counted in `events`). */
  risk_scores: Schema.Array(Schema.Struct({ ...RiskScore.fields, event: Schema.Boolean })),
  timing: Schema.Struct({ total_seconds: Schema.Number })
})
export type SurvivalFitResponse = typeof SurvivalFitResponse.Type

/**
 * `POST /survival/predict`: stateless, coefficients and baseline hazard from a stored fit; each row is scored at its
 * days since the last active day.
 */
export const SurvivalPredictRequest = Schema.Struct({
  coefficients: Schema.Array(Schema.Struct({ name: Schema.String, estimate: Schema.Number })).pipe(Schema.minItems(1)),
  baseline_hazard: Schema.Array(BaselineHazardPoint).pipe(Schema.minItems(1)),
  imputation: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number })),
  event_threshold_days: Schema.Positive,
  horizon_days: Schema.optional(Schema.Positive),
  rows: Schema.Array(
    Schema.Struct({ user_id: Schema.String, days_since_last: Schema.NonNegative, ...covariateFields })
  ).pipe(Schema.minItems(1))
})
export type SurvivalPredictRequest = typeof SurvivalPredictRequest.Type

/** `POST /survival/predict` answer. */
export const SurvivalPredictResponse = Schema.Struct({
  event_threshold_days: Schema.Number,
  horizon_days: Schema.Number,
  risk_scores: Schema.Array(RiskScore)
})
export type SurvivalPredictResponse = typeof SurvivalPredictResponse.Type
