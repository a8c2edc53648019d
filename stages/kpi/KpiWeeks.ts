const DAY = 86_400_000

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

const toMs = (date: string) => Date.parse(`${date}T00:00:00Z`)
const toDate = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** The Monday of the (UTC) week containing `date`. */
export const mondayOf = (date: string): string => {
  const ms = toMs(date)
  const weekday = (new Date(ms).getUTCDay() + 6) % 7
  return toDate(ms - weekday * DAY)
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: string, to: string): number => Math.round((toMs(to) - toMs(from)) / DAY)

/** Adds days to a date. */
export const addDays = (date: string, days: number): string => toDate(toMs(date) + days * DAY)

/**
 * Monday of the last complete week on or before `asOf`: the week ending that day when it is a Sunday, else the week
 * before (the scheduled Monday runs describe the week that just ended). The growth fit and the report both use it,
 * so a report's week, its KPI row's Bayesian P and the growth posterior are the same week.
 */
export const lastCompleteWeek = (asOf: string): string => {
  const monday = mondayOf(asOf)
  return asOf === addDays(monday, 6) ? monday : addDays(monday, -7)
}

/**
 * The weeks of a run: every week (Monday to Sunday, UTC) that overlaps [asOf − lookbackDays, asOf]. The week that
 * contains `asOf` is computed from the data up to the end of `asOf`, and refined by the next day's run.
 */
export const kpiWeeks = (asOf: string, lookbackDays: number): KpiWeeks => {
  const firstWeek = mondayOf(addDays(asOf, -lookbackDays))
  return { firstWeek, lastWeek: mondayOf(asOf), scanFrom: addDays(firstWeek, -49), scanTo: addDays(asOf, 1) }
}

/** `asOf` as a date: the empty string means today (UTC). */
export const resolveAsOf = (asOf: string, now: Date): string => (asOf === "" ? now.toISOString().slice(0, 10) : asOf)
