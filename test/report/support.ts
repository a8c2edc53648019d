import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { seedCohort } from "../../cohort/Loader.ts"
import * as Runner from "../../engine/Runner.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"

/** A Sunday: the reported week is 2026-05-25 … 2026-05-31. */
export const LAST_DAY = "2026-05-31"
export const WEEK = "2026-05-25"
/** The planted high-risk and low-risk students. */
export const HIGH_RISK = { index: 0, s: 0.85 }
export const LOW_RISK = { index: 1, s: 0.12 }

/** A fresh output folder for one test. */
export const outputFolder = () => fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-report-test-"))

/** 30 students with 12 weeks of attempts and their KPIs over the last 12 weeks (so I_t has a history). */
export const seedReportCohort = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* seedCohort({ students: 30, weeks: 14, seed: 7, endDate: LAST_DAY })
  yield* sql`TRUNCATE weekly_kpi`
  yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY, lookbackDays: "84" } })
  const users = yield* sql<{
    user_id: string
  }>`SELECT user_id FROM weekly_kpi WHERE week_start = ${WEEK}::date ORDER BY user_id`
  return users.map((u) => u.user_id)
})

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)

/** Deterministic pseudo-random numbers in [0, 1). */
const noise = (i: number, k: number) => {
  const x = Math.sin(i * 12.9898 + k * 78.233) * 43758.5453
  return x - Math.floor(x)
}

