import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import type { KpiWeeks } from "../stages/kpi/KpiWeeks.ts"
import { attemptIdsUnique, attempts } from "./AttemptRelation.ts"

/** Response times outside (0, 30 min] are not timings (clock skew, a tab left open): excluded from medians. */
export const MAX_RESPONSE_TIME_MS = 1_800_000
/** Session lengths outside (0, 4 h] (no end, end before start, never closed) are excluded from the mean length. */
export const MAX_SESSION_SECONDS = 14_400

/** One row of the window statistics: a student and a week, with the counters of the input checks. */
export const WeeklyWindowRow = Schema.Struct({
  user_id: Schema.String,
  week_start: Schema.String,
  graded_14: Schema.Number,
  correct_14: Schema.Number,
  graded_prev_14: Schema.Number,
  correct_prev_14: Schema.Number,
  median_rt_28: Schema.NullOr(Schema.Number),
  median_rt_prev_28: Schema.NullOr(Schema.Number),
  returned_items: Schema.Number,
  recovered_items: Schema.Number,
  attempts_28: Schema.Number,
  hints_28: Schema.Number,
  sessions_28: Schema.Number,
  mean_gap_days: Schema.NullOr(Schema.Number),
  avg_session_seconds: Schema.NullOr(Schema.Number),
  days_since_last: Schema.Number,
  trend_graded: Schema.Number,
  trend_correct: Schema.Number,
  trend_sum_x: Schema.Number,
  trend_sum_xx: Schema.Number,
  trend_sum_kx: Schema.Number
})
export type WeeklyWindowRow = typeof WeeklyWindowRow.Type

/** What the input checks found in the scanned range (the same for every row; see `InputQuality`). */
const QualityColumns = Schema.Struct({
  q_attempts: Schema.Number,
  q_null_correct: Schema.Number,
  q_invalid_response_time: Schema.Number,
  q_duplicate_rows: Schema.Number,
  q_single_attempt_students: Schema.Number,
  q_sessions: Schema.Number,
  q_sessions_invalid_length: Schema.Number
})

const Row = Schema.extend(WeeklyWindowRow, QualityColumns)

/** Counts of questionable input rows, for the run record. */
export const InputQuality = Schema.Struct({
  attempts_scanned: Schema.Number,
  attempts_null_correct: Schema.Number,
  attempts_invalid_response_time: Schema.Number,
  attempt_duplicate_rows_dropped: Schema.Number,
  duplicate_check: Schema.Literal("deduplicated", "unique index on attempt.id"),
  single_attempt_students: Schema.Number,
  sessions_scanned: Schema.Number,
  sessions_invalid_length: Schema.Number
})
export type InputQuality = typeof InputQuality.Type

/** The window statistics of every student and week of a run, with what the input checks found. */
export const WeeklyWindows = Schema.Struct({ rows: Schema.Array(WeeklyWindowRow), quality: InputQuality })
export type WeeklyWindows = typeof WeeklyWindows.Type

const Request = Schema.Struct({
  firstWeek: Schema.String,
  lastWeek: Schema.String,
  scanFrom: Schema.String,
  scanTo: Schema.String
})

// week index: whole UTC weeks since Monday 1970-01-05 (epoch + 345,600 s)
const weekIndex = (column: string) => `floor((date_part('epoch', ${column}) - 345600) / 604800)::int`

/**
 * The set-based KPI query: one scan of `attempt` and `session` over the run's range, aggregated per student and
 * week, then per student and KPI week over the 14/28/56-day windows (which are whole weeks, because a KPI week ends
 * on a Sunday). Medians are exact (`percentile_cont`). Nothing per student leaves the database but one row per
 * student and week.
 */
