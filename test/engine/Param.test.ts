import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Param from "../../engine/Param.ts"
import { KpiSettings } from "../../config/KpiSettings.ts"
import { ReportSettings } from "../../config/ReportSettings.ts"
import { GrowthSettings } from "../../config/GrowthSettings.ts"

const failure = <F extends Param.Fields>(fields: F, overrides: Record<string, string>) =>
  Effect.flip(Param.resolve("p", fields, overrides)).pipe(Effect.map((e) => e.message))

describe("parameters", () => {
  it.effect("a choice that is not allowed names every allowed value", () =>
    Effect.gen(function*() {
      const message = yield* failure({ locale: ReportSettings.locale }, { locale: "fr" })
      assert.include(message, `expected one of "ko", "en"`)
    }))

  it.effect("a lookback too long to compute in one statement is a parameter error, not a SQL error", () =>
    Effect.gen(function*() {
      const message = yield* failure({ lookbackDays: KpiSettings.lookbackDays }, { lookbackDays: "11000" })
      assert.include(message, `Parameter "lookbackDays" of pipeline "p" is invalid`)
      assert.include(message, "3660")
      const fine = yield* Param.resolve("p", { lookbackDays: KpiSettings.lookbackDays }, { lookbackDays: "3660" })
      assert.strictEqual(fine.lookbackDays, 3660)
    }))

  it.effect("Stan chains have an upper bound", () =>
    Effect.gen(function*() {
      const message = yield* failure({ chains: GrowthSettings.chains }, { chains: "1000" })
      assert.include(message, `Parameter "chains"`)
    }))

  it("checks values from elsewhere than --param, naming where they came from", () => {
    const checked = Param.check("p", { lookbackDays: KpiSettings.lookbackDays }, { lookbackDays: "abc" }, "schedule value")
    assert.strictEqual(checked._tag, "Left")
    if (checked._tag === "Left") assert.include(checked.left.message, `schedule value "abc"`)
    assert.strictEqual(Param.check("p", { lookbackDays: KpiSettings.lookbackDays }, { lookbackDays: "7" }, "schedule value")._tag, "Right")
  })
})
