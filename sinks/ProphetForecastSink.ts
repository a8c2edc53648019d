import { dependent, replacing } from "./ReplacingWriter.ts"

/** One anomalous week of a series. */
export interface ProphetAnomalyRow extends Record<string, unknown> {
  readonly run_id: string
  readonly user_id: string | null
  readonly week_start: string
  readonly metric: string
  readonly value: number
  readonly expected: number
  readonly anomaly_score: number
}

/** One forecast series of a run as `prophet_fit_meta` stores it (`user_id` null: the cohort series). */
export interface ProphetFitMetaRow extends Record<string, unknown> {
  readonly run_id: string
  /** Monday of the as-of week: a re-run for the same week replaces the rows of earlier runs for it. */
  readonly as_of_week: string
  readonly metric: string
  readonly user_id: string | null
  readonly changepoints: unknown
  readonly forecast: unknown
  /** The per-series status (`ok`, `constant_series`, …), residual SD, trend and the in-sample fit. */
  readonly fit_meta: unknown
  readonly lookback_weeks: number
  readonly horizon_weeks: number
  readonly anomaly_threshold: number
}

/** One forecast series of a run, with the anomalies found in it. */
export interface ProphetSeriesRow extends ProphetFitMetaRow {
  readonly anomalies: ReadonlyArray<ProphetAnomalyRow>
}

/**
 * `prophet_fit_meta` (one row per series) and `prophet_anomalies`, written together: both tables are keyed by run
 * id, so a run first deletes what earlier runs stored for its as-of week (anomalies through their run's meta rows),
 * then appends, all inside the run's one transaction. No rows (nothing was fitted) replaces nothing.
 */
export const ProphetForecastSink = replacing<ProphetSeriesRow, ProphetFitMetaRow>({
  table: "prophet_fit_meta",
  scope: "as_of_week",
  columns: {
    run_id: "text",
    as_of_week: "date",
    metric: "text",
    user_id: "text",
    changepoints: "jsonb",
    forecast: "jsonb",
    fit_meta: "jsonb",
    lookback_weeks: "int4",
    horizon_weeks: "int4",
    anomaly_threshold: "float8"
  },
  dependents: [
    dependent<ProphetSeriesRow, ProphetAnomalyRow>({
      table: "prophet_anomalies",
      via: "run_id",
      columns: {
        run_id: "text",
        user_id: "text",
        week_start: "date",
        metric: "text",
        value: "float8",
        expected: "float8",
        anomaly_score: "float8"
      },
      rows: (series) => series.anomalies
    })
  ]
})
