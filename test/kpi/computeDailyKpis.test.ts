import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { seedCohort } from "../../cohort/Loader.ts"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as Resource from "../../engine/Resource.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { databases } from "../support/TestDatabase.ts"
import { assertFiniteOrNull, assertMatchesReference, injectBadRows, readKpis, runtimeFor } from "./support.ts"

// a Sunday: the last KPI week is complete
const LAST_DAY = "2026-05-31"
const seed = Math.floor(Math.random() * 1_000_000)
const settings = { asOf: LAST_DAY, lookbackDays: 30, target: 0.7, horizonWeeks: 4 }

for (const [name, db] of databases) {
  layer(runtimeFor(db), { timeout: Duration.minutes(5) })(`compute-daily-kpis on the ${name} database`, (it) => {
    it.effect(`agrees with the reference computation on a random dirty cohort (seed ${seed})`, () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* seedCohort({ students: 40, weeks: 12, seed, endDate: LAST_DAY })
        yield* injectBadRows(LAST_DAY)
        yield* sql`TRUNCATE weekly_kpi`
        const result = yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY } })
        assert.isTrue(result.sinks[0]!.inserted > 100)
        const compared = yield* assertMatchesReference(settings)
        assert.isTrue(compared > 1000)
        assertFiniteOrNull(yield* readKpis)

        // a mid-week as-of: the last week is partial, read up to the end of the as-of day
        yield* sql`TRUNCATE weekly_kpi`
        yield* Runner.run(computeDailyKpis, {
          params: { asOf: "2026-05-27", lookbackDays: "12", horizonWeeks: "2", target: "0.6" }
        })
        yield* assertMatchesReference({ asOf: "2026-05-27", lookbackDays: 12, target: 0.6, horizonWeeks: 2 })
      })
    )

    it.effect("records what it skipped and why in the run record", () =>
      Effect.gen(function* () {
        const result = yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY } })
        const record = Option.getOrThrow(yield* (yield* RunStore).get(result.runId))
        const notes = (stage: string) => record.stages.find((s) => s.name === stage)!.notes
        const input = notes("windows")["input"] as Record<string, unknown>
        const sql = yield* SqlClient.SqlClient
        // counted independently, over the scanned range
        const [expected] = yield* sql<{ nulls: number; bad_rt: number; bad_sessions: number }>`
          SELECT count(*) FILTER (WHERE correct IS NULL) AS nulls,
                 count(*) FILTER (WHERE response_time_ms IS NULL OR response_time_ms <= 0 OR response_time_ms > 1800000) AS bad_rt,
                 (SELECT count(*) FROM session WHERE started_at >= '2026-03-09T00:00:00Z' AND started_at < '2026-06-01T00:00:00Z'
                    AND (ended_at IS NULL OR ended_at <= started_at OR ended_at > started_at + interval '4 hours')) AS bad_sessions
          FROM attempt WHERE started_at >= '2026-03-09T00:00:00Z' AND started_at < '2026-06-01T00:00:00Z'`
        assert.isTrue(expected!.nulls > 0 && expected!.bad_rt > 0 && expected!.bad_sessions >= 11)
        assert.strictEqual(input["attempts_null_correct"], expected!.nulls)
        assert.strictEqual(input["attempts_invalid_response_time"], expected!.bad_rt)
        assert.strictEqual(input["sessions_invalid_length"], expected!.bad_sessions)
        assert.strictEqual(input["single_attempt_students"], 1)
        assert.strictEqual(input["duplicate_check"], "unique index on attempt.id")
        const counts = notes("outOfRange")["counts"] as Record<string, number>
        assert.strictEqual(counts["attempts_in_future"], 1)
        assert.strictEqual(counts["sessions_in_future"], 1)
        assert.isTrue(counts["sessions_without_attempts"]! >= 2, "the visitor's two sessions at least")
        assert.deepStrictEqual(notes("windows")["weeks"], {
          firstWeek: "2026-04-27",
          lastWeek: "2026-05-25",
          scanFrom: "2026-03-09",
          scanTo: "2026-06-01"
        })
      })
    )

    it.effect("re-running the same week writes identical rows", () =>
      Effect.gen(function* () {
        yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY } })
        const first = yield* readKpis
        const again = yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY } })
        assert.strictEqual(again.sinks[0]!.inserted, 0)
        assert.strictEqual(again.sinks[0]!.updated, first.length)
        assert.deepStrictEqual(yield* readKpis, first)
        const preview = yield* Runner.dryRun(computeDailyKpis, { params: { asOf: LAST_DAY } })
        assert.deepStrictEqual(
          [preview.sinks[0]!.inserts, preview.sinks[0]!.updates, preview.sinks[0]!.unchanged],
          [0, 0, first.length]
        )
      })
    )

    it.effect("keeps S written by the survival model, and dry-run shows the one value it would change", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY } })
        yield* sql`UPDATE weekly_kpi SET kpis = kpis || '{"S": 0.42}'::jsonb WHERE week_start = '2026-05-25'`
        yield* sql`UPDATE weekly_kpi SET kpis = kpis || '{"A_t": 0.123}'::jsonb WHERE user_id = 's00001' AND week_start = '2026-05-25'`
        const preview = yield* Runner.dryRun(computeDailyKpis, { params: { asOf: LAST_DAY } })
        assert.strictEqual(preview.sinks[0]!.updates, 1)
        const change = preview.sinks[0]!.changes[0]!
        assert.deepStrictEqual(change.key, { user_id: "s00001", week_start: "2026-05-25" })
        const before = (change.before as { kpis: Record<string, unknown> }).kpis
        const after = (change.after as { kpis: Record<string, unknown> }).kpis
        assert.strictEqual(before["A_t"], 0.123)
        assert.notStrictEqual(after["A_t"], 0.123)
        assert.strictEqual(after["S"], 0.42)
        yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY } })
        const rows = (yield* readKpis).filter((r) => r.week_start === "2026-05-25")
        assert.isTrue(rows.length > 10)
        assert.isTrue(rows.every((r) => r.kpis["S"] === 0.42 && typeof r.kpis["I_t"] !== "undefined"))
        yield* assertMatchesReference(settings)
      })
    )

    it.effect(
      "METRICS_USE_BAYESIAN=true fails with a clear error until the growth posterior exists, then uses it",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const before = yield* readKpis
          const error = yield* Effect.flip(
            Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY, useBayesian: "true" } })
          )
          assert.strictEqual(error._tag, "StageFailed")
          assert.include(error.message, "growthPosterior")
          assert.include(error.message, "METRICS_USE_BAYESIAN=true needs the growth model's posterior")
          assert.deepStrictEqual(yield* readKpis, before, "nothing written")
          yield* sql`
          INSERT INTO growth_brms_posterior (run_id, user_id, week_start, p_goal, sigma, lower95, upper95, target, horizon_weeks)
          VALUES ('run_growth', 's00001', '2026-05-18', 0.81, 0.07, 0.6, 0.9, 0.7, 4)`
          yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY, useBayesian: "true" } })
          const after = yield* readKpis
          const s1 = after.find((r) => r.user_id === "s00001" && r.week_start === "2026-05-25")!
          assert.strictEqual(s1.kpis["P"], 0.81)
          assert.strictEqual(s1.kpis["sigma"], 0.07)
          const s2 = after.find((r) => r.user_id === "s00002" && r.week_start === "2026-05-25")!
          assert.isNull(s2.kpis["P"], "no posterior for this student: null, not the closed form")
          const older = after.find((r) => r.user_id === "s00001" && r.week_start === "2026-05-11")
          assert.isTrue(
            older === undefined || older.kpis["P"] === null,
            "a posterior is not used for weeks before its own"
          )
        })
    )
  })
}

describe("compute-daily-kpis declarations", () => {
  it("declares exactly what it reads and writes", () => {
    const writes = Pipeline.writes(computeDailyKpis).map(Resource.format)
    assert.deepStrictEqual(writes, [
      "weekly_kpi.I_t",
      "weekly_kpi.E_t",
      "weekly_kpi.R_t",
      "weekly_kpi.A_t",
      "weekly_kpi.P",
      "weekly_kpi.sigma",
      "weekly_kpi.sessions",
      "weekly_kpi.mean_gap",
      "weekly_kpi.churn_heuristic"
    ])
    assert.notInclude(writes, "weekly_kpi.S")
    const tables = new Set(Pipeline.reads(computeDailyKpis).map((r) => r.table))
    assert.deepStrictEqual([...tables].sort(), ["attempt", "growth_brms_posterior", "session"])
  })
})
