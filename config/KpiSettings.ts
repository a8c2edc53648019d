import * as Param from "../engine/Param.ts"

/**
 * The as-of day shared by the daily pipelines: `SEEDTEST_AS_OF`, empty = today (UTC, resolved when a run starts).
 * Runs are deterministic for an explicit day; tests and backfills pass one.
 */
export const asOf: Param.Param<string> = Param.date({
  env: "SEEDTEST_AS_OF",
  description: "the last day whose data is read (YYYY-MM-DD); empty = today (UTC)",
  default: "",
  emptyIsToday: true
})

/** `METRICS_DEFAULT_TARGET`: the goal accuracy P is about, shared by the KPI and growth pipelines. */
export const goalTarget: Param.Param<number> = Param.number({
  env: "METRICS_DEFAULT_TARGET",
  description: "goal accuracy for P, a probability in [0, 1]",
  default: 0.7,
  min: 0,
  max: 1
})

/** `GOAL_HORIZON_WEEKS`: how far ahead P is evaluated, shared by the KPI and growth pipelines. */
export const goalHorizonWeeks: Param.Param<number> = Param.int({
  env: "GOAL_HORIZON_WEEKS",
  description: "weeks after the as-of week at which P is evaluated",
  default: 4,
  min: 0
})

/** The parameters of `compute-daily-kpis`, under the environment variable names users already have. */
export const KpiSettings = {
  asOf,
  lookbackDays: Param.int({
    env: "KPI_LOOKBACK_DAYS",
    description: "days back from the as-of day whose weeks are (re)computed",
    default: 30,
    min: 0,
    // ten years: far more weeks than that exceed what one statement can compute (Postgres's 1664 target columns)
    max: 3660
  }),
  target: goalTarget,
  horizonWeeks: goalHorizonWeeks,
  useBayesian: Param.boolean({
    env: "METRICS_USE_BAYESIAN",
    description: "take P and sigma from the growth model's posterior instead of the closed form",
    default: false
  })
}

/** The parameters of `aggregate-features-daily`. */
export const FeatureSettings = {
  asOf,
  lookbackDays: Param.int({
    env: "FEATURES_LOOKBACK_DAYS",
    description: "days back from the as-of day whose daily topic features are (re)computed",
    default: 7,
    min: 0,
    max: 3660
  })
}
