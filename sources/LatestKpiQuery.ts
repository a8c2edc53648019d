import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"

/** The latest engagement, efficiency and recovery KPIs of one student. */
export const LatestKpiRow = Schema.Struct({
  user_id: Schema.String,
  week_start: Schema.String,
  A_t: Schema.NullOr(Schema.Number),
  E_t: Schema.NullOr(Schema.Number),
  R_t: Schema.NullOr(Schema.Number)
})
export type LatestKpiRow = typeof LatestKpiRow.Type

const Request = Schema.Struct({ firstWeek: Schema.String, lastWeek: Schema.String })

/**
 * Per student, A_t, E_t and R_t of their latest `weekly_kpi` week in [firstWeek, lastWeek] that has any of the
 * three (a key that is absent or null reads as null).
 */
export const latestKpis = Effect.fn("LatestKpiQuery.latestKpis")(function* (weeks: {
  readonly firstWeek: string
  readonly lastWeek: string
}) {
  const sql = yield* SqlClient.SqlClient
  const query = SqlSchema.findAll({
    Request,
    Result: LatestKpiRow,
    execute: (r) => sql`
      SELECT DISTINCT ON (user_id)
             user_id, to_char(week_start, 'YYYY-MM-DD') AS week_start,
             (kpis->>'A_t')::float8 AS "A_t", (kpis->>'E_t')::float8 AS "E_t", (kpis->>'R_t')::float8 AS "R_t"
      FROM weekly_kpi
      WHERE week_start BETWEEN ${r.firstWeek}::date AND ${r.lastWeek}::date
        AND coalesce(kpis->>'A_t', kpis->>'E_t', kpis->>'R_t') IS NOT NULL
      ORDER BY user_id, week_start DESC`
  })
  return yield* query(weeks)
})
