import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema, TestClock } from "effect"
import * as Calendar from "../../engine/Calendar.ts"

const invalid = (input: string) =>
  Either.match(Calendar.parse(input), { onLeft: (e) => e, onRight: () => assert.fail(`${input} was accepted`) })

describe("the calendar", () => {
  it("reads dates strictly: a day the month does not have is an error naming the month's length", () => {
    assert.deepStrictEqual(Calendar.parse("2024-02-29"), Either.right("2024-02-29"))
    assert.deepStrictEqual(Calendar.parse("2026-12-31"), Either.right("2026-12-31"))
    const february = invalid("2026-02-31")
    assert.strictEqual(february.reason, "NoSuchDay")
    assert.include(february.message, "February 2026 has 28 days")
    assert.include(invalid("2026-02-29").message, "February 2026 has 28 days")
    assert.include(invalid("2026-04-31").message, "April 2026 has 30 days")
    assert.include(invalid("2026-13-01").message, "no month 13")
    assert.strictEqual(invalid("2026-00-10").reason, "NoSuchDay")
    assert.strictEqual(invalid("2026-01-00").reason, "NoSuchDay")
    for (const input of ["2026-1-01", "26-01-01", "2026-01-01T00:00:00Z", " 2026-01-01", "", "yesterday"]) {
      assert.strictEqual(invalid(input).reason, "Format", input)
    }
  })

  it("the IsoDate schema fails on an impossible date with the calendar's message", () => {
    const decoded = Schema.decodeEither(Calendar.IsoDate)("2026-02-30")
    assert.isTrue(Either.isLeft(decoded))
    assert.include(String(Either.isLeft(decoded) ? decoded.left.message : ""), "February 2026 has 28 days")
    assert.deepStrictEqual(Schema.decodeEither(Calendar.IsoDate)("2026-03-02"), Either.right("2026-03-02"))
  })

  it("weeks start on Monday; the last complete week ends on the as-of Sunday or before", () => {
    // 2026-11-30 is a Monday, 2026-11-29 a Sunday
    assert.strictEqual(Calendar.weekdayOf("2026-11-30"), 0)
    assert.strictEqual(Calendar.weekdayOf("2026-11-29"), 6)
    assert.strictEqual(Calendar.mondayOf("2026-11-29"), "2026-11-23")
    assert.strictEqual(Calendar.mondayOf("2026-11-30"), "2026-11-30")
    assert.strictEqual(Calendar.mondayOf("2027-01-01"), "2026-12-28") // across a year
    assert.isTrue(Calendar.isMonday("2026-11-30"))
    assert.isFalse(Calendar.isMonday("2026-12-01"))
    assert.strictEqual(Calendar.sundayOf("2026-11-23"), "2026-11-29")
    assert.strictEqual(Calendar.lastCompleteWeek("2026-11-29"), "2026-11-23")
    assert.strictEqual(Calendar.lastCompleteWeek("2026-11-30"), "2026-11-23")
    assert.strictEqual(Calendar.lastCompleteWeek("2026-12-05"), "2026-11-23")
    assert.deepStrictEqual(Calendar.weeksBetween("2026-11-02", "2026-11-16"), [
      "2026-11-02",
      "2026-11-09",
      "2026-11-16"
    ])
    assert.deepStrictEqual(Calendar.weeksBetween("2026-11-16", "2026-11-02"), [])
  })

  it("adds days across month, year and leap-day boundaries", () => {
    assert.strictEqual(Calendar.addDays("2026-12-31", 1), "2027-01-01")
    assert.strictEqual(Calendar.addDays("2024-02-28", 1), "2024-02-29")
    assert.strictEqual(Calendar.addDays("2026-03-01", -1), "2026-02-28")
    assert.strictEqual(Calendar.daysBetween("2026-02-01", "2026-03-01"), 28)
    assert.strictEqual(Calendar.daysBetween("2026-03-01", "2026-02-01"), -28)
  })

  it("a local day in a time zone: its date, and its 23- or 25-hour span on the days clocks change", () => {
    // 23:30 UTC on March 28th is already March 29th in Berlin (UTC+1), the day it springs forward
    assert.strictEqual(Calendar.dateOf(new Date("2026-03-28T23:30:00Z"), "Europe/Berlin"), "2026-03-29")
    assert.strictEqual(Calendar.dateOf(new Date("2026-03-28T23:30:00Z"), "UTC"), "2026-03-28")
    assert.strictEqual(Calendar.dateOf(new Date("2026-03-28T23:30:00Z"), "America/New_York"), "2026-03-28")
    const spring = Calendar.dayRange("2026-03-29", "Europe/Berlin")
    assert.strictEqual(spring.start.toISOString(), "2026-03-28T23:00:00.000Z")
    assert.strictEqual(spring.end.getTime() - spring.start.getTime(), 23 * 3_600_000)
    const autumn = Calendar.dayRange("2026-10-25", "Europe/Berlin")
    assert.strictEqual(autumn.start.toISOString(), "2026-10-24T22:00:00.000Z")
    assert.strictEqual(autumn.end.getTime() - autumn.start.getTime(), 25 * 3_600_000)
    // Santiago springs forward at midnight: September 6th, 2026 begins at 01:00 local (04:00 UTC)
    const santiago = Calendar.dayRange("2026-09-06", "America/Santiago")
    assert.strictEqual(santiago.start.toISOString(), "2026-09-06T04:00:00.000Z")
    assert.deepStrictEqual(Calendar.dayAround(new Date("2026-03-29T12:00:00Z"), "Europe/Berlin"), spring)
  })

  it.effect("today comes from the Clock, in the time zone asked for", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-11-30T23:30:00Z"))
      assert.strictEqual(yield* Calendar.today(), "2026-11-30")
      assert.strictEqual(yield* Calendar.today("Asia/Tokyo"), "2026-12-01")
    })
  )
})
