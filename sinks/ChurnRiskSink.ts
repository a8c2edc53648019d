import * as Resource from "../engine/Resource.ts"
import * as TableWriter from "./TableWriter.ts"

/** The churn risk of one student for one week, as merged into `weekly_kpi.kpis`. */
export interface ChurnRiskRow extends Record<string, unknown> {
  readonly user_id: string
  readonly week_start: string
  readonly kpis: { readonly S: number }
}

/**
 * Merge-upserts `{S}` into `weekly_kpi.kpis` by (user_id, week_start): every other key stays. The survival model is
 * the only writer of `weekly_kpi.S`, and declares exactly that key.
 */
export const ChurnRiskSink = TableWriter.upsert<ChurnRiskRow>({
  table: "weekly_kpi",
  key: ["user_id", "week_start"],
  columns: { user_id: "text", week_start: "date", kpis: "jsonb" },
  merge: ["kpis"],
  touch: "updated_at",
  writes: Resource.columns("weekly_kpi", ["S"])
})
