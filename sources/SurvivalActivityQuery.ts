import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"

/** One student's activity over the survival lookback: the days they were active, their sessions, the mean gap. */
export const SurvivalActivityRow = Schema.Struct({
  user_id: Schema.String,
  /** Distinct UTC days with an attempt or a session, ascending. */
  active_days: Schema.Array(Schema.String),
  sessions: Schema.Number,
  /** Mean number of days between consecutive active days; null with a single active day. */
  mean_gap_days: Schema.NullOr(Schema.Number)
})
export type SurvivalActivityRow = typeof SurvivalActivityRow.Type

const Request = Schema.Struct({ asOf: Schema.String, lookbackDays: Schema.Number })

// [lo, hi): the lookback days up to the end of the as-of day, never past now (rows dated in the future are not activity)
const activityQuery = (sql: SqlClient.SqlClient, request: typeof Request.Type) =>
  sql`
WITH
b AS (
  SELECT ((${request.asOf}::date - (${request.lookbackDays}::int - 1))::timestamp AT TIME ZONE 'UTC') AS lo,
         least(((${request.asOf}::date + 1)::timestamp AT TIME ZONE 'UTC'), now()) AS hi
),
d AS (
  SELECT a.student_id AS user_id, (a.started_at AT TIME ZONE 'UTC')::date AS day
  FROM attempt a, b WHERE a.started_at >= b.lo AND a.started_at < b.hi
  UNION
  SELECT s.user_id, (s.started_at AT TIME ZONE 'UTC')::date
  FROM session s, b WHERE s.started_at >= b.lo AND s.started_at < b.hi
),
g AS (SELECT user_id, day, day - lag(day) OVER (PARTITION BY user_id ORDER BY day) AS gap FROM d),
n AS (
  SELECT s.user_id, count(*)::int4 AS sessions
  FROM session s, b WHERE s.started_at >= b.lo AND s.started_at < b.hi
  GROUP BY 1
)
SELECT g.user_id,
       array_agg(to_char(g.day, 'YYYY-MM-DD') ORDER BY g.day) AS active_days,
       coalesce(n.sessions, 0) AS sessions,
       avg(g.gap)::float8 AS mean_gap_days
FROM g LEFT JOIN n ON n.user_id = g.user_id
GROUP BY g.user_id, n.sessions
ORDER BY g.user_id`

/**
 * Per student with any activity in the `lookbackDays` days ending with `asOf` (UTC): the active days (attempts or
 * sessions), the number of sessions and the mean gap between active days. One set-based pass over both tables.
 */
export const survivalActivity = Effect.fn("SurvivalActivityQuery.survivalActivity")(function* (request: {
  readonly asOf: string
  readonly lookbackDays: number
}) {
  const sql = yield* SqlClient.SqlClient
  const query = SqlSchema.findAll({
    Request,
    Result: SurvivalActivityRow,
    execute: (r) => activityQuery(sql, r)
  })
  return yield* query(request)
})