/** Realistic model outputs, as the model pipelines store them, for every student of the week. */
export const insertModelOutputs = (users: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`TRUNCATE growth_brms_meta, growth_brms_posterior, prophet_fit_meta, prophet_anomalies, survival_fit_meta, user_segment, segment_meta`
    // growth: the posterior of week WEEK; coefficients stored for even students only (the others get the cone), keyed
    // by student as stages/growth/GrowthRows.ts writes them
    const students = users.map((user, i) => ({
      student: user,
      coefficients: {
        intercept: { mean: 0.45 + 0.2 * noise(i, 1), sd: 0.04 },
        slope: { mean: 0.01 + 0.01 * noise(i, 2), sd: 0.004 },
        intercept_slope_cor: -0.3
      }
    }))
    yield* sql`INSERT INTO growth_brms_meta (run_id, formula, priors, posterior_summary, diagnostics)
      VALUES ('run_growth', 'score ~ week + (week | student)', '{}'::jsonb,
              ${JSON.stringify({ week_start: WEEK, as_of_week: 11, students: Object.fromEntries(students.filter((_, i) => i % 2 === 0).map((s) => [s.student, s.coefficients])) })}::jsonb,
              '{"converged": true, "accepted": true}'::jsonb)`
    for (const [i, user] of users.entries()) {
      const p = 0.05 + 0.9 * noise(i, 3)
      const mid = 0.5 + 0.3 * noise(i, 4)
      yield* sql`INSERT INTO growth_brms_posterior (run_id, user_id, week_start, p_goal, sigma, lower95, upper95, target, horizon_weeks)
        VALUES ('run_growth', ${user}, ${WEEK}::date, ${p}, ${0.05 + 0.05 * noise(i, 5)}, ${mid - 0.12}, ${mid + 0.12}, 0.7, 4)`
    }
    // forecast: four weeks of I_t per student; the last student's series was too short to fit
    const kpis = yield* sql<{ user_id: string; week_start: string; i_t: number | null }>`
      SELECT user_id, week_start::text AS week_start, (kpis ->> 'I_t')::float8 AS i_t FROM weekly_kpi ORDER BY user_id, week_start`
    for (const [i, user] of users.entries()) {
      const last = kpis.filter((k) => k.user_id === user && k.i_t !== null).at(-1)?.i_t ?? 0
      const declined = i === users.length - 1
      const forecast = declined
        ? []
        : [1, 2, 3, 4].map((h) => ({
            week_start: addDays(WEEK, 7 * h),
            yhat: last + 0.01 * h,
            yhat_lower: last + 0.01 * h - 0.05 * h,
            yhat_upper: last + 0.01 * h + 0.05 * h
          }))
      const fitMeta = declined
        ? { status: "insufficient_data", message: "2 non-null points; at least 4 are needed" }
        : { status: "ok", residual_sd: 0.04 }
      yield* sql`INSERT INTO prophet_fit_meta (run_id, metric, user_id, changepoints, forecast, fit_meta, lookback_weeks, horizon_weeks, anomaly_threshold, as_of_week)
        VALUES ('run_forecast', 'I_t', ${user}, '[]'::jsonb, ${JSON.stringify(forecast)}::jsonb, ${JSON.stringify(fitMeta)}::jsonb, 12, 4, 2.5, ${WEEK}::date)`
    }
    // the cohort series (user_id null): the weekly mean I_t, forecast four weeks, one anomalous week
    const cohortMean = yield* sql<{ week_start: string; value: number }>`
      SELECT week_start::text AS week_start, avg((kpis ->> 'I_t')::float8) AS value FROM weekly_kpi
      WHERE jsonb_typeof(kpis -> 'I_t') = 'number' GROUP BY week_start ORDER BY week_start`
    const cohortLast = cohortMean.at(-1)?.value ?? 0
    yield* sql`INSERT INTO prophet_fit_meta (run_id, metric, user_id, changepoints, forecast, fit_meta, lookback_weeks, horizon_weeks, anomaly_threshold, as_of_week)
      VALUES ('run_forecast', 'I_t', NULL, '[]'::jsonb,
              ${JSON.stringify([1, 2, 3, 4].map((h) => ({ week_start: addDays(WEEK, 7 * h), yhat: cohortLast + 0.005 * h, yhat_lower: cohortLast - 0.02 * h, yhat_upper: cohortLast + 0.03 * h })))}::jsonb,
              '{"status": "ok"}'::jsonb, 12, 4, 2.5, ${WEEK}::date)`
    const cohortAnomaly = cohortMean.at(-3)
    if (cohortAnomaly !== undefined) {
      yield* sql`INSERT INTO prophet_anomalies (run_id, user_id, week_start, metric, value, expected, anomaly_score)
        VALUES ('run_forecast', NULL, ${cohortAnomaly.week_start}::date, 'I_t', ${cohortAnomaly.value}, ${cohortAnomaly.value - 0.1}, 2.9)`
    }
    // two anomalies of student 2 at weeks it has an I_t value
    const anomalous = kpis.filter((k) => k.user_id === users[2] && k.i_t !== null).slice(-4, -2)
    for (const a of anomalous) {
      yield* sql`INSERT INTO prophet_anomalies (run_id, user_id, week_start, metric, value, expected, anomaly_score)
        VALUES ('run_forecast', ${users[2]!}, ${a.week_start}::date, 'I_t', ${a.i_t!}, ${a.i_t! - 0.2}, 3.1)`
    }
    // survival: S for every student, two planted levels
    yield* sql`INSERT INTO survival_fit_meta (run_id, family, event_threshold_days, coefficients, hazard_ratios, concordance, n, events)
      VALUES ('run_survival', 'cox_ph', 14, '[]'::jsonb, '[]'::jsonb, 0.71, ${users.length}, 9)`
    for (const [i, user] of users.entries()) {
      const s = i === HIGH_RISK.index ? HIGH_RISK.s : i === LOW_RISK.index ? LOW_RISK.s : 0.1 + 0.8 * noise(i, 6)
      yield* sql`UPDATE weekly_kpi SET kpis = kpis || jsonb_build_object('S', ${s}::float8) WHERE user_id = ${user} AND week_start = ${WEEK}::date`
      // and the week before, so the change since last week shows
      const before = Math.min(1, Math.max(0, s + 0.3 * (noise(i, 7) - 0.5)))
      yield* sql`UPDATE weekly_kpi SET kpis = kpis || jsonb_build_object('S', ${before}::float8) WHERE user_id = ${user} AND week_start = ${addDays(WEEK, -7)}::date`
    }
    // segments: every student but the last; two clusters with traits
    const centers = [
      {
        cluster: 1,
        label: "highly engaged",
        size: 15,
        traits: [
          { feature: "engagement", z: 1.2, description: "engagement well above the cohort" },
          { feature: "sessions", z: 0.8, description: "more sessions than most" }
        ]
      },
      {
        cluster: 2,
        label: "slow 2",
        size: 14,
        traits: [{ feature: "efficiency", z: -1.1, description: "response times not improving" }]
      }
    ]
    yield* sql`INSERT INTO segment_meta (run_id, method, n_clusters, centers, metrics) VALUES ('run_segments', 'kmeans', 2, ${JSON.stringify(centers)}::jsonb, '{}'::jsonb)`
    for (const [i, user] of users.slice(0, -1).entries()) {
      yield* sql`INSERT INTO user_segment (user_id, segment_label, features_snapshot) VALUES (${user}, ${i % 2 === 0 ? "highly engaged" : "slow 2"}, '{}'::jsonb)`
    }
  })
