import { addDays } from "../kpi/KpiWeeks.ts"
import type { SurvivalPredictRequest, SurvivalRow } from "../models/schemas/Survival.ts"

/** Who is scored by the model as of the as-of day, and who has already lapsed. */
export interface CurrentRiskInput {
  /** Students still at risk: their follow-up up to the as-of day and their current covariates. */
  readonly atRisk: SurvivalPredictRequest["rows"]
  /** Students whose last activity is at least the threshold before the as-of day: the event is under way, S = 1. */
  readonly lapsed: ReadonlyArray<string>
}

const daysBetween = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)

/**
 * S is the probability of a gap of `thresholdDays` within the horizon *from the as-of day*. The fit scores each
 * student at the end of their follow-up, which for an event is the start of that gap (possibly weeks ago, for a
 * student who has since come back); so each student still at risk is scored again at the as-of day (follow-up from
 * their first active day, day 1, as the service counts), and a student already inactive for `thresholdDays` has
 * had the event: probability 1.
 */
export const currentRiskInput = (rows: ReadonlyArray<SurvivalRow>, asOf: string, thresholdDays: number): CurrentRiskInput => {
  const atRisk: Array<SurvivalPredictRequest["rows"][number]> = []
  const lapsed: Array<string> = []
  const lapsedBy = addDays(asOf, -thresholdDays)
  for (const row of rows) {
    const days = row.active_days ?? []
    const first = days[0]
    const last = days[days.length - 1]
    if (first === undefined || last === undefined) continue
    if (last <= lapsedBy) {
      lapsed.push(row.user_id)
      continue
    }
    atRisk.push({
      user_id: row.user_id,
      time_days: daysBetween(first, asOf) + 1,
      A_t: row.A_t ?? null,
      E_t: row.E_t ?? null,
      R_t: row.R_t ?? null,
      sessions: row.sessions ?? null,
      mean_gap_days: row.mean_gap_days ?? null
    })
  }
  return { atRisk, lapsed }
}
