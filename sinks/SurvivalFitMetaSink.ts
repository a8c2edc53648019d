import * as Resource from "../engine/Resource.ts"
import { replacing } from "./ReplacingWriter.ts"

/** One survival fit: the mission's columns, the as-of day it was made for, and what `/survival/predict` needs. */
export interface SurvivalFitMetaRow extends Record<string, unknown> {
  readonly run_id: string
  readonly as_of: string
  readonly family: string
  readonly event_threshold_days: number
  readonly coefficients: unknown
  readonly hazard_ratios: unknown
  readonly concordance: number
  readonly n: number
  readonly events: number
  /** Baseline hazard, imputation, covariates, horizon, cutoff and warnings of the fit. */
  readonly model: unknown
}

/** `survival_fit_meta`: one row per fit; a re-run for the same as-of day replaces the earlier run's row. */
export const SurvivalFitMetaSink = replacing<SurvivalFitMetaRow>({
  table: "survival_fit_meta",
  scope: "as_of",
  columns: {
    run_id: "text",
    as_of: "date",
    family: "text",
    event_threshold_days: "int4",
    coefficients: "jsonb",
    hazard_ratios: "jsonb",
    concordance: "float8",
    n: "int4",
    events: "int4",
    model: "jsonb"
  },
  writes: Resource.many("survival_fit_meta")
})
