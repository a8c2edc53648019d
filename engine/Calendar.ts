import { Data, DateTime, Effect, Either, Option, ParseResult, Schema } from "effect"

/**
 * Calendar dates (`YYYY-MM-DD`, a day without a time zone) and the instants they begin and end at in a time zone,
 * on effect's `DateTime`. The one place that knows what a week is: weeks start on Monday; a KPI week's as-of day is
 * its Sunday. "Today" comes from effect's `Clock`, so `TestClock` moves it.
 *
 * Dates are passed as strings because that is how the database, run parameters and reports carry them; every date
 * that comes from outside is checked by `parse` (or the `IsoDate` schema) first, and the functions here trust it.
 */

/** A date that is not a calendar date: wrong shape, or a day the month does not have (2026-02-30). */
export class InvalidDate extends Data.TaggedError("InvalidDate")<{
  readonly reason: "Format" | "NoSuchDay"
  readonly input: string
}> {
  override get message(): string {
    if (this.reason === "Format") return `"${this.input}" is not a date; expected YYYY-MM-DD`
    const [year, month] = this.input.split("-").map(Number) as [number, number]
    const days = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : undefined
    return days === undefined
      ? `"${this.input}" is not a calendar date: there is no month ${month}`
      : `"${this.input}" is not a calendar date: ${monthNames[month - 1]} ${year} has ${days} days`
  }
}

const monthNames = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December"
]

const shape = /^(\d{4})-(\d{2})-(\d{2})$/

/** Midnight UTC of a date, as a `DateTime` (only for dates already checked). */
const utc = (date: string): DateTime.Utc => DateTime.unsafeMake(`${date}T00:00:00Z`)

/** Reads a `YYYY-MM-DD` date strictly: 2026-02-31 is an error, not March 3rd. */
export const parse = (input: string): Either.Either<string, InvalidDate> => {
  const match = shape.exec(input)
  if (match === null) return Either.left(new InvalidDate({ reason: "Format", input }))
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  // DateTime rolls days past the month's end over into the next month; a strict date survives the round trip
  const made = DateTime.make({ year, month, day })
  return Option.isSome(made) && DateTime.formatIsoDateUtc(made.value) === input
    ? Either.right(input)
    : Either.left(new InvalidDate({ reason: "NoSuchDay", input }))
}

/** A `YYYY-MM-DD` calendar date, checked strictly (see `parse`), kept as that string. */
export const IsoDate: Schema.Schema<string, string> = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (s, _, ast) => Either.mapLeft(parse(s), (error) => new ParseResult.Type(ast, s, error.message)),
  encode: ParseResult.succeed
})

/** The calendar date of an instant in a time zone (an IANA name such as `Europe/Berlin`). */
export const dateOf = (instant: Date | number, timezone: string): string =>
  DateTime.formatIsoDate(DateTime.setZone(DateTime.unsafeMake(instant), DateTime.zoneUnsafeMakeNamed(timezone)))

/** Today's date in a time zone (UTC by default), from effect's `Clock`. */
export const today = (timezone = "UTC"): Effect.Effect<string> =>
  Effect.map(DateTime.now, (now) => dateOf(DateTime.toEpochMillis(now), timezone))

/** A date some days later (or earlier, for a negative count). */
export const addDays = (date: string, days: number): string =>
  DateTime.formatIsoDateUtc(DateTime.add(utc(date), { days }))

/** Days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: string, to: string): number =>
  Math.round((DateTime.toEpochMillis(utc(to)) - DateTime.toEpochMillis(utc(from))) / 86_400_000)

/** The day of the week of a date: 0 = Monday … 6 = Sunday. */
export const weekdayOf = (date: string): number => (DateTime.getPartUtc(utc(date), "weekDay") + 6) % 7

/** The Monday of the week containing a date: weeks start on Monday. */
export const mondayOf = (date: string): string =>
  DateTime.formatIsoDateUtc(DateTime.startOf(utc(date), "week", { weekStartsOn: 1 }))

/** Whether a date is a Monday, the first day of a week. */
export const isMonday = (date: string): boolean => weekdayOf(date) === 0

/** The Sunday that ends the week starting on `monday`: the as-of day of that week's runs. */
export const sundayOf = (monday: string): string => addDays(monday, 6)

/**
 * Monday of the last complete week on or before `asOf`: the week ending that day when it is a Sunday, else the week
 * before (the scheduled Monday runs describe the week that just ended).
 */
export const lastCompleteWeek = (asOf: string): string => {
  const monday = mondayOf(asOf)
  return asOf === sundayOf(monday) ? monday : addDays(monday, -7)
}

/** The Mondays from `from` to `to`, both Mondays, inclusive, oldest first. */
export const weeksBetween = (from: string, to: string): ReadonlyArray<string> =>
  Array.from({ length: Math.max(0, Math.floor(daysBetween(from, to) / 7) + 1) }, (_, i) => addDays(from, 7 * i))

/**
 * The instants a date begins and ends at in a time zone, [start, end): 23 or 25 hours long on the days clocks
 * change. A midnight that does not exist (a zone that springs forward at 00:00) begins at the first instant after.
 */
export const dayRange = (date: string, timezone: string): { readonly start: Date; readonly end: Date } => {
  const midnight = (day: string) => {
    const [year, month, dayOfMonth] = day.split("-").map(Number) as [number, number, number]
    // "compatible": the first of a repeated midnight, the first instant after a skipped one
    return DateTime.toDateUtc(
      DateTime.unsafeMakeZoned(
        { year, month, day: dayOfMonth },
        { timeZone: timezone, adjustForTimeZone: true, disambiguation: "compatible" }
      )
    )
  }
  return { start: midnight(date), end: midnight(addDays(date, 1)) }
}

/** The day (in a time zone) an instant falls in, as the instants it begins and ends at. */
export const dayAround = (instant: Date, timezone: string): { readonly start: Date; readonly end: Date } =>
  dayRange(dateOf(instant, timezone), timezone)
