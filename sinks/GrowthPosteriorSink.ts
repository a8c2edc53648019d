import { replacing } from "./ReplacingWriter.ts"

/** One student's goal posterior from an accepted growth fit (`week_start`: Monday of the as-of week). */
export interface GrowthPosteriorRow extends Record<string, unknown> {
  readonly run_id: string
  readonly user_id: string
  readonly week_start: string
  readonly p_goal: number
  readonly sigma: number
  readonly lower95: number
  readonly upper95: number
  readonly target: number
  readonly horizon_weeks: number
}

/**
 * `growth_brms_posterior`: an accepted fit replaces the posterior stored for its week (a re-run leaves no
 * duplicates); a rejected fit sends no rows, so nothing is deleted and the last good posterior stays.
 */
export const GrowthPosteriorSink = replacing<GrowthPosteriorRow>({
  table: "growth_brms_posterior",
  scope: "week_start",
  columns: {
    run_id: "text",
    user_id: "text",
    week_start: "date",
    p_goal: "float8",
    sigma: "float8",
    lower95: "float8",
    upper95: "float8",
    target: "float8",
    horizon_weeks: "int4"
  }
})
