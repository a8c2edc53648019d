import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { addDays, mondayOf } from "../engine/Calendar.ts"

/** A series needs at least this many non-null weeks to be forecast (the service answers insufficient_data below). */
export const MIN_SERIES_POINTS = 4

/** The weeks a forecast reads: `lookbackWeeks` KPI weeks ending with the one that contains `asOf`. */
export interface SeriesWeeks {
  readonly firstWeek: string
  /** Monday of the as-of week: the forecast's rows are stored under it. */
  readonly lastWeek: string
}

/** The forecast weeks of an as-of day. */
export const seriesWeeks = (asOf: string, lookbackWeeks: number): SeriesWeeks => {
  const lastWeek = mondayOf(asOf)
  return { firstWeek: addDays(lastWeek, -7 * (lookbackWeeks - 1)), lastWeek }
}

/** One week of a KPI series: a student's value, or the cohort mean (`user_id` null) over `students` students. */
export const KpiSeriesPoint = Schema.Struct({
  user_id: Schema.NullOr(Schema.String),
  week_start: Schema.String,
  value: Schema.NullOr(Schema.Number),
  students: Schema.Int
})
export type KpiSeriesPoint = typeof KpiSeriesPoint.Type

/** The series of one KPI key: students with enough weeks, the cohort mean, and who was left out. */
export const KpiSeries = Schema.Struct({
  points: Schema.Array(KpiSeriesPoint),
  /** Students with some value in the lookback but fewer than MIN_SERIES_POINTS non-null weeks. */
  short_students: Schema.Int
})
export type KpiSeries = typeof KpiSeries.Type

const Row = Schema.Struct({ ...KpiSeriesPoint.fields, kind: Schema.Literal("student", "cohort", "short") })

/**
 * One pass over `weekly_kpi` in the lookback: every student's weekly value of `key` (students with fewer than
 * MIN_SERIES_POINTS values are only counted), and the cohort series, the mean over all students with a value.
 */
export const kpiSeries = Effect.fn("KpiSeriesQuery.kpiSeries")(function* (key: string, weeks: SeriesWeeks) {
  const sql = yield* SqlClient.SqlClient
  const query = SqlSchema.findAll({
    Request: Schema.Struct({ key: Schema.String, firstWeek: Schema.String, lastWeek: Schema.String }),
    Result: Row,
    execute: (r) => sql`
      WITH v AS (
        SELECT user_id, week_start, (kpis ->> ${r.key})::float8 AS value
        FROM weekly_kpi WHERE week_start BETWEEN ${r.firstWeek}::date AND ${r.lastWeek}::date
      ),
      n AS (SELECT user_id, count(value) AS points FROM v GROUP BY user_id)
      SELECT v.user_id, to_char(v.week_start, 'YYYY-MM-DD') AS week_start, v.value, 1 AS students, 'student' AS kind
      FROM v JOIN n USING (user_id) WHERE n.points >= ${MIN_SERIES_POINTS}
      UNION ALL
      SELECT NULL, to_char(week_start, 'YYYY-MM-DD'), avg(value), count(value)::int, 'cohort'
      FROM v GROUP BY week_start HAVING count(value) > 0
      UNION ALL
      SELECT NULL, '', NULL, count(*)::int, 'short' FROM n WHERE points BETWEEN 1 AND ${MIN_SERIES_POINTS - 1}
      ORDER BY 5, 1, 2`
  })
  const rows = yield* query({ key, ...weeks })
  return {
    points: rows.filter((r) => r.kind !== "short").map(({ kind: _, ...point }) => point),
    short_students: rows.find((r) => r.kind === "short")?.students ?? 0
  } satisfies KpiSeries
})
