import { addDays, mondayOf } from "../../engine/Calendar.ts"

/** Which weeks a KPI run computes and which attempts it needs. Dates are `YYYY-MM-DD` (UTC). */
export interface KpiWeeks {
  /** Monday of the first week in the lookback. */
  readonly firstWeek: string
  /** Monday of the week containing `asOf`. */
  readonly lastWeek: string
  /** Monday seven weeks before `firstWeek`: the start of the widest window (two 28-day windows). */
  readonly scanFrom: string
  /** The day after `asOf`: nothing at or after it is read. */
  readonly scanTo: string
}

/**
 * The weeks of a run: every week (Monday to Sunday, UTC) that overlaps [asOf − lookbackDays, asOf]. The week that
 * contains `asOf` is computed from the data up to the end of `asOf`, and refined by the next day's run.
 */
export const kpiWeeks = (asOf: string, lookbackDays: number): KpiWeeks => {
  const firstWeek = mondayOf(addDays(asOf, -lookbackDays))
  return { firstWeek, lastWeek: mondayOf(asOf), scanFrom: addDays(firstWeek, -49), scanTo: addDays(asOf, 1) }
}
