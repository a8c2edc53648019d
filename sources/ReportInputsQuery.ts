import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Resource from "../engine/Resource.ts"
import { attemptIdsUnique, attempts } from "./AttemptRelation.ts"

/** Which week a report describes and which model outputs it may use. Dates are `YYYY-MM-DD` (UTC). */
export interface ReportWeek {
  /** Monday of the reported week: the last complete week on or before the as-of day. */
  readonly weekStart: string
  /** Monday of the week before, for the week-over-week change. */
  readonly previousWeek: string
  /** Monday of the first week of the charts' history. */
  readonly historyFrom: string
  /** The day after the reported week (exclusive end of the attempts read). */
  readonly weekEnd: string
  /** Monday of the as-of day's week: model outputs stored for a later week are not used. */
  readonly modelWeek: string
}

/** Everything the weekly report reads, table by table (model outputs are decoded later, section by section). */
export const reportReads: ReadonlyArray<Resource.Resource> = [
  ...Resource.columns("attempt", ["id", "student_id", "correct", "started_at", "completed_at"]),
  ...Resource.many(
    "weekly_kpi",
    "growth_brms_meta",
    "growth_brms_posterior",
    "prophet_fit_meta",
    "prophet_anomalies",
    "survival_fit_meta",
    "user_segment",
    "segment_meta"
  )
]

/** One student-week of `weekly_kpi` in the history window; `kpis` is the stored jsonb, decoded per key later. */
export const KpiHistoryRow = Schema.Struct({ user_id: Schema.String, week_start: Schema.String, kpis: Schema.Unknown })
export type KpiHistoryRow = typeof KpiHistoryRow.Type

/** One student's accuracy in one week (graded attempts only). */
export const WeeklyAccuracyPoint = Schema.Struct({
  user_id: Schema.String,
  week_start: Schema.String,
  graded: Schema.Number,
  accuracy01: Schema.Number
})
export type WeeklyAccuracyPoint = typeof WeeklyAccuracyPoint.Type

/** A student's latest growth posterior for the as-of week. */
export const PosteriorRow = Schema.Struct({
  run_id: Schema.String,
  user_id: Schema.String,
  week_start: Schema.String,
  p_goal: Schema.Number,
  sigma: Schema.Number,
  lower95: Schema.Number,
  upper95: Schema.Number,
  target: Schema.Number,
  horizon_weeks: Schema.Number,
  fitted_at: Schema.String
})
export type PosteriorRow = typeof PosteriorRow.Type

/** A student's last day with an attempt up to the end of the reported week. */
export const LastActiveDay = Schema.Struct({ user_id: Schema.String, last_day: Schema.String })

/** The cohort's mean of one KPI in one week, over the students with a value. */
export const CohortPoint = Schema.Struct({ week_start: Schema.String, value: Schema.Number, students: Schema.Number })

/** A whole stored row as JSON: model tables gain columns while their pipelines evolve, so read what is there. */
export const JsonRow = Schema.Struct({ row: Schema.Unknown })

/** The report's inputs for one week: every active student (a `weekly_kpi` row for the week) and what the models stored. */
export const ReportInputs = Schema.Struct({
  users: Schema.Array(Schema.String),
  kpis: Schema.Array(KpiHistoryRow),
  accuracy: Schema.Array(WeeklyAccuracyPoint),
  posteriors: Schema.Array(PosteriorRow),
  growthMeta: Schema.Array(Schema.Unknown),
  forecasts: Schema.Array(Schema.Unknown),
  anomalies: Schema.Array(Schema.Unknown),
  survivalFits: Schema.Array(Schema.Unknown),
  segments: Schema.Array(Schema.Unknown),
  segmentMeta: Schema.Array(Schema.Unknown),
  lastActive: Schema.Array(LastActiveDay),
  /** The latest cohort series (user_id null) of the I_t forecast for the as-of week or before. */
  cohortForecasts: Schema.Array(Schema.Unknown),
  /** The cohort's weekly mean I_t over the history window (what the forecast's cohort series is fitted to). */
  cohortSeries: Schema.Array(CohortPoint)
})
export type ReportInputs = typeof ReportInputs.Type

