import * as Resource from "../engine/Resource.ts"
import * as TableWriter from "./TableWriter.ts"

/** The keys of `weekly_kpi.kpis` that the KPI pipeline owns. */
export const kpiKeys = ["I_t", "E_t", "R_t", "A_t", "P", "sigma", "sessions", "mean_gap", "churn_heuristic"] as const

/** The KPI pipeline's keys of `weekly_kpi.kpis`: null where a value is undefined, never NaN or Infinity. */
export type WeeklyKpis = { readonly [K in (typeof kpiKeys)[number]]: number | null }

/** One student-week of KPIs, as the KPI pipeline writes it. */
export interface WeeklyKpiRow extends Record<string, unknown> {
  readonly user_id: string
  readonly week_start: string
  readonly kpis: WeeklyKpis
}

/**
 * Merge-upserts `weekly_kpi` by (user_id, week_start): the stored `kpis` object keeps every key this pipeline does
 * not write (S from the survival model, …); `updated_at` is stamped. Declares exactly the keys it owns.
 */
export const WeeklyKpiSink = TableWriter.upsert<WeeklyKpiRow>({
  table: "weekly_kpi",
  key: ["user_id", "week_start"],
  columns: { user_id: "text", week_start: "date", kpis: "jsonb" },
  merge: ["kpis"],
  touch: "updated_at",
  writes: Resource.columns("weekly_kpi", kpiKeys)
})
