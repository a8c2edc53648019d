import { Chunk, Duration, Effect, Option, Schema } from "effect"
import { ForecastSettings } from "../config/ForecastSettings.ts"
import * as Check from "../engine/Check.ts"
import * as Need from "../engine/Need.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Resource from "../engine/Resource.ts"
import { ProphetForecastSink, type ProphetSeriesRow } from "../sinks/ProphetForecastSink.ts"
import { KpiSeries, kpiSeries, seriesWeeks } from "../sources/KpiSeriesQuery.ts"
import { forecastSeries, seriesRows, statusCounts } from "../stages/forecast/KpiForecastSeries.ts"
import { ForecastClient } from "../stages/models/ForecastClient.ts"
import { acrossServiceRestart } from "../stages/models/RServiceClient.ts"
import { SeriesForecast } from "../stages/models/schemas/Forecast.ts"

/** The KPI key forecast, as stored in `prophet_fit_meta.metric` and `prophet_anomalies.metric`. */
const METRIC = "I_t"

/** A check's SQL predicate: the array at `field` of a row is not an array, or one of its elements lacks a number. */
const numbersIn = (field: string, keys: ReadonlyArray<string>) =>
  `CASE WHEN jsonb_typeof(r -> '${field}') = 'array'
        THEN EXISTS (SELECT 1 FROM jsonb_array_elements(r -> '${field}') e
                     WHERE ${keys.map((k) => `jsonb_typeof(e -> '${k}') IS DISTINCT FROM 'number'`).join(" OR ")})
        ELSE true END`

/** What the Prophet service answered for every series, with the service's own time for the benchmark. */
const Forecasts = Schema.Struct({
  series: Schema.Array(SeriesForecast),
  batches: Schema.Int,
  r_seconds: Schema.Number
})

/**
 * `forecast-prophet`: the weekly I_t series of every student with at least 4 weeks, and the cohort's mean series →
 * Prophet in batches → one `prophet_fit_meta` row per series (forecast, changepoints, status) and the anomalous
 * weeks in `prophet_anomalies`. A re-run for the same as-of week replaces that week's rows.
 */
export const forecastProphet = Pipeline.make({
  name: "forecast-prophet",
  description: "Prophet forecast of the weekly improvement I_t per student and for the cohort, with anomalous weeks.",
  params: ForecastSettings
})
  .source("series", {
    description:
      "weekly_kpi.I_t over PROPHET_LOOKBACK_WEEKS: students with ≥ 4 weeks (the others are counted) and the cohort mean per week.",
    reads: Resource.many("weekly_kpi.I_t"),
    needs: [Need.weeks("weekly_kpi.I_t", (p) => p.lookbackWeeks)],
    output: KpiSeries,
    run: ({ params, record }) => {
      const weeks = seriesWeeks(params.asOf, params.lookbackWeeks)
      record("weeks", weeks)
      return kpiSeries(METRIC, weeks).pipe(
        Effect.tap(({ short_students }) => Effect.sync(() => record("studentsWithTooFewWeeks", short_students)))
      )
    }
  })
  .model("forecasts", {
    description:
      "POST /prophet/fit (r-forecast-plumber) in batches of batchSize series, spread over the R_FORECAST_URL replicas (FORECAST_CONCURRENCY at once); per-series statuses are counted, not failures.",
    inputs: ["series"],
    output: Forecasts,
    retry: acrossServiceRestart,
    run: ({ series }, { params, record }) =>
      Effect.gen(function* () {
        const all = forecastSeries(series.points)
        if (all.length === 0) {
          record("statuses", statusCounts([]))
          return { series: [], batches: 0, r_seconds: 0 }
        }
        const forecast = yield* ForecastClient
        const batches = Chunk.chunksOf(Chunk.fromIterable(all), params.batchSize)
        // how far this attempt got: after a failure the run record shows whether the service died mid-run
        let answered = 0
        record("batches", { total: Chunk.size(batches), answered })
        const answers = yield* Effect.forEach(
          batches,
          (batch) =>
            forecast
              .prophetFit(
                {
                  series: Chunk.toReadonlyArray(batch),
                  horizon_weeks: params.forecastWeeks,
                  anomaly_threshold: params.anomalyThreshold
                },
                {
                  timeout: Duration.seconds(params.timeoutSeconds),
                  timeoutSetting: `R_FORECAST_TIMEOUT_SECS=${params.timeoutSeconds} for a batch of ${Chunk.size(batch)} series`
                }
              )
              .pipe(
                Effect.tap(() =>
                  Effect.sync(() => record("batches", { total: Chunk.size(batches), answered: ++answered }))
                )
              ),
          { concurrency: Option.getOrElse(params.concurrency, () => forecast.concurrency) }
        )
        const forecasts = answers.flatMap((a) => a.series)
        record("statuses", statusCounts(forecasts))
        const r_seconds = answers.reduce((s, a) => s + a.timing.total_seconds, 0)
        record("rSeconds", r_seconds)
        return { series: forecasts, batches: answers.length, r_seconds }
      })
  })
  .sink("prophetForecast", {
    description:
      "Replace the as-of week's prophet_fit_meta rows (one per series; user_id null = cohort) and prophet_anomalies.",
    inputs: ["forecasts"],
    writer: ProphetForecastSink,
    rows: ({ forecasts }, { params, runId }) =>
      seriesRows(forecasts.series, {
        runId,
        asOfWeek: seriesWeeks(params.asOf, params.lookbackWeeks).lastWeek,
        metric: METRIC,
        lookbackWeeks: params.lookbackWeeks,
        horizonWeeks: params.forecastWeeks,
        anomalyThreshold: params.anomalyThreshold
      }),
    checks: [
      Check.uniqueKey<ProphetSeriesRow>(["metric", "user_id"]),
      Check.where<ProphetSeriesRow>(
        "forecast points are numbers",
        numbersIn("forecast", ["yhat", "yhat_lower", "yhat_upper"]),
        { description: "every forecast point has a numeric yhat, yhat_lower and yhat_upper (no NaN, no null)" }
      ),
      Check.where<ProphetSeriesRow>(
        "anomalies are numbers",
        numbersIn("anomalies", ["value", "expected", "anomaly_score"]),
        { description: "every anomaly has a numeric value, expected value and score" }
      )
    ]
  })
