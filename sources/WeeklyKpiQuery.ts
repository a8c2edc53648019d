import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { generated } from "../engine/Relation.ts"
import { attemptIdsUnique, attempts } from "./AttemptRelation.ts"

/** Response times outside (0, 30 min] are not timings (clock skew, a tab left open): excluded from medians. */
export const MAX_RESPONSE_TIME_MS = 1_800_000
/** Session lengths outside (0, 4 h] (no end, end before start, never closed) are excluded from the mean length. */
export const MAX_SESSION_SECONDS = 14_400

/** Which weeks a KPI run computes and which attempts it needs. Dates are `YYYY-MM-DD` (UTC). */
export interface KpiWeeks {
  /** Monday of the first week in the lookback. */
  readonly firstWeek: string
  /** Monday of the week containing `asOf`. */
  readonly lastWeek: string
  /** Monday seven weeks before `firstWeek`: the start of the widest window (two 28-day windows). */
  readonly scanFrom: string
  /** The day after `asOf`: nothing at or after it is read. */
  readonly scanTo: string
}

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
const weekIndex = (column: "x.started_at" | "s.started_at") =>
  generated(`floor((date_part('epoch', ${column}) - 345600) / 604800)::int`)

/** How many KPI weeks (Mondays from `firstWeek` to `lastWeek`) a run computes. */
export const targetWeekCount = (weeks: Pick<KpiWeeks, "firstWeek" | "lastWeek">): number =>
  Math.max(
    0,
    Math.round((Date.parse(`${weeks.lastWeek}T00:00:00Z`) - Date.parse(`${weeks.firstWeek}T00:00:00Z`)) / 604_800_000) +
      1
  )

const range = (n: number) => Array.from({ length: n }, (_, k) => k)

// the longest session counted as timed, as the interval literal the statement compares with
const maxSession = generated(`interval '${MAX_SESSION_SECONDS} seconds'`)

/**
 * The set-based KPI query: one scan of `attempt` and `session` over the run's range, aggregated per student and
 * week, then per student and KPI week over the 14/28/56-day windows (which are whole weeks, because a KPI week ends
 * on a Sunday). Medians are exact (`percentile_cont`). Nothing per student leaves the database but one row per
 * student and week.
 *
 * `targets` is the number of KPI weeks (`targetWeekCount`): R_t is computed in one aggregate per (student, item)
 * with two filtered aggregates per KPI week (wrong in the previous 28 days; latest graded answer in the last 28
 * days), so no (student, item, week) rows are fanned out over the KPI weeks. The medians of the 28-day windows are
 * taken over the per-(student, week) arrays of the four weeks concatenated once per (student, window end) (a
 * window function over a student × week grid), instead of sorting every value once per KPI week it falls in.
 */
