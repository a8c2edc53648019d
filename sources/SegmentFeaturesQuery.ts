import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"

/** One user's behaviour over the segment lookback, with how much history it rests on. */
export const SegmentFeatureSourceRow = Schema.Struct({
  user_id: Schema.String,
  /** weekly_kpi weeks with an A_t. */
  kpi_weeks: Schema.Number,
  /** Weeks with practice in features_topic_daily. */
  practice_weeks: Schema.Number,
  attempts: Schema.Number,
  /** Mean A_t. */
  engagement: Schema.NullOr(Schema.Number),
  /** Mean R_t. */
  recovery: Schema.NullOr(Schema.Number),
  /** Mean weekly_kpi.sessions (sessions in the 28 days before each week's end). */
  sessions: Schema.NullOr(Schema.Number),
  /** Mean weekly_kpi.mean_gap. */
  mean_gap_days: Schema.NullOr(Schema.Number),
  /** Correct answers / attempts. */
  accuracy: Schema.NullOr(Schema.Number),
  /** Attempts with a hint / attempts. */
  hint_rate: Schema.NullOr(Schema.Number),
  /** Mean valid response time, weighted by attempts. */
  mean_response_ms: Schema.NullOr(Schema.Number),
  /** Least-squares slope of weekly accuracy, per week. */
  accuracy_slope_per_week: Schema.NullOr(Schema.Number),
  /** Σ (week − mean week)² of that line (its precision). */
  accuracy_slope_week_spread: Schema.NullOr(Schema.Number),
  /** Σ squared residuals of weekly accuracy around that line. */
  accuracy_slope_residual_ss: Schema.NullOr(Schema.Number)
})
export type SegmentFeatureSourceRow = typeof SegmentFeatureSourceRow.Type

const Request = Schema.Struct({ firstWeek: Schema.String, lastWeek: Schema.String, asOf: Schema.String })

const featuresQuery = (sql: SqlClient.SqlClient, range: typeof Request.Type) =>
  sql`
WITH
k AS (
  SELECT user_id,
         count(*) FILTER (WHERE kpis->>'A_t' IS NOT NULL)::int4 AS kpi_weeks,
         avg((kpis->>'A_t')::float8) AS engagement,
         avg((kpis->>'R_t')::float8) AS recovery,
         avg((kpis->>'sessions')::float8) AS sessions,
         avg((kpis->>'mean_gap')::float8) AS mean_gap_days
  FROM weekly_kpi WHERE week_start BETWEEN ${range.firstWeek}::date AND ${range.lastWeek}::date
  GROUP BY user_id
),
w AS (
  SELECT user_id, (date - ${range.firstWeek}::date) / 7 AS wi,
         sum(attempts) AS attempts, sum(correct) AS correct, sum(hints) AS hints,
         sum(avg_time_ms * attempts) FILTER (WHERE avg_time_ms IS NOT NULL) AS time_sum,
         sum(attempts) FILTER (WHERE avg_time_ms IS NOT NULL) AS timed
  FROM features_topic_daily WHERE date BETWEEN ${range.firstWeek}::date AND ${range.asOf}::date
  GROUP BY 1, 2
),
f AS (
  SELECT user_id, count(*)::int4 AS practice_weeks, sum(attempts)::int4 AS attempts,
         sum(correct)::float8 / nullif(sum(attempts), 0) AS accuracy,
         sum(hints)::float8 / nullif(sum(attempts), 0) AS hint_rate,
         sum(time_sum)::float8 / nullif(sum(timed), 0) AS mean_response_ms,
         regr_slope(correct::float8 / attempts, wi::float8) AS accuracy_slope_per_week,
         regr_sxx(correct::float8 / attempts, wi::float8) AS accuracy_slope_week_spread,
         regr_syy(correct::float8 / attempts, wi::float8)
           - regr_sxy(correct::float8 / attempts, wi::float8) ^ 2
             / nullif(regr_sxx(correct::float8 / attempts, wi::float8), 0) AS accuracy_slope_residual_ss
  FROM w WHERE attempts > 0
  GROUP BY 1
)
SELECT coalesce(k.user_id, f.user_id) AS user_id,
       coalesce(k.kpi_weeks, 0) AS kpi_weeks, coalesce(f.practice_weeks, 0) AS practice_weeks,
       coalesce(f.attempts, 0) AS attempts,
       k.engagement, k.recovery, k.sessions, k.mean_gap_days,
       f.accuracy, f.hint_rate, f.mean_response_ms,
       f.accuracy_slope_per_week, f.accuracy_slope_week_spread, f.accuracy_slope_residual_ss
FROM k FULL JOIN f ON f.user_id = k.user_id
ORDER BY 1`

/**
 * Per user over the weeks [firstWeek, lastWeek] (Mondays) of `weekly_kpi` and the days [firstWeek, asOf] of
 * `features_topic_daily`: mean KPIs, accuracy, hint rate, response time and the weekly accuracy trend with what its
 * precision needs. One set-based statement; users present in only one of the two tables come with zero history on
 * the other side.
 */
export const segmentFeatures = Effect.fn("SegmentFeaturesQuery.segmentFeatures")(function* (range: {
  readonly firstWeek: string
  readonly lastWeek: string
  readonly asOf: string
}) {
  const sql = yield* SqlClient.SqlClient
  const query = SqlSchema.findAll({
    Request,
    Result: SegmentFeatureSourceRow,
    execute: (r) => featuresQuery(sql, r)
  })
  return yield* query(range)
})
