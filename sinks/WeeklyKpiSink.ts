import * as Resource from "../engine/Resource.ts"
import { kpiKeys, type WeeklyKpis } from "../stages/kpi/WeeklyKpis.ts"
import * as TableWriter from "./TableWriter.ts"

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