export const windowsQuery = (sql: SqlClient.SqlClient, deduplicate: boolean, request: typeof Request.Type) => {
  const targets = targetWeekCount(request)
  // the weeks of the scan (7 before the first KPI week, then the KPI weeks) fit a bigint bit mask up to 56 KPI weeks
  const wrongMask = targets + 7 <= 63
  // wrong in the previous 28 days of KPI week k: bits k..k+3 of the mask
  const wrongBefore = (k: number) => (wrongMask ? `(wm >> ${k}) & 15 <> 0` : `wb_${k}`)
  // the scanned range [lo, hi) of `b`, as expressions of the parameters the planner can estimate the attempts of
  const rangeFrom = sql`(${request.scanFrom}::date)::timestamp AT TIME ZONE 'UTC'`
  const rangeTo = sql`least((${request.scanTo}::date)::timestamp AT TIME ZONE 'UTC', now())`
  // the per-(student, item) aggregates of R_t, one pair of columns per KPI week (code-generated from `targets`)
  const perItem = generated(
    `${wrongMask ? "         bit_or(1::int8 << o) FILTER (WHERE NOT correct) AS wm,\n" : ""}${range(targets)
      .map(
        (k) =>
          `${wrongMask ? "" : `         bool_or(NOT correct) FILTER (WHERE o BETWEEN ${k} AND ${k + 3}) AS wb_${k},\n`}` +
          `         max(code) FILTER (WHERE o BETWEEN ${k + 4} AND ${k + 7}) AS lr_${k}`
      )
      .join(",\n")}`
  )
  const perItemFilter = generated(`
  WHERE (NOT correct AND o <= ${targets + 2}) OR (correct IS NOT NULL AND o >= 4)
  GROUP BY student_id, item_id
  HAVING ${
    wrongMask
      ? `bit_or(1::int8 << o) FILTER (WHERE NOT correct) & ((1::int8 << ${targets + 3}) - 1) <> 0`
      : `bool_or(NOT correct) FILTER (WHERE o <= ${targets + 2})`
  }`)
  const returned = generated(
    range(targets)
      .map((k) => `count(*) FILTER (WHERE ${wrongBefore(k)} AND lr_${k} IS NOT NULL)`)
      .join(", ")
  )
  const recovered = generated(
    range(targets)
      .map((k) => `count(*) FILTER (WHERE ${wrongBefore(k)} AND lr_${k} % 2 = 1)`)
      .join(", ")
  )
  return sql`
WITH
b AS (
  SELECT (${request.firstWeek}::date - DATE '1970-01-05') / 7 AS w_first,
         (${request.lastWeek}::date - DATE '1970-01-05') / 7 AS w_last,
         ${rangeFrom} AS lo,
         ${rangeTo} AS hi
),
t AS (SELECT generate_series(b.w_first, b.w_last) AS wi FROM b),
a AS ${generated(deduplicate ? "MATERIALIZED" : "NOT MATERIALIZED")} (
  SELECT x.student_id, x.item_id, x.wi, x.wi - b.w_first + 7 AS o, x.correct, x.copies, x.rt, x.hint, x.at_us,
         x.at_us * 2 + x.correct::int AS code
  FROM (
    SELECT x.student_id, x.item_id, ${weekIndex("x.started_at")} AS wi, x.correct, x.copies,
           CASE WHEN x.response_time_ms > 0 AND x.response_time_ms <= ${MAX_RESPONSE_TIME_MS}
                THEN x.response_time_ms END AS rt,
           coalesce(x.hint_used::int, 0) AS hint,
           round(date_part('epoch', x.started_at) * 1e6)::int8 AS at_us
    FROM ${attempts(sql, deduplicate, { lo: rangeFrom, hi: rangeTo })} x
    OFFSET 0 -- computed once per attempt, not again in every aggregate that reads them
  ) x, b
  OFFSET 0
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
-- per (student, item): the weeks with a wrong answer as a bit mask (bit o: week w_first - 7 + o; KPI week k reads
-- bits k..k+3 as its previous 28 days), and per KPI week k the latest graded attempt of its last 28 days (weeks
-- k + 4..k + 7) as (µs · 2 + correct), a correct answer winning a tie (lr_k). Only items answered wrongly early
-- enough to be some KPI week's "previous 28 days" are kept; correct answers older than every "last 28 days" and
-- wrong answers newer than every "previous 28 days" are not read.
si AS (
  SELECT student_id,
${perItem}
  FROM a${perItemFilter}
),
rec AS (
  SELECT r.student_id, b.w_first + u.k::int - 1 AS target, u.returned, u.recovered
  FROM (
    SELECT student_id,
           ARRAY[${returned}]::int8[] AS returned,
           ARRAY[${recovered}]::int8[] AS recovered
    FROM si GROUP BY student_id
  ) r
  CROSS JOIN b
  CROSS JOIN LATERAL unnest(r.returned, r.recovered) WITH ORDINALITY AS u(returned, recovered, k)
),
ss AS (
  SELECT s.user_id AS student_id, ${weekIndex("s.started_at")} AS wi,
         count(*) AS sessions,
         min(date_part('epoch', s.started_at)) AS first_s, max(date_part('epoch', s.started_at)) AS last_s,
         sum(date_part('epoch', s.ended_at) - date_part('epoch', s.started_at))
           FILTER (WHERE s.ended_at > s.started_at AND s.ended_at <= s.started_at + ${maxSession}) AS seconds,
         count(*) FILTER (WHERE s.ended_at > s.started_at AND s.ended_at <= s.started_at + ${maxSession}) AS timed
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
-- the correct response times of the four weeks ending at wi, per student, for every 28-day window a KPI week reads
r4 AS (
  SELECT student_id, wi,
         coalesce(rts, '{}') || coalesce(lag(rts, 1) OVER w, '{}') || coalesce(lag(rts, 2) OVER w, '{}')
           || coalesce(lag(rts, 3) OVER w, '{}') AS rts
  FROM (
    SELECT u.student_id, g.wi, sw.rts
    FROM (SELECT DISTINCT student_id FROM sw) u
    CROSS JOIN b
    CROSS JOIN LATERAL generate_series(b.w_first - 7, b.w_last) AS g(wi)
    LEFT JOIN sw ON sw.student_id = u.student_id AND sw.wi = g.wi
  ) grid
  WINDOW w AS (PARTITION BY student_id ORDER BY wi)
),
-- (grouped in the window's order: no sort of the values but each window's own)
m4 AS (
  SELECT r4.student_id, r4.wi, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median
  FROM r4 CROSS JOIN LATERAL unnest(r4.rts) AS v
  WHERE r4.wi >= (SELECT w_first FROM b) - 4
  GROUP BY r4.student_id, r4.wi
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
         (SELECT count(*) FROM (SELECT 1 FROM sw GROUP BY student_id HAVING sum(attempts) = 1) one)
           AS q_single_attempt_students,
         (SELECT coalesce(sum(sessions), 0) FROM ss) AS q_sessions,
         (SELECT coalesce(sum(sessions - timed), 0) FROM ss) AS q_sessions_invalid_length
  FROM sw
)
SELECT k.student_id AS user_id,
       to_char(DATE '1970-01-05' + 7 * k.target, 'YYYY-MM-DD') AS week_start,
       coalesce(st.graded_14, 0) AS graded_14, coalesce(st.correct_14, 0) AS correct_14,
       coalesce(st.graded_prev_14, 0) AS graded_prev_14, coalesce(st.correct_prev_14, 0) AS correct_prev_14,
       mr.median AS median_rt_28, mp.median AS median_rt_prev_28,
       coalesce(rec.returned, 0) AS returned_items, coalesce(rec.recovered, 0) AS recovered_items,
       coalesce(st.attempts_28, 0) AS attempts_28, coalesce(st.hints_28, 0) AS hints_28,
       coalesce(sst.sessions_28, 0) AS sessions_28,
       CASE WHEN sst.sessions_28 >= 2
            THEN (sst.last_s_28 - sst.first_s) / (sst.sessions_28 - 1) / 86400.0 END AS mean_gap_days,
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
LEFT JOIN m4 mr ON mr.student_id = k.student_id AND mr.wi = k.target
LEFT JOIN m4 mp ON mp.student_id = k.student_id AND mp.wi = k.target - 4
LEFT JOIN rec ON rec.student_id = k.student_id AND rec.target = k.target
LEFT JOIN sst ON sst.student_id = k.student_id AND sst.target = k.target
ORDER BY k.student_id, k.target`
}

