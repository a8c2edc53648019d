import { addDays, lastCompleteWeek, mondayOf } from "../../engine/Calendar.ts"

/** Weeks of history the report charts show (weekly accuracy, I_t). */
export const HISTORY_WEEKS = 12

/** Which week a report describes and which model outputs it may use. Dates are `YYYY-MM-DD` (UTC). */
export interface ReportWeek {
  /** Monday of the reported week: the last complete week on or before the as-of day. */
  readonly weekStart: string
  /** Monday of the week before, for the week-over-week change. */
  readonly previousWeek: string
  /** Monday of the first week of the charts' history. */
  readonly historyFrom: string
  /** The day after the reported week (exclusive end of the attempts read). */
  readonly weekEnd: string
  /** Monday of the as-of day's week: model outputs stored for a later week are not used. */
  readonly modelWeek: string
}

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
