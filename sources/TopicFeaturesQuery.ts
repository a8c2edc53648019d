import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Relation from "../engine/Relation.ts"
import { attemptIdsUnique, attempts } from "./AttemptRelation.ts"
import { MAX_RESPONSE_TIME_MS } from "./WeeklyKpiQuery.ts"

/** One student, topic and day of practice. */
export const TopicDayRow = Schema.Struct({
  user_id: Schema.String,
  topic_id: Schema.String,
  date: Schema.String,
  attempts: Schema.Number,
  correct: Schema.Number,
  avg_time_ms: Schema.NullOr(Schema.Number),
  hints: Schema.Number,
  rt_median: Schema.NullOr(Schema.Number),
  improvement: Schema.NullOr(Schema.Number),
  last_seen_at: Schema.String
})
export type TopicDayRow = typeof TopicDayRow.Type

// Days [firstDay, scanTo) are written; the 28 days before firstDay are read for the improvement baseline.
const topicDaysQuery = (
  sql: SqlClient.SqlClient,
  deduplicate: boolean,
  range: { readonly firstDay: string; readonly scanTo: string }
) =>
  sql`
WITH
b AS (
  SELECT (${range.firstDay}::date - 28)::timestamp AT TIME ZONE 'UTC' AS lo,
         least((${range.scanTo}::date)::timestamp AT TIME ZONE 'UTC', now()) AS hi,
         ${range.firstDay}::date AS first_day
),
a AS (
  SELECT x.student_id, x.topic_id, (x.started_at AT TIME ZONE 'UTC')::date AS day, x.correct, x.started_at,
         CASE WHEN x.response_time_ms > 0 AND x.response_time_ms <= ${MAX_RESPONSE_TIME_MS}
              THEN x.response_time_ms END AS rt,
         coalesce(x.hint_used::int, 0) AS hint
  FROM ${attempts(sql, deduplicate)} x
),
d AS (
  SELECT student_id, topic_id, day,
         count(*) AS attempts, count(correct) AS graded, count(*) FILTER (WHERE correct) AS correct,
         avg(rt) AS avg_time_ms, sum(hint) AS hints,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY rt) AS rt_median,
         max(started_at) AS last_seen_at
  FROM a GROUP BY 1, 2, 3
),
w AS (
  SELECT d.*,
         sum(graded) OVER prior AS graded_before, sum(correct) OVER prior AS correct_before
  FROM d
  WINDOW prior AS (PARTITION BY student_id, topic_id ORDER BY day
                   RANGE BETWEEN interval '28 days' PRECEDING AND interval '1 day' PRECEDING)
)
SELECT w.student_id AS user_id, w.topic_id, to_char(w.day, 'YYYY-MM-DD') AS date, w.attempts, w.correct,
       w.avg_time_ms::float8 AS avg_time_ms, w.hints, w.rt_median,
       CASE WHEN w.graded > 0 AND w.graded_before > 0
            THEN w.correct::float8 / w.graded - w.correct_before::float8 / w.graded_before END AS improvement,
       to_char(w.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last_seen_at
FROM w, b
WHERE w.day >= b.first_day`

/**
 * Per student, topic and day in [firstDay, scanTo): attempts, correct answers, mean and median valid response time,
 * hints, the last attempt, and `improvement` = the day's accuracy minus the accuracy on that topic over the 28 days
 * before (null when either is empty). One set-based pass over `attempt`, as a relation: its rows go straight into
 * `features_topic_daily` without passing through Node.
 */
export const topicDays = Effect.fn("TopicFeaturesQuery.topicDays")(function* (range: {
  readonly firstDay: string
  readonly scanTo: string
}) {
  const sql = yield* SqlClient.SqlClient
  const unique = yield* attemptIdsUnique()
  return Relation.make({
    query: topicDaysQuery(sql, !unique, range),
    row: TopicDayRow,
    // JIT compilation of this aggregate costs more than it saves at every cohort size measured
    settings: { jit: "off" }
  })
})
