import { Schema } from "effect"
import { IsoDate, ServiceHealth } from "./Common.ts"

/** One weekly point; a null value is skipped. */
export const SeriesPoint = Schema.Struct({ week_start: IsoDate, value: Schema.NullOr(Schema.Number) })

/** One series to forecast, e.g. a student's I_t or the cohort's. */
export const ForecastSeries = Schema.Struct({ id: Schema.String, points: Schema.Array(SeriesPoint) })

/** `POST /prophet/fit`: many series in one request. */
export const ProphetFitRequest = Schema.Struct({
  series: Schema.Array(ForecastSeries).pipe(Schema.minItems(1)),
  horizon_weeks: Schema.Int.pipe(Schema.between(1, 104)),
  anomaly_threshold: Schema.NonNegative,
  interval_width: Schema.optional(Schema.Number.pipe(Schema.between(0.5, 0.999))),
  uncertainty_samples: Schema.optional(Schema.Int.pipe(Schema.between(0, 5000))),
  changepoint_prior_scale: Schema.optional(Schema.Positive),
  seed: Schema.optional(Schema.Int)
})
export type ProphetFitRequest = typeof ProphetFitRequest.Type

const FittedPoint = Schema.Struct({
  week_start: IsoDate,
  value: Schema.Number,
  yhat: Schema.Number,
  yhat_lower: Schema.Number,
  yhat_upper: Schema.Number,
  residual: Schema.Number,
  anomaly_score: Schema.Number
})

const ForecastPoint = Schema.Struct({
  week_start: IsoDate,
  yhat: Schema.Number,
  yhat_lower: Schema.Number,
  yhat_upper: Schema.Number
})

/** A point whose standardised residual is beyond the threshold. */
export const Anomaly = Schema.Struct({
  week_start: IsoDate,
  value: Schema.Number,
  expected: Schema.Number,
  anomaly_score: Schema.Number
})

/** A trend changepoint and its rate change in value units per week. */
export const Changepoint = Schema.Struct({ week_start: IsoDate, rate_change_per_week: Schema.Number })

/** A series that was fitted. */
export const SeriesForecastOk = Schema.Struct({
  id: Schema.String,
  status: Schema.Literal("ok"),
  n_points: Schema.Int,
  fit: Schema.Array(FittedPoint),
  forecast: Schema.Array(ForecastPoint),
  anomalies: Schema.Array(Anomaly),
  changepoints: Schema.Array(Changepoint),
  residual_sd: Schema.Number,
  trend_rate_per_week: Schema.Number,
  seconds: Schema.Number
})

/** A series that could not be fitted, and why; the rest of the batch is unaffected. */
export const SeriesForecastUnavailable = Schema.Struct({
  id: Schema.String,
  status: Schema.Literal("insufficient_data", "constant_series", "failed"),
  message: Schema.String
})

/** Per-series answer. */
export const SeriesForecast = Schema.Union(SeriesForecastOk, SeriesForecastUnavailable)
export type SeriesForecast = typeof SeriesForecast.Type

/** `POST /prophet/fit` answer. */
export const ProphetFitResponse = Schema.Struct({
  horizon_weeks: Schema.Int,
  anomaly_threshold: Schema.Number,
  interval_width: Schema.Number,
  anomaly_definition: Schema.String,
  series: Schema.Array(SeriesForecast),
  summary: Schema.Struct({
    n_series: Schema.Int,
    ok: Schema.Int,
    insufficient_data: Schema.Int,
    constant_series: Schema.Int,
    failed: Schema.Int
  }),
  timing: Schema.Struct({ total_seconds: Schema.Number, workers: Schema.Int, per_series_seconds: Schema.Number })
})
export type ProphetFitResponse = typeof ProphetFitResponse.Type

/** forecast `/health`. */
export const ForecastHealth = Schema.Struct({ ...ServiceHealth.fields, workers: Schema.Int })