export const windowsSql = (deduplicate: boolean) => `
WITH
b AS (
  SELECT ($1::date - DATE '1970-01-05') / 7 AS w_first,
         ($2::date - DATE '1970-01-05') / 7 AS w_last,
         ($3::date)::timestamp AT TIME ZONE 'UTC' AS lo,
         least(($4::date)::timestamp AT TIME ZONE 'UTC', now()) AS hi
),
t AS (SELECT generate_series(b.w_first, b.w_last) AS wi FROM b),
a AS (
  SELECT x.student_id, x.item_id, ${weekIndex("x.started_at")} AS wi, x.correct, x.copies,
         CASE WHEN x.response_time_ms > 0 AND x.response_time_ms <= ${MAX_RESPONSE_TIME_MS} THEN x.response_time_ms END AS rt,
         coalesce(x.hint_used::int, 0) AS hint,
         round(date_part('epoch', x.started_at) * 1e6)::int8 AS at_us
  FROM ${attempts(deduplicate)} x
),
sw AS (
  SELECT student_id, wi,
         count(*) AS attempts, count(correct) AS graded, count(*) FILTER (WHERE correct) AS correct,
         count(*) FILTER (WHERE correct IS NULL) AS null_correct,
         count(*) FILTER (WHERE rt IS NULL) AS invalid_rt,
         sum(copies - 1) AS duplicates,
         sum(hint) AS hints, max(at_us) AS last_us,
         array_agg(rt) FILTER (WHERE correct AND rt IS NOT NULL) AS rts
  FROM a GROUP BY student_id, wi
),
-- only items answered wrongly early enough to be some KPI week's "previous 28 days" can count for R_t
wp AS (
  SELECT DISTINCT a.student_id, a.item_id FROM a, b WHERE a.correct = false AND a.wi <= b.w_last - 4
),
si AS (
  SELECT a.student_id, a.item_id, a.wi,
         bool_or(NOT a.correct) AS wrong,
         -- the latest graded attempt, as (µs · 2 + correct): a correct answer wins a tie
         max(a.at_us * 2 + a.correct::int) FILTER (WHERE a.correct IS NOT NULL) AS last_code
  FROM a JOIN wp ON wp.student_id = a.student_id AND wp.item_id = a.item_id
  GROUP BY 1, 2, 3
),
ss AS (
  SELECT s.user_id AS student_id, ${weekIndex("s.started_at")} AS wi,
         count(*) AS sessions,
         min(date_part('epoch', s.started_at)) AS first_s, max(date_part('epoch', s.started_at)) AS last_s,
         sum(date_part('epoch', s.ended_at) - date_part('epoch', s.started_at))
           FILTER (WHERE s.ended_at > s.started_at AND s.ended_at <= s.started_at + interval '${MAX_SESSION_SECONDS} seconds') AS seconds,
         count(*) FILTER (WHERE s.ended_at > s.started_at AND s.ended_at <= s.started_at + interval '${MAX_SESSION_SECONDS} seconds') AS timed
  FROM session s, b WHERE s.started_at >= b.lo AND s.started_at < b.hi
  GROUP BY 1, 2
),
st AS (
  SELECT s.student_id, t.wi AS target,
         coalesce(sum(s.graded) FILTER (WHERE s.wi >= t.wi - 1), 0) AS graded_14,
         coalesce(sum(s.correct) FILTER (WHERE s.wi >= t.wi - 1), 0) AS correct_14,
         coalesce(sum(s.graded) FILTER (WHERE s.wi BETWEEN t.wi - 3 AND t.wi - 2), 0) AS graded_prev_14,
         coalesce(sum(s.correct) FILTER (WHERE s.wi BETWEEN t.wi - 3 AND t.wi - 2), 0) AS correct_prev_14,
         coalesce(sum(s.attempts) FILTER (WHERE s.wi >= t.wi - 3), 0) AS attempts_28,
         coalesce(sum(s.hints) FILTER (WHERE s.wi >= t.wi - 3), 0) AS hints_28,
         max(s.last_us) AS last_us,
         sum(s.graded) AS trend_graded,
         sum(s.correct) AS trend_correct,
         sum(s.graded * (s.wi - t.wi)) AS trend_sum_x,
         sum(s.graded * (s.wi - t.wi) * (s.wi - t.wi)) AS trend_sum_xx,
         sum(s.correct * (s.wi - t.wi)) AS trend_sum_kx
  FROM sw s JOIN t ON s.wi BETWEEN t.wi - 7 AND t.wi
  GROUP BY 1, 2
),
med AS (
  SELECT s.student_id, t.wi AS target,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY r.v) FILTER (WHERE s.wi >= t.wi - 3) AS median_rt_28,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY r.v) FILTER (WHERE s.wi < t.wi - 3) AS median_rt_prev_28
  FROM sw s JOIN t ON s.wi BETWEEN t.wi - 7 AND t.wi
  CROSS JOIN LATERAL unnest(s.rts) AS r(v)
  GROUP BY 1, 2
),
rec AS (
  SELECT student_id, target, count(*) AS returned, count(*) FILTER (WHERE last_recent % 2 = 1) AS recovered
  FROM (
    SELECT i.student_id, i.item_id, t.wi AS target,
           bool_or(i.wrong) FILTER (WHERE i.wi <= t.wi - 4) AS wrong_before,
           max(i.last_code) FILTER (WHERE i.wi >= t.wi - 3) AS last_recent
    FROM si i JOIN t ON i.wi BETWEEN t.wi - 7 AND t.wi
    GROUP BY 1, 2, 3
  ) x
  WHERE wrong_before AND last_recent IS NOT NULL
  GROUP BY 1, 2
),
sst AS (
  SELECT s.student_id, t.wi AS target,
         coalesce(sum(s.sessions) FILTER (WHERE s.wi >= t.wi - 3), 0) AS sessions_28,
         min(s.first_s) FILTER (WHERE s.wi >= t.wi - 3) AS first_s,
         max(s.last_s) FILTER (WHERE s.wi >= t.wi - 3) AS last_s_28,
         sum(s.seconds) FILTER (WHERE s.wi >= t.wi - 3) AS seconds,
         sum(s.timed) FILTER (WHERE s.wi >= t.wi - 3) AS timed,
         max(s.last_s) AS last_s
  FROM ss s JOIN t ON s.wi BETWEEN t.wi - 7 AND t.wi
  GROUP BY 1, 2
),
k AS (SELECT student_id, target FROM st UNION SELECT student_id, target FROM sst),
q AS (
  SELECT coalesce(sum(attempts), 0) AS q_attempts,
         coalesce(sum(null_correct), 0) AS q_null_correct,
         coalesce(sum(invalid_rt), 0) AS q_invalid_response_time,
         coalesce(sum(duplicates), 0) AS q_duplicate_rows,
         (SELECT count(*) FROM (SELECT 1 FROM sw GROUP BY student_id HAVING sum(attempts) = 1) one) AS q_single_attempt_students,
         (SELECT coalesce(sum(sessions), 0) FROM ss) AS q_sessions,
         (SELECT coalesce(sum(sessions - timed), 0) FROM ss) AS q_sessions_invalid_length
  FROM sw
)
SELECT k.student_id AS user_id,
       to_char(DATE '1970-01-05' + 7 * k.target, 'YYYY-MM-DD') AS week_start,
       coalesce(st.graded_14, 0) AS graded_14, coalesce(st.correct_14, 0) AS correct_14,
       coalesce(st.graded_prev_14, 0) AS graded_prev_14, coalesce(st.correct_prev_14, 0) AS correct_prev_14,
       med.median_rt_28, med.median_rt_prev_28,
       coalesce(rec.returned, 0) AS returned_items, coalesce(rec.recovered, 0) AS recovered_items,
       coalesce(st.attempts_28, 0) AS attempts_28, coalesce(st.hints_28, 0) AS hints_28,
       coalesce(sst.sessions_28, 0) AS sessions_28,
       CASE WHEN sst.sessions_28 >= 2 THEN (sst.last_s_28 - sst.first_s) / (sst.sessions_28 - 1) / 86400.0 END AS mean_gap_days,
       CASE WHEN sst.timed > 0 THEN sst.seconds / sst.timed END AS avg_session_seconds,
       (least(345600.0 + 604800.0 * (k.target + 1), date_part('epoch', b.hi))
         - greatest(st.last_us / 1e6, sst.last_s)) / 86400.0 AS days_since_last,
       coalesce(st.trend_graded, 0) AS trend_graded, coalesce(st.trend_correct, 0) AS trend_correct,
       coalesce(st.trend_sum_x, 0) AS trend_sum_x, coalesce(st.trend_sum_xx, 0) AS trend_sum_xx,
       coalesce(st.trend_sum_kx, 0) AS trend_sum_kx,
       q.*
FROM k
CROSS JOIN b
CROSS JOIN q
LEFT JOIN st ON st.student_id = k.student_id AND st.target = k.target
LEFT JOIN med ON med.student_id = k.student_id AND med.target = k.target
LEFT JOIN rec ON rec.student_id = k.student_id AND rec.target = k.target
LEFT JOIN sst ON sst.student_id = k.student_id AND sst.target = k.target
ORDER BY k.student_id, k.target`

