import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { GrowthSettings } from "../../config/GrowthSettings.ts"
import { KpiSettings } from "../../config/KpiSettings.ts"
import { ReportSettings } from "../../config/ReportSettings.ts"
import * as Param from "../../engine/Param.ts"

const failure = <F extends Param.Fields>(fields: F, overrides: Record<string, string>) =>
  Effect.flip(Param.resolve("p", fields, overrides)).pipe(Effect.map((e) => e.message))

describe("parameters", () => {
  it.effect("a choice that is not allowed names every allowed value", () =>
    Effect.gen(function* () {
      const message = yield* failure({ locale: ReportSettings.locale }, { locale: "fr" })
      assert.include(message, `expected one of "ko", "en"`)
    })
  )

  it.effect("a lookback too long to compute in one statement is a parameter error, not a SQL error", () =>
    Effect.gen(function* () {
      const message = yield* failure({ lookbackDays: KpiSettings.lookbackDays }, { lookbackDays: "11000" })
      assert.include(message, `Parameter "lookbackDays" of pipeline "p" is invalid`)
      assert.include(message, "3660")
      const fine = yield* Param.resolve("p", { lookbackDays: KpiSettings.lookbackDays }, { lookbackDays: "3660" })
      assert.strictEqual(fine.lookbackDays, 3660)
    })
  )

  it.effect("Stan chains have an upper bound", () =>
    Effect.gen(function* () {
      const message = yield* failure({ chains: GrowthSettings.chains }, { chains: "1000" })
      assert.include(message, `Parameter "chains"`)
    })
  )

  it("checks values from elsewhere than --param, naming where they came from", () => {
    const checked = Param.check(
      "p",
      { lookbackDays: KpiSettings.lookbackDays },
      { lookbackDays: "abc" },
      "schedule value"
    )
    assert.strictEqual(checked._tag, "Left")
    if (checked._tag === "Left") assert.include(checked.left.message, `schedule value "abc"`)
    assert.strictEqual(
      Param.check("p", { lookbackDays: KpiSettings.lookbackDays }, { lookbackDays: "7" }, "schedule value")._tag,
      "Right"
    )
  })

  it.effect("an impossible as-of date is a parameter error, not the day it would roll over to", () =>
    Effect.gen(function* () {
      const message = yield* failure({ asOf: KpiSettings.asOf }, { asOf: "2026-02-31" })
      assert.include(message, `Parameter "asOf" of pipeline "p" is invalid`)
      assert.include(message, "February 2026 has 28 days")
      const scheduled = Param.check("p", { asOf: KpiSettings.asOf }, { asOf: "2026-04-31" }, "schedule value")
      assert.strictEqual(scheduled._tag, "Left")
      if (scheduled._tag === "Left") assert.include(scheduled.left.message, "April 2026 has 30 days")
      // a schedule entry may leave it empty (= the slot's day, or today)
      assert.strictEqual(Param.check("p", { asOf: KpiSettings.asOf }, { asOf: "" }, "schedule value")._tag, "Right")
      const fixed = Param.date({ description: "a day", default: "2026-01-05" })
      assert.include(yield* failure({ day: fixed }, { day: "2026-02-29" }), "February 2026 has 28 days")
      assert.strictEqual((yield* Param.resolve("p", { day: fixed }, { day: "2024-02-29" })).day, "2024-02-29")
    })
  )

  it.effect("an empty as-of date is today, read from the Clock when the run's parameters are resolved", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-11-30T23:59:00Z"))
      const resolved = yield* Param.resolve("p", { asOf: KpiSettings.asOf }, {})
      assert.strictEqual(resolved.asOf, "2026-11-30")
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual((yield* Param.resolve("p", { asOf: KpiSettings.asOf }, { asOf: "" })).asOf, "2026-12-01")
    })
  )
})
