import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import * as Generator from "../../cohort/Generator.ts"
import { seedCohort } from "../../cohort/Loader.ts"
import { seedCommand } from "../../cohort/SeedCommand.ts"
import * as Calendar from "../../engine/Calendar.ts"
import { postgres } from "../support/TestDatabase.ts"

layer(postgres, { timeout: Duration.minutes(3) })("the cohort's dates", (it) => {
  it.effect("an end date the month does not have is refused before anything is written", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(seedCohort({ students: 3, weeks: 2, seed: 1, endDate: "2026-02-30" }))
      assert.strictEqual(error._tag, "CohortError")
      if (error._tag === "CohortError") {
        assert.strictEqual(error.reason, "InvalidOptions")
        assert.include(error.message, "February 2026 has 28 days")
      }
      const [table] = yield* sql<{ name: string | null }>`SELECT to_regclass('cohort_meta')::text AS name`
      if (table?.name !== null) {
        const [meta] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM cohort_meta`
        assert.strictEqual(meta!.n, 0)
      }
    })
  )

  it.effect("without --end-date the cohort ends yesterday, by the Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-03-01T00:30:00Z"))
      const result = yield* seedCommand({ students: 3, weeks: 2, seed: 5, endDate: undefined })
      assert.strictEqual(result.endDate, "2026-02-28")
      // two weeks ending on the 28th: from the 15th
      assert.strictEqual(result.startDate, "2026-02-15")
    })
  )

  it("the planted anomalous week starts on a Monday inside the cohort's weeks, whatever the end date", () => {
    for (const endDate of ["2026-03-01", "2026-03-04", "2024-02-29", "2026-12-31"]) {
      const plan = Generator.plan({ students: 1, weeks: 12, seed: 3, endDate })
      assert.isTrue(Calendar.isMonday(plan.anomalyWeekStart), `${endDate}: ${plan.anomalyWeekStart}`)
      assert.isAbove(Calendar.daysBetween(Calendar.dateOf(plan.startMs, "UTC"), plan.anomalyWeekStart), -1)
      assert.isAtMost(Calendar.daysBetween(plan.anomalyWeekStart, endDate), 12 * 7)
    }
  })
})