/** The window statistics of every student and week of `weeks`, read set-based from `attempt` and `session`. */
export const weeklyWindows = Effect.fn("WeeklyKpiQuery.weeklyWindows")(function*(weeks: KpiWeeks) {
  const sql = yield* SqlClient.SqlClient
  const unique = yield* attemptIdsUnique()
  const query = SqlSchema.findAll({
    Request,
    Result: Row,
    execute: (request) =>
      sql.unsafe(windowsSql(!unique), [request.firstWeek, request.lastWeek, request.scanFrom, request.scanTo])
  })
  // JIT compilation of this many expressions costs more (≈ 1.5 s measured) than it saves at any cohort size here;
  // the default 4 MB work_mem spills the per-student-week hash aggregates of a 10,000-student cohort to disk
  const rows = yield* sql.withTransaction(
    Effect.zipRight(sql`SET LOCAL jit = off; SET LOCAL work_mem = '192MB'`, query(weeks))
  )
  const first = rows[0]
  const quality: InputQuality = {
    attempts_scanned: first?.q_attempts ?? 0,
    attempts_null_correct: first?.q_null_correct ?? 0,
    attempts_invalid_response_time: first?.q_invalid_response_time ?? 0,
    attempt_duplicate_rows_dropped: first?.q_duplicate_rows ?? 0,
    duplicate_check: unique ? "unique index on attempt.id" : "deduplicated",
    single_attempt_students: first?.q_single_attempt_students ?? 0,
    sessions_scanned: first?.q_sessions ?? 0,
    sessions_invalid_length: first?.q_sessions_invalid_length ?? 0
  }
  return {
    rows: rows.map(({ q_attempts: _1, q_null_correct: _2, q_invalid_response_time: _3, q_duplicate_rows: _4, q_single_attempt_students: _5, q_sessions: _6, q_sessions_invalid_length: _7, ...row }) => row),
    quality
  } satisfies WeeklyWindows
})

