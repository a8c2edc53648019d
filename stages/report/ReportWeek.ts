import { addDays, lastCompleteWeek, mondayOf } from "../../engine/Calendar.ts"
import type { ReportWeek } from "../../sources/ReportInputsQuery.ts"

/** Weeks of history the report charts show (weekly accuracy, I_t). */
export const HISTORY_WEEKS = 12

/**
 * The week a report run describes. A run on Sunday reports the week ending that day; any other day (the scheduled
 * Monday run) reports the last complete week before it.
 */
export const reportWeek = (asOf: string): ReportWeek => {
  const monday = mondayOf(asOf)
  const weekStart = lastCompleteWeek(asOf)
  return {
    weekStart,
    previousWeek: addDays(weekStart, -7),
    historyFrom: addDays(weekStart, -7 * (HISTORY_WEEKS - 1)),
    weekEnd: addDays(weekStart, 7),
    modelWeek: monday
  }
}
