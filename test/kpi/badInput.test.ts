import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { seedCohort } from "../../cohort/Loader.ts"
import demoInputs from "../../db/migrations/0003_demo_inputs.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { aggregateFeaturesDaily } from "../../pipelines/aggregateFeaturesDaily.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { databases } from "../support/TestDatabase.ts"
import { assertFiniteOrNull, assertMatchesReference, injectBadRows, readKpis, readRaw, runtimeFor } from "./support.ts"

const LAST_DAY = "2026-05-31"

/** Turns the demo table into what a host database may have: a view over a table without a key, repeating ids. */
const hostView = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE attempt RENAME TO attempt_raw`
  yield* sql`ALTER TABLE attempt_raw DROP CONSTRAINT attempt_pkey`
  yield* sql`CREATE VIEW attempt AS SELECT * FROM attempt_raw`
  // the same attempt loaded twice, and a later conflicting copy (the earliest one is kept)
  yield* sql`INSERT INTO attempt_raw SELECT * FROM attempt_raw WHERE id % 31 = 0`
  yield* sql`
    INSERT INTO attempt_raw (id, student_id, item_id, topic_id, session_id, correct, response_time_ms, hint_used, started_at, completed_at, attempt_no)
    SELECT id, student_id, item_id, topic_id, session_id, NOT correct, response_time_ms, hint_used,
           started_at + interval '3 days', completed_at + interval '3 days', attempt_no
    FROM attempt_raw WHERE id % 37 = 0 AND id % 31 <> 0`
})

for (const [name, db] of databases) {
  layer(runtimeFor(db), { timeout: Duration.minutes(5) })(`bad input on the ${name} database`, (it) => {
    it.effect("a host view is never touched by migrations or by seed", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* seedCohort({ students: 24, weeks: 10, seed: 11, endDate: LAST_DAY })
        yield* hostView
        yield* injectBadRows(LAST_DAY)
        yield* demoInputs
        const [kind] = yield* sql<{
          kind: string
        }>`SELECT relkind::text AS kind FROM pg_class WHERE oid = to_regclass('attempt')`
        assert.strictEqual(kind!.kind, "v")
        const error = yield* Effect.flip(seedCohort({ students: 2, weeks: 2, seed: 1, endDate: LAST_DAY }))
        assert.strictEqual(error._tag, "CohortError")
        if (error._tag === "CohortError") {
          assert.strictEqual(error.reason, "HostTables")
          assert.include(error.message, `"attempt"`)
        }
      })
    )

    it.effect("duplicate ids are counted once (earliest copy), and every KPI still matches the reference", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const result = yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY } })
        yield* assertMatchesReference({ asOf: LAST_DAY, lookbackDays: 30, target: 0.7, horizonWeeks: 4 })
        const rows = yield* readKpis
        assertFiniteOrNull(rows)
        const record = Option.getOrThrow(yield* (yield* RunStore).get(result.runId))
        const input = record.stages.find((s) => s.name === "windows")!.notes["input"] as Record<string, unknown>
        assert.strictEqual(input["duplicate_check"], "deduplicated")
        const [dups] = yield* sql<{ n: number }>`
          SELECT count(*) - count(DISTINCT id) AS n FROM attempt
          WHERE started_at >= '2026-03-09T00:00:00Z' AND started_at < '2026-06-01T00:00:00Z'`
        assert.isTrue(dups!.n > 10)
        // a conflicting copy three days later may fall outside the range; the in-range surplus is what was dropped
        assert.isTrue((input["attempt_duplicate_rows_dropped"] as number) >= dups!.n - 5)
        assert.isTrue((input["attempt_duplicate_rows_dropped"] as number) <= dups!.n + 5)
      })
    )

    it.effect("a student with a single attempt gets defined values: nulls where a window is empty, a wide P", () =>
      Effect.gen(function* () {
        const lonely = (yield* readKpis).filter((r) => r.user_id === "lonely")
        assert.strictEqual(lonely.length, 1)
        const k = lonely[0]!.kpis
        assert.strictEqual(lonely[0]!.week_start, "2026-05-25")
        assert.deepStrictEqual([k["I_t"], k["E_t"], k["R_t"], k["mean_gap"]], [null, null, null, null])
        assert.strictEqual(k["sessions"], 1)
        assert.isTrue((k["P"] as number) > 0 && (k["P"] as number) < 1)
        assert.closeTo(k["sigma"] as number, Math.sqrt(0.75 * 0.25), 1e-12)
        // a student with sessions but no attempts: engagement and churn only
        const visitor = (yield* readKpis).filter((r) => r.user_id === "visitor" && r.week_start === "2026-05-25")[0]!
          .kpis
        assert.deepStrictEqual([visitor["I_t"], visitor["P"], visitor["sigma"]], [null, null, null])
        assert.strictEqual(visitor["sessions"], 2)
        assert.isTrue((visitor["A_t"] as number) > 0)
        // the attempt and session dated after now are read by nobody
        assert.isFalse((yield* readKpis).some((r) => r.user_id === "timetraveller"))
      })
    )

    it.effect("topic features count each attempt once and skip invalid times", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* Runner.run(aggregateFeaturesDaily, { params: { asOf: LAST_DAY, lookbackDays: "6" } })
        const stored = yield* sql<{
          user_id: string
          topic_id: string
          date: string
          attempts: number
          correct: number
          hints: number
          avg_time_ms: number | null
          rt_median: number | null
          improvement: number | null
        }>`SELECT user_id, topic_id, date::text AS date, attempts, correct, hints, avg_time_ms, rt_median, improvement
           FROM features_topic_daily ORDER BY 1, 2, 3`
        // plain reference: dedup by id (earliest), group by student, topic, UTC day
        const raw = yield* readRaw
        const topics = yield* sql<{ id: string; topic_id: string }>`SELECT id::text AS id, topic_id FROM attempt`
        const topicOf = new Map(topics.map((t) => [t.id, t.topic_id]))
        const earliest = new Map<string, (typeof raw.attempts)[number]>()
        for (const a of raw.attempts) {
          const kept = earliest.get(a.id)
          if (kept === undefined || a.started_ms < kept.started_ms) earliest.set(a.id, a)
        }
        const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
        const cells = new Map<string, Array<(typeof raw.attempts)[number]>>()
        for (const a of earliest.values()) {
          if (day(a.started_ms) < "2026-05-25" || day(a.started_ms) > LAST_DAY || a.started_ms > Date.now()) continue
          const key = `${a.student_id}|${topicOf.get(a.id)}|${day(a.started_ms)}`
          cells.set(key, [...(cells.get(key) ?? []), a])
        }
        assert.strictEqual(stored.length, cells.size)
        for (const row of stored) {
          const as = cells.get(`${row.user_id}|${row.topic_id}|${row.date}`)!
          assert.strictEqual(row.attempts, as.length)
          assert.strictEqual(row.correct, as.filter((a) => a.correct === true).length)
          assert.strictEqual(row.hints, as.filter((a) => a.hint_used === true).length)
          const times = as
            .map((a) => a.response_time_ms)
            .filter((t): t is number => t !== null && t > 0 && t <= 1_800_000)
          if (times.length === 0) assert.isNull(row.avg_time_ms)
          else assert.closeTo(row.avg_time_ms!, times.reduce((x, y) => x + y, 0) / times.length, 1e-6)
          assert.isTrue(row.improvement === null || (row.improvement >= -1 && row.improvement <= 1))
        }
        const again = yield* Runner.run(aggregateFeaturesDaily, { params: { asOf: LAST_DAY, lookbackDays: "6" } })
        assert.strictEqual(again.sinks[0]!.inserted, 0)
      })
    )
  })
}
