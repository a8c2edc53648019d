import { SqlClient, SqlSchema } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Data, Effect, Schema } from "effect"
import type { KpiWeeks } from "./WeeklyKpiQuery.ts"

/** METRICS_USE_BAYESIAN=true, but the growth model has not produced a posterior to read P and sigma from. */
export class GrowthPosteriorUnavailable extends Data.TaggedError("GrowthPosteriorUnavailable")<{
  readonly reason: "NoPosterior" | "QueryFailed"
  readonly detail: string
  readonly cause?: SqlError
}> {
  override get message(): string {
    return `METRICS_USE_BAYESIAN=true needs the growth model's posterior (table growth_brms_posterior), but ${this.detail} Run the growth pipeline first, or set METRICS_USE_BAYESIAN=false for the closed-form P.`
  }
}

/** The posterior P and sigma of one student for one KPI week. */
export const GrowthPosteriorRow = Schema.Struct({
  user_id: Schema.String,
  week_start: Schema.String,
  p_goal: Schema.Number,
  sigma: Schema.Number
})
export type GrowthPosteriorRow = typeof GrowthPosteriorRow.Type

/**
 * For each student and KPI week, the posterior of the latest growth fit made for that week or before it. Fails
 * with `GrowthPosteriorUnavailable` when there is none at all: P must never silently fall back to the closed form.
 */
export const growthPosterior = Effect.fn("GrowthPosteriorQuery.growthPosterior")(function* (weeks: KpiWeeks) {
  const sql = yield* SqlClient.SqlClient
  const query = SqlSchema.findAll({
    Request: Schema.Struct({ firstWeek: Schema.String, lastWeek: Schema.String }),
    Result: GrowthPosteriorRow,
    execute: (request) => sql`
      SELECT DISTINCT ON (p.user_id, w.week_start)
             p.user_id, to_char(w.week_start, 'YYYY-MM-DD') AS week_start, p.p_goal, p.sigma
      FROM generate_series(${request.firstWeek}::date, ${request.lastWeek}::date, interval '7 days') AS w(week_start)
      JOIN growth_brms_posterior p ON p.week_start <= w.week_start
      ORDER BY p.user_id, w.week_start, p.week_start DESC, p.fitted_at DESC`
  })
  const rows = yield* query({ firstWeek: weeks.firstWeek, lastWeek: weeks.lastWeek }).pipe(
    Effect.catchTag("SqlError", (cause) =>
      Effect.fail(new GrowthPosteriorUnavailable({ reason: "QueryFailed", detail: "reading it failed.", cause }))
    ),
    Effect.catchTag("ParseError", Effect.die)
  )
  if (rows.length === 0) {
    return yield* new GrowthPosteriorUnavailable({
      reason: "NoPosterior",
      detail: `it holds no posterior for the weeks ${weeks.firstWeek} to ${weeks.lastWeek}.`
    })
  }
  return rows
})
