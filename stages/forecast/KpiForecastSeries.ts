import type { ProphetSeriesRow } from "../../sinks/ProphetForecastSink.ts"
import type { KpiSeriesPoint } from "../../sources/KpiSeriesQuery.ts"
import type { ForecastSeries, SeriesForecast } from "../models/schemas/Forecast.ts"

/** The id of the cohort series in a Prophet request; student series are `user:<id>`, so no student id collides. */
export const COHORT_SERIES_ID = "cohort"

const seriesId = (userId: string | null) => (userId === null ? COHORT_SERIES_ID : `user:${userId}`)

/** The user a series id names (null: the cohort). */
export const userOfSeries = (id: string): string | null => (id === COHORT_SERIES_ID ? null : id.slice("user:".length))

/** Weekly points grouped into one Prophet series per student plus the cohort series, in the order they came. */
export const forecastSeries = (points: ReadonlyArray<KpiSeriesPoint>): ReadonlyArray<typeof ForecastSeries.Type> => {
  const byId = new Map<string, Array<{ week_start: string; value: number | null }>>()
  for (const p of points) {
    const id = seriesId(p.user_id)
    const list = byId.get(id)
    const point = { week_start: p.week_start, value: p.value }
    if (list === undefined) byId.set(id, [point])
    else list.push(point)
  }
  return [...byId].map(([id, series]) => ({ id, points: series }))
}

/** How many series got each per-series answer (`ok`, `insufficient_data`, `constant_series`, `failed`). */
export const statusCounts = (forecasts: ReadonlyArray<SeriesForecast>): Record<SeriesForecast["status"], number> => {
  const counts = { ok: 0, insufficient_data: 0, constant_series: 0, failed: 0 }
  for (const f of forecasts) counts[f.status]++
  return counts
}

/** What a forecast run stores about every series, in the sink's shape. */
export interface SeriesRowSettings {
  readonly runId: string
  readonly asOfWeek: string
  readonly metric: string
  readonly lookbackWeeks: number
  readonly horizonWeeks: number
  readonly anomalyThreshold: number
}

/** One stored row per answered series: its forecast, changepoints, status and anomalies (none unless `ok`). */
export const seriesRows = (
  forecasts: ReadonlyArray<SeriesForecast>,
  settings: SeriesRowSettings
): ReadonlyArray<ProphetSeriesRow> =>
  forecasts.map((f) => {
    const user_id = userOfSeries(f.id)
    const common = {
      run_id: settings.runId,
      as_of_week: settings.asOfWeek,
      metric: settings.metric,
      user_id,
      lookback_weeks: settings.lookbackWeeks,
      horizon_weeks: settings.horizonWeeks,
      anomaly_threshold: settings.anomalyThreshold
    }
    if (f.status !== "ok") {
      return {
        ...common,
        changepoints: [],
        forecast: [],
        fit_meta: { status: f.status, message: f.message },
        anomalies: []
      }
    }
    return {
      ...common,
      changepoints: f.changepoints,
      forecast: f.forecast,
      fit_meta: {
        status: f.status,
        n_points: f.n_points,
        residual_sd: f.residual_sd,
        trend_rate_per_week: f.trend_rate_per_week,
        fit: f.fit,
        seconds: f.seconds
      },
      anomalies: f.anomalies.map((a) => ({
        run_id: settings.runId,
        user_id,
        week_start: a.week_start,
        metric: settings.metric,
        value: a.value,
        expected: a.expected,
        anomaly_score: a.anomaly_score
      }))
    }
  })