/** Rows that no KPI window reads but that say something is wrong upstream. */
export const OutOfRange = Schema.Struct({
  attempts_in_future: Schema.Number,
  sessions_in_future: Schema.Number,
  sessions_without_attempts: Schema.Number
})
export type OutOfRange = typeof OutOfRange.Type

/**
 * Attempts and sessions that start after now (clock errors: never read by any window), and sessions in the run's
 * range without any attempt (kept as visits; counted so an operator can see them).
 */
export const outOfRange = Effect.fn("WeeklyKpiQuery.outOfRange")(function*(weeks: KpiWeeks) {
  const sql = yield* SqlClient.SqlClient
  const query = SqlSchema.single({
    Request,
    Result: OutOfRange,
    execute: (request) =>
      sql`
        WITH b AS (
          SELECT (${request.scanFrom}::date)::timestamp AT TIME ZONE 'UTC' AS lo,
                 least((${request.scanTo}::date)::timestamp AT TIME ZONE 'UTC', now()) AS hi
        )
        SELECT (SELECT count(*) FROM attempt WHERE started_at > now()) AS attempts_in_future,
               (SELECT count(*) FROM session WHERE started_at > now()) AS sessions_in_future,
               (SELECT count(*) FROM session s, b
                 WHERE s.started_at >= b.lo AND s.started_at < b.hi
                   AND NOT EXISTS (SELECT 1 FROM attempt a
                                   WHERE a.session_id = s.id AND a.started_at >= b.lo - interval '1 day')) AS sessions_without_attempts`
  })
  return yield* query(weeks)
})
