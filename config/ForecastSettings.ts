import { Option } from "effect"
import * as Param from "../engine/Param.ts"
import { asOf } from "./KpiSettings.ts"

/** The parameters of `forecast-prophet`, under the environment variable names users already have. */
export const ForecastSettings = {
  asOf,
  lookbackWeeks: Param.int({
    env: "PROPHET_LOOKBACK_WEEKS",
    description: "weeks of weekly_kpi.I_t (ending with the as-of week) each series holds",
    default: 12,
    min: 4
  }),
  forecastWeeks: Param.int({
    env: "PROPHET_FORECAST_WEEKS",
    description: "weeks forecast after the as-of week",
    default: 4,
    min: 1
  }),
  anomalyThreshold: Param.number({
    env: "PROPHET_ANOMALY_THRESHOLD",
    description: "a week is anomalous when |value − expected| exceeds this many residual SDs",
    default: 2.5,
    min: 0
  }),
  timeoutSeconds: Param.int({
    env: "R_FORECAST_TIMEOUT_SECS",
    description: "seconds each batch of series may take before the run fails (nothing is written)",
    default: 300,
    min: 1
  }),
  batchSize: Param.int({
    description: "series per /prophet/fit request",
    default: 200,
    min: 1
  }),
  concurrency: Param.optionalInt({
    env: "FORECAST_CONCURRENCY",
    description: "/prophet/fit batches in flight at once; empty = the R_FORECAST_URL instances × 2",
    default: Option.none(),
    min: 1
  })
}
