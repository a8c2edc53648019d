import { addDays, mondayOf } from "../../engine/Calendar.ts"
import type { KpiWeeks } from "../../sources/WeeklyKpiQuery.ts"

/**
 * The weeks of a run: every week (Monday to Sunday, UTC) that overlaps [asOf − lookbackDays, asOf]. The week that
 * contains `asOf` is computed from the data up to the end of `asOf`, and refined by the next day's run.
 */
export const kpiWeeks = (asOf: string, lookbackDays: number): KpiWeeks => {
  const firstWeek = mondayOf(addDays(asOf, -lookbackDays))
  return { firstWeek, lastWeek: mondayOf(asOf), scanFrom: addDays(firstWeek, -49), scanTo: addDays(asOf, 1) }
}
