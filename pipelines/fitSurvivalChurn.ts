import { Effect, Schema } from "effect"
import { SurvivalSettings } from "../config/SurvivalSettings.ts"
import { addDays, mondayOf } from "../engine/Calendar.ts"
import * as Check from "../engine/Check.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Resource from "../engine/Resource.ts"
import { type ChurnRiskRow, ChurnRiskSink } from "../sinks/ChurnRiskSink.ts"
import { type SurvivalFitMetaRow, SurvivalFitMetaSink } from "../sinks/SurvivalFitMetaSink.ts"
import { LatestKpiRow, latestKpis } from "../sources/LatestKpiQuery.ts"
import { SurvivalActivityRow, survivalActivity } from "../sources/SurvivalActivityQuery.ts"
import { ForecastClient } from "../stages/models/ForecastClient.ts"
import { acrossServiceRestart } from "../stages/models/RServiceClient.ts"
import { type SurvivalCovariate, SurvivalFitResponse } from "../stages/models/schemas/Survival.ts"
import { survivalRows } from "../stages/survival/SurvivalRows.ts"

/** The Cox model's covariates: the latest KPIs and the activity summary of the lookback. */
const covariates: ReadonlyArray<SurvivalCovariate> = ["A_t", "E_t", "R_t", "sessions", "mean_gap_days"]

/**
 * `fit-survival-churn`: who stops practising. Activity over the lookback (active days, sessions, mean gap) plus the
 * latest A_t, E_t, R_t → a Cox model of the time to return over every gap between active days on r-forecast-plumber
 * → `survival_fit_meta`, and the churn risk S at the as-of day (given how long each student has been away) merged
 * into `weekly_kpi`.
 */
export const fitSurvivalChurn = Pipeline.make({
  name: "fit-survival-churn",
  description:
    "Cox time-to-return model of the gaps between active days; churn = a gap of SURVIVAL_EVENT_THRESHOLD_DAYS without activity; into survival_fit_meta and weekly_kpi.S.",
  params: SurvivalSettings
})
  .source("activity", {
    description:
      "Per student: distinct active days, sessions and mean gap over the lookback, set-based over attempt and session.",
    reads: [
      ...Resource.columns("attempt", ["student_id", "started_at"]),
      ...Resource.columns("session", ["user_id", "started_at"])
    ],
    output: Schema.Array(SurvivalActivityRow),
    run: ({ params, record }) => {
      record("days", { first: addDays(params.asOf, 1 - params.lookbackDays), last: params.asOf })
      return survivalActivity({ asOf: params.asOf, lookbackDays: params.lookbackDays })
    }
  })
  .source("latestKpis", {
    description: "Per student: A_t, E_t and R_t of their latest weekly_kpi week in the lookback.",
    reads: Resource.columns("weekly_kpi", ["A_t", "E_t", "R_t"]),
    output: Schema.Array(LatestKpiRow),
    run: ({ params }) =>
      latestKpis({
        firstWeek: mondayOf(addDays(params.asOf, 1 - params.lookbackDays)),
        lastWeek: mondayOf(params.asOf)
      })
  })
  .transform("survivalRows", {
    description: "One model row per active student: active days, sessions, mean gap and latest KPIs (stages/survival).",
    inputs: ["activity", "latestKpis"],
    run: ({ activity, latestKpis }, { record }) => {
      const rows = survivalRows(activity, latestKpis)
      record("students", rows.rows.length)
      record("withoutKpis", rows.withoutKpis)
      record("kpisWithoutActivity", rows.kpisWithoutActivity)
      return rows
    }
  })
  .model("survivalFit", {
    description:
      "POST /survival/fit: Cox PH of the time to return over all gaps (the open one censored at the as-of day); per student, S at the as-of day: 1 once inactive for the threshold, else the probability that the current gap reaches it.",
    inputs: ["survivalRows"],
    output: SurvivalFitResponse,
    timeout: "10 minutes",
    retry: acrossServiceRestart,
    run: ({ survivalRows }, { params, record }) =>
      Effect.gen(function* () {
        const forecast = yield* ForecastClient
        const fit = yield* forecast.survivalFit({
          rows: survivalRows.rows,
          cutoff: params.asOf,
          event_threshold_days: params.eventThresholdDays,
          covariates
        })
        record("n", fit.n)
        record("events", fit.events)
        record("gaps", fit.gaps)
        record("returns", fit.returns)
        const lapsed = fit.risk_scores.filter((r) => r.time_days >= fit.event_threshold_days).length
        record("lapsed", lapsed)
        record("atRisk", fit.n - lapsed)
        record("concordance", fit.concordance)
        // too few returns per covariate, coxph convergence trouble, diverging coefficients: a person should see them
        record("warnings", fit.warnings)
        record("imputation", fit.imputation)
        record("rSeconds", fit.timing.total_seconds)
        return fit
      })
  })
  .sink("survivalFitMeta", {
    description:
      "The fit (coefficients, hazard ratios, concordance, n, events, baseline hazard) into survival_fit_meta, replacing a fit for the same as-of day.",
    inputs: ["survivalFit"],
    writer: SurvivalFitMetaSink,
    rows: ({ survivalFit: fit }, { params, runId }): ReadonlyArray<SurvivalFitMetaRow> => [
      {
        run_id: runId,
        as_of: params.asOf,
        family: fit.family,
        event_threshold_days: params.eventThresholdDays,
        coefficients: fit.coefficients,
        hazard_ratios: fit.hazard_ratios,
        concordance: fit.concordance,
        n: fit.n,
        events: fit.events,
        model: {
          ties: fit.ties,
          cutoff: fit.cutoff,
          horizon_days: fit.horizon_days,
          covariates: fit.covariates,
          concordance_se: fit.concordance_se,
          gaps: fit.gaps,
          returns: fit.returns,
          imputation: fit.imputation,
          baseline_hazard: fit.baseline_hazard,
          warnings: fit.warnings,
          lookback_days: params.lookbackDays
        }
      }
    ]
  })
  .sink("churnRisk", {
    description:
      "With SURVIVAL_UPDATE_KPI=true: each student's churn probability merged as S into weekly_kpi for the as-of week.",
    inputs: ["survivalFit"],
    writer: ChurnRiskSink,
    rows: ({ survivalFit: fit }, { params, record }): ReadonlyArray<ChurnRiskRow> => {
      record("weekStart", params.updateKpi ? mondayOf(params.asOf) : "skipped: SURVIVAL_UPDATE_KPI=false")
      return params.updateKpi
        ? fit.risk_scores.map((r) => ({
            user_id: r.user_id,
            week_start: mondayOf(params.asOf),
            kpis: { S: r.churn_probability01 }
          }))
        : []
    },
    checks: [
      Check.inRange<ChurnRiskRow>("kpis.S", 0, 1),
      Check.notNaN<ChurnRiskRow>("kpis.S"),
      Check.uniqueKey<ChurnRiskRow>(["user_id", "week_start"])
    ]
  })
