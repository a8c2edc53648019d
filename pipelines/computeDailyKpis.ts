import { Effect, Schema } from "effect"
import { KpiSettings } from "../config/KpiSettings.ts"
import { daysBetween } from "../engine/Calendar.ts"
import * as Check from "../engine/Check.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Resource from "../engine/Resource.ts"
import { kpiKeys, type WeeklyKpiRow, WeeklyKpiSink } from "../sinks/WeeklyKpiSink.ts"
import { GrowthPosteriorRow, growthPosterior } from "../sources/GrowthPosteriorQuery.ts"
import { OutOfRange, outOfRange, WeeklyWindows, weeklyWindows } from "../sources/WeeklyKpiQuery.ts"
import { kpiWeeks } from "../stages/kpi/KpiWeeks.ts"
import { closedFormGoal, weeklyKpis } from "../stages/kpi/WeeklyKpis.ts"

const attemptColumns = Resource.columns("attempt", [
  "id",
  "student_id",
  "item_id",
  "session_id",
  "correct",
  "response_time_ms",
  "hint_used",
  "started_at",
  "completed_at"
])
const sessionColumns = Resource.columns("session", ["id", "user_id", "started_at", "ended_at"])

/**
 * `compute-daily-kpis`: I_t, E_t, R_t, A_t, P, sigma, sessions, mean_gap and churn_heuristic of every student for
 * every week in the lookback, aggregated set-based in SQL, merged into `weekly_kpi.kpis` (other pipelines' keys stay).
 */
export const computeDailyKpis = Pipeline.make({
  name: "compute-daily-kpis",
  description:
    "Weekly learning KPIs per student (improvement, efficiency, recovery, engagement, goal attainment, churn heuristic) into weekly_kpi.",
  params: KpiSettings,
  // a week counts as computed when its row holds this pipeline's keys (survival may have written only S)
  partitions: {
    table: "weekly_kpi",
    column: "week_start",
    unit: "week",
    since: { table: "attempt", column: "started_at" },
    present: "kpis ? 'A_t'",
    window: ({ asOf, lookbackDays }) => {
      const weeks = kpiWeeks(asOf, lookbackDays)
      return { first: weeks.firstWeek, last: weeks.lastWeek }
    },
    startingAt: (params, firstWeek) => ({ ...params, lookbackDays: daysBetween(firstWeek, params.asOf) })
  }
})
  .source("windows", {
    description:
      "Window statistics per student and week (14/28/56-day windows) in one set-based pass over attempt and session.",
    reads: [...attemptColumns, ...sessionColumns],
    output: WeeklyWindows,
    run: ({ params, record }) => {
      const weeks = kpiWeeks(params.asOf, params.lookbackDays)
      record("weeks", weeks)
      return weeklyWindows(weeks).pipe(Effect.tap(({ quality }) => Effect.sync(() => record("input", quality))))
    }
  })
  .source("outOfRange", {
    description: "Attempts and sessions dated after now, and sessions without attempts: counted for the run record.",
    reads: [
      ...Resource.columns("attempt", ["session_id", "started_at"]),
      ...Resource.columns("session", ["id", "started_at"])
    ],
    output: OutOfRange,
    run: ({ params, record }) =>
      outOfRange(kpiWeeks(params.asOf, params.lookbackDays)).pipe(
        Effect.tap((counts) => Effect.sync(() => record("counts", counts)))
      )
  })
  .source("growthPosterior", {
    description:
      "With METRICS_USE_BAYESIAN=true: the growth model's posterior P and sigma per student and week (fails when there is none).",
    reads: Resource.many("growth_brms_posterior"),
    output: Schema.Array(GrowthPosteriorRow),
    run: ({ params, record }) => {
      record("goalSource", params.useBayesian ? "growth posterior" : "closed form")
      return params.useBayesian ? growthPosterior(kpiWeeks(params.asOf, params.lookbackDays)) : Effect.succeed([])
    }
  })
  .transform("kpis", {
    description:
      "The KPI formulas (stages/kpi) applied to each student-week; P and sigma from the posterior when Bayesian.",
    inputs: ["windows", "growthPosterior"],
    run: ({ growthPosterior, windows }, { params, record }): ReadonlyArray<WeeklyKpiRow> => {
      const posterior = new Map(growthPosterior.map((p) => [`${p.user_id}|${p.week_start}`, p]))
      let withoutPosterior = 0
      const rows = windows.rows.map((w) => {
        const fromPosterior = posterior.get(`${w.user_id}|${w.week_start}`)
        if (params.useBayesian && fromPosterior === undefined) withoutPosterior++
        const goal = params.useBayesian
          ? fromPosterior === undefined
            ? null
            : { probability01: fromPosterior.p_goal, sigma: fromPosterior.sigma }
          : closedFormGoal(w, { target01: params.target, horizonWeeks: params.horizonWeeks })
        return { user_id: w.user_id, week_start: w.week_start, kpis: weeklyKpis(w, goal) }
      })
      record("nullValues", Object.fromEntries(kpiKeys.map((k) => [k, rows.filter((r) => r.kpis[k] === null).length])))
      if (params.useBayesian) record("studentWeeksWithoutPosterior", withoutPosterior)
      return rows
    }
  })
  .sink("weeklyKpi", {
    description: "Merge the KPI keys into weekly_kpi.kpis by (user_id, week_start).",
    inputs: ["kpis"],
    writer: WeeklyKpiSink,
    rows: ({ kpis }) => kpis,
    checks: [
      Check.inRange<WeeklyKpiRow>("kpis.P", 0, 1),
      Check.inRange<WeeklyKpiRow>("kpis.I_t", -1, 1),
      Check.inRange<WeeklyKpiRow>("kpis.churn_heuristic", 0, 1),
      Check.uniqueKey<WeeklyKpiRow>(["user_id", "week_start"]),
      Check.rowCountNearPrevious<WeeklyKpiRow>(3)
    ]
  })