/** The window statistics of every student and week of `weeks`, read set-based from `attempt` and `session`. */
export const weeklyWindows = Effect.fn("WeeklyKpiQuery.weeklyWindows")(function* (weeks: KpiWeeks) {
  const sql = yield* SqlClient.SqlClient
  const unique = yield* attemptIdsUnique()
  const query = SqlSchema.findAll({
    Request,
    Result: Row,
    execute: (request) => windowsQuery(sql, !unique, request)
  })
  // JIT compilation of this many expressions costs more (≈ 1.5 s measured) than it saves at any cohort size here;
  // the default 4 MB work_mem spills the per-student-week hash aggregates of a 10,000-student cohort to disk. The
  // per-(student, item) aggregate of R_t holds ≈ 1.5 M groups (≈ 400 MB) on the 10,000-student bench cohort, and the
  // planner overestimates the per-student-week array_agg states, so hash tables get 4 × work_mem (1 GB) before they
  // spill; sorts stay within 256 MB.
  const rows = yield* sql.withTransaction(
    Effect.zipRight(
      sql`SET LOCAL jit = off; SET LOCAL work_mem = '256MB'; SET LOCAL hash_mem_multiplier = 4`,
      query(weeks)
    )
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
    rows: rows.map(
      ({
        q_attempts: _1,
        q_null_correct: _2,
        q_invalid_response_time: _3,
        q_duplicate_rows: _4,
        q_single_attempt_students: _5,
        q_sessions: _6,
        q_sessions_invalid_length: _7,
        ...row
      }) => row
    ),
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
export const outOfRange = Effect.fn("WeeklyKpiQuery.outOfRange")(function* (weeks: KpiWeeks) {
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