/**
 * The report's inputs in a handful of set-based statements (one per table), each limited to the week's active
 * students: KPI history, weekly accuracy from `attempt`, the latest model outputs made for the as-of week or before.
 */
export const reportInputs = Effect.fn("ReportInputsQuery.reportInputs")(function* (week: ReportWeek) {
  const sql = yield* SqlClient.SqlClient
  const unique = yield* attemptIdsUnique()
  // each statement is a template whose fragments carry their own parameters (only the ones it uses are sent)
  const { historyFrom, modelWeek, weekEnd, weekStart } = week
  // the students of the report: a KPI row for the reported week
  const active = sql`SELECT user_id FROM weekly_kpi WHERE week_start = ${weekStart}::date`
  const rows = <A, I>(result: Schema.Schema<A, I>, statement: Statement.Statement<object>) =>
    SqlSchema.findAll({ Request: Schema.Void, Result: result, execute: () => statement })(undefined)
  const json = (statement: Statement.Statement<object>) =>
    Effect.map(rows(JsonRow, statement), (rs) => rs.map((r) => r.row))
  const [users, kpis, accuracy, posteriors, lastActive, cohortSeries] = yield* Effect.all(
    [
      rows(Schema.Struct({ user_id: Schema.String }), sql`${active} ORDER BY user_id`),
      rows(
        KpiHistoryRow,
        sql`
      SELECT k.user_id, to_char(k.week_start, 'YYYY-MM-DD') AS week_start, k.kpis
      FROM weekly_kpi k
      -- up to the model week too: survival writes S for the as-of day's week, after the reported week ended
      WHERE k.week_start BETWEEN ${historyFrom}::date AND greatest(${weekStart}::date, ${modelWeek}::date)
        AND k.user_id IN (${active})
      ORDER BY k.user_id, k.week_start`
      ),
      rows(
        WeeklyAccuracyPoint,
        sql`
      WITH b AS (SELECT (${historyFrom}::date)::timestamp AT TIME ZONE 'UTC' AS lo,
                        least((${weekEnd}::date)::timestamp AT TIME ZONE 'UTC', now()) AS hi)
      SELECT x.student_id AS user_id,
             to_char((${historyFrom}::date + 7 * floor(date_part('epoch', x.started_at - b.lo) / 604800)::int),
                     'YYYY-MM-DD') AS week_start,
             count(x.correct) AS graded,
             (count(*) FILTER (WHERE x.correct))::float8 / count(x.correct) AS accuracy01
      FROM ${attempts(sql, !unique)} x, b
      WHERE x.student_id IN (${active})
      GROUP BY 1, 2 HAVING count(x.correct) > 0
      ORDER BY 1, 2`
      ),
      rows(
        PosteriorRow,
        sql`
      SELECT DISTINCT ON (p.user_id) p.run_id, p.user_id, to_char(p.week_start, 'YYYY-MM-DD') AS week_start,
             p.p_goal, p.sigma, p.lower95, p.upper95, p.target, p.horizon_weeks,
             to_char(p.fitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS fitted_at
      FROM growth_brms_posterior p
      WHERE p.week_start <= ${modelWeek}::date AND p.user_id IN (${active})
      ORDER BY p.user_id, p.week_start DESC, p.fitted_at DESC`
      ),
      rows(
        LastActiveDay,
        sql`
      SELECT x.student_id AS user_id, to_char(max(x.started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS last_day
      FROM attempt x
      WHERE x.student_id IN (${active}) AND x.started_at < (${weekEnd}::date)::timestamp AT TIME ZONE 'UTC'
      GROUP BY 1 ORDER BY 1`
      ),
      rows(
        CohortPoint,
        sql`
      SELECT to_char(k.week_start, 'YYYY-MM-DD') AS week_start, avg((k.kpis ->> 'I_t')::float8) AS value,
             count(*)::int AS students
      FROM weekly_kpi k
      WHERE k.week_start BETWEEN ${historyFrom}::date AND ${weekStart}::date
        AND jsonb_typeof(k.kpis -> 'I_t') = 'number'
      GROUP BY k.week_start ORDER BY k.week_start`
      )
    ],
    { concurrency: 1 }
  )
  const posteriorRuns = [...new Set(posteriors.map((p) => p.run_id))]
  const [growthMeta, forecasts, survivalFits, segments, segmentMeta, cohortForecasts] = yield* Effect.all(
    [
      // the latest fit (accepted or not), then the fits the students' posteriors came from
      json(sql`
      SELECT row FROM (
        (SELECT to_jsonb(g) AS row, g.fitted_at FROM growth_brms_meta g ORDER BY g.fitted_at DESC LIMIT 1)
        UNION ALL
        (SELECT to_jsonb(g) AS row, g.fitted_at FROM growth_brms_meta g WHERE g.run_id = ANY(${posteriorRuns}::text[]))
      ) m ORDER BY m.fitted_at DESC`),
      // per student, the latest fit of I_t made for the as-of week or before (as_of_week when the table has it)
      json(sql`
      SELECT DISTINCT ON (m.user_id) to_jsonb(m) AS row
      FROM prophet_fit_meta m
      WHERE m.metric = 'I_t' AND m.user_id IN (${active})
        AND coalesce((to_jsonb(m) ->> 'as_of_week')::date, ${modelWeek}::date) <= ${modelWeek}::date
      ORDER BY m.user_id, (to_jsonb(m) ->> 'as_of_week') DESC NULLS LAST, m.fitted_at DESC`),
      json(sql`
      SELECT to_jsonb(s) AS row FROM survival_fit_meta s
      WHERE coalesce((to_jsonb(s) ->> 'as_of')::date, ${modelWeek}::date + 6) <= ${modelWeek}::date + 6
      ORDER BY s.fitted_at DESC LIMIT 1`),
      json(sql`SELECT to_jsonb(u) AS row FROM user_segment u WHERE u.user_id IN (${active})`),
      json(sql`
      SELECT to_jsonb(s) AS row FROM segment_meta s
      WHERE coalesce((to_jsonb(s) ->> 'as_of')::date, ${modelWeek}::date + 6) <= ${modelWeek}::date + 6
      ORDER BY s.fitted_at DESC LIMIT 1`),
      json(sql`
      SELECT to_jsonb(m) AS row FROM prophet_fit_meta m
      WHERE m.metric = 'I_t' AND m.user_id IS NULL
        AND coalesce((to_jsonb(m) ->> 'as_of_week')::date, ${modelWeek}::date) <= ${modelWeek}::date
      ORDER BY (to_jsonb(m) ->> 'as_of_week') DESC NULLS LAST, m.fitted_at DESC LIMIT 1`)
    ],
    { concurrency: 1 }
  )
  const runIds = [
    ...new Set(
      [...forecasts, ...cohortForecasts].flatMap((f) => {
        const id = (f as { run_id?: unknown } | null)?.run_id
        return typeof id === "string" ? [id] : []
      })
    )
  ]
  const anomalies =
    runIds.length === 0
      ? []
      : yield* json(sql`
    SELECT to_jsonb(a) AS row FROM prophet_anomalies a WHERE a.run_id = ANY(${runIds}::text[]) ORDER BY a.week_start`)
  return {
    users: users.map((u) => u.user_id),
    kpis,
    accuracy,
    posteriors,
    growthMeta,
    forecasts,
    anomalies,
    survivalFits,
    segments,
    segmentMeta,
    lastActive,
    cohortForecasts,
    cohortSeries
  } satisfies ReportInputs
})
