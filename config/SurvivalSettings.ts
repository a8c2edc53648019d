import * as Param from "../engine/Param.ts"
import { asOf } from "./KpiSettings.ts"

/** The parameters of `fit-survival-churn`, under the environment variable names users already have. */
export const SurvivalSettings = {
  asOf,
  lookbackDays: Param.int({
    env: "SURVIVAL_LOOKBACK_DAYS",
    description: "days of activity (attempts and sessions) up to the as-of day that the survival model sees",
    default: 90,
    min: 14,
    max: 3660
  }),
  eventThresholdDays: Param.int({
    env: "SURVIVAL_EVENT_THRESHOLD_DAYS",
    description: "a churn event is a run of at least this many days without activity, complete by the as-of day",
    default: 14,
    min: 1
  }),
  updateKpi: Param.boolean({
    env: "SURVIVAL_UPDATE_KPI",
    description: "also merge the churn risk S into weekly_kpi for the as-of week",
    default: true
  })
}
