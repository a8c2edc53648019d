import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { addDays, lastCompleteWeek } from "../engine/Calendar.ts"
import { attemptIdsUnique, attempts } from "./AttemptRelation.ts"

/**
 * A week counts for the growth model with at least this many graded attempts. The model weighs each week by its
 * number of graded attempts (binomial variance), so a thin week enters with the little it holds instead of being
 * dropped or counting like a full one.
 */
export const MIN_GRADED_PER_WEEK = 1
/** A student enters the growth model with at least this many counted weeks (a slope needs a few points). */
export const MIN_WEEKS_PER_STUDENT = 3

/**
 * The weeks a growth fit reads: `lookbackWeeks` complete weeks ending with the last complete week on or before
 * `asOf` (a partial current week is left out; the report describes the same week).
 */
export interface GrowthWeeks {
  /** Monday of week 0 of the model. */
  readonly firstWeek: string
  /** Monday of the last complete week: the model's last week and the `week_start` its posterior is stored under. */
  readonly lastWeek: string
  /** The day after the last complete week: nothing at or after it is read. */
  readonly scanTo: string
  /** `lookbackWeeks − 1`: the model's week number of the as-of week. */
  readonly asOfWeek: number
}

/** The growth weeks of an as-of day. */
export const growthWeeks = (asOf: string, lookbackWeeks: number): GrowthWeeks => {
  const lastWeek = lastCompleteWeek(asOf)
  return {
    firstWeek: addDays(lastWeek, -7 * (lookbackWeeks - 1)),
    lastWeek,
    scanTo: addDays(lastWeek, 7),
    asOfWeek: lookbackWeeks - 1
  }
}

/** One student's accuracy in one week: `week` counts from 0 at the first lookback week. */
export const WeeklyAccuracyRow = Schema.Struct({
  student: Schema.String,
  week: Schema.Int,
  graded: Schema.Int,
  score: Schema.Number.pipe(Schema.between(0, 1))
})
export type WeeklyAccuracyRow = typeof WeeklyAccuracyRow.Type

/** What the growth model is fitted on, with what was left out and why. */
export const WeeklyAccuracy = Schema.Struct({
  rows: Schema.Array(WeeklyAccuracyRow),
  excluded: Schema.Struct({
    /** Weeks of fitted students with some graded attempts, but fewer than MIN_GRADED_PER_WEEK. */
    sparse_weeks: Schema.Int,
    /** Students with fewer than MIN_WEEKS_PER_STUDENT counted weeks. */
    students: Schema.Array(Schema.String)
  })
})
export type WeeklyAccuracy = typeof WeeklyAccuracy.Type

const Row = Schema.Struct({
  ...WeeklyAccuracyRow.fields,
  // 'counted' = enters the fit; 'sparse' = too few graded attempts; 'short' = the student has too few counted weeks
  status: Schema.Literal("counted", "sparse", "short")
})

/**
 * Weekly accuracy per student over the lookback, in one set-based pass over `attempt` (deduplicated when
 * `attempt.id` is not unique, like the KPI query): correct / graded attempts per UTC week, each row labelled with
 * whether it enters the fit.
 */
export const weeklyAccuracyQuery = (
  sql: SqlClient.SqlClient,
  deduplicate: boolean,
  range: { readonly firstWeek: string; readonly scanTo: string }
) =>
  sql`
WITH
b AS (
  SELECT (${range.firstWeek}::date)::timestamp AT TIME ZONE 'UTC' AS lo,
         least((${range.scanTo}::date)::timestamp AT TIME ZONE 'UTC', now()) AS hi
),
sw AS (
  SELECT x.student_id AS student,
         floor(date_part('epoch', x.started_at - b.lo) / 604800)::int AS week,
         count(x.correct)::int AS graded,
         count(*) FILTER (WHERE x.correct)::int AS correct
  FROM ${attempts(sql, deduplicate)} x, b
  GROUP BY 1, 2
  HAVING count(x.correct) > 0
),
counted AS (
  SELECT student, count(*) FILTER (WHERE graded >= ${MIN_GRADED_PER_WEEK}) AS weeks FROM sw GROUP BY student
)
SELECT sw.student, sw.week, sw.graded, sw.correct::float8 / sw.graded AS score,
       CASE WHEN c.weeks < ${MIN_WEEKS_PER_STUDENT} THEN 'short'
            WHEN sw.graded < ${MIN_GRADED_PER_WEEK} THEN 'sparse' ELSE 'counted' END AS status
FROM sw JOIN counted c USING (student)
ORDER BY sw.student, sw.week`

/** The weekly accuracy of every student in the growth weeks, read set-based from `attempt`. */
export const weeklyAccuracy = Effect.fn("WeeklyAccuracyQuery.weeklyAccuracy")(function* (weeks: GrowthWeeks) {
  const sql = yield* SqlClient.SqlClient
  const unique = yield* attemptIdsUnique()
  const query = SqlSchema.findAll({
    Request: Schema.Struct({ firstWeek: Schema.String, scanTo: Schema.String }),
    Result: Row,
    execute: (request) => weeklyAccuracyQuery(sql, !unique, request)
  })
  const rows = yield* query(weeks)
  const short = new Set(rows.filter((r) => r.status === "short").map((r) => r.student))
  return {
    rows: rows.filter((r) => r.status === "counted").map(({ status: _, ...row }) => row),
    excluded: { sparse_weeks: rows.filter((r) => r.status === "sparse").length, students: [...short].sort() }
  } satisfies WeeklyAccuracy
})
