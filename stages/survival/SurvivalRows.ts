import type { LatestKpiRow } from "../../sources/LatestKpiQuery.ts"
import type { SurvivalActivityRow } from "../../sources/SurvivalActivityQuery.ts"
import type { SurvivalRow } from "../models/schemas/Survival.ts"

/** The survival model's input rows, and who was left out and why. */
export interface SurvivalRows {
  readonly rows: ReadonlyArray<SurvivalRow>
  /** Active students without any A_t/E_t/R_t in the lookback: kept, their covariates are imputed by the service. */
  readonly withoutKpis: number
  /** Students with KPIs but no activity in the lookback: left out (no follow-up to model). */
  readonly kpisWithoutActivity: number
}

/**
 * One row per active student: their active days (the service turns them into the gaps between active days, the
 * open one censored at the cutoff), sessions and mean gap, and their latest A_t, E_t, R_t.
 */
export const survivalRows = (
  activity: ReadonlyArray<SurvivalActivityRow>,
  latestKpis: ReadonlyArray<LatestKpiRow>
): SurvivalRows => {
  const kpis = new Map(latestKpis.map((k) => [k.user_id, k]))
  const active = new Set(activity.map((a) => a.user_id))
  let withoutKpis = 0
  const rows = activity.map((a): SurvivalRow => {
    const k = kpis.get(a.user_id)
    if (k === undefined) withoutKpis++
    return {
      user_id: a.user_id,
      active_days: a.active_days,
      sessions: a.sessions,
      mean_gap_days: a.mean_gap_days,
      A_t: k?.A_t ?? null,
      E_t: k?.E_t ?? null,
      R_t: k?.R_t ?? null
    }
  })
  return { rows, withoutKpis, kpisWithoutActivity: latestKpis.filter((k) => !active.has(k.user_id)).length }
}
