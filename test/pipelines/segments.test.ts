import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Option, Redacted } from "effect"
import { seedCohort } from "../../cohort/Loader.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { aggregateFeaturesDaily } from "../../pipelines/aggregateFeaturesDaily.ts"
import { clusterSegments } from "../../pipelines/clusterSegments.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { ClusterClient } from "../../stages/models/ClusterClient.ts"
import { platformLayer, startRService } from "../support/rServices.ts"
import { adjustedRandIndex } from "../support/simulate.ts"
import { embedded, postgres } from "../support/TestDatabase.ts"
import { countRows, modelSuiteLayer } from "./support.ts"

// a Sunday: the last week is complete
const AS_OF = "2026-05-31"
const LOOKBACK_DAYS = "84"

/** Seeds a cohort plus two newcomers with a single week of practice, and builds the KPI and feature history. */
const seedHistory = (students: number, seed: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* seedCohort({ students, weeks: 14, seed, endDate: AS_OF })
    for (const [n, user] of ["newcomer-1", "newcomer-2"].entries()) {
      yield* sql`
        INSERT INTO session (id, user_id, started_at, ended_at, status)
        VALUES (${`${user}-s`}, ${user}, ${AS_OF}::date - 3 + interval '9 hours', ${AS_OF}::date - 3 + interval '9 hours 20 minutes', 'completed')`
      yield* sql`
        INSERT INTO attempt (id, student_id, item_id, topic_id, session_id, correct, response_time_ms, hint_used, started_at, completed_at, attempt_no)
        SELECT 980000000 + ${n} * 100 + g, ${user}, 'alg-00' || (g % 9 + 1), 'algebra', ${`${user}-s`}, g % 2 = 0, 30000, false,
               ${AS_OF}::date - 3 + interval '9 hours' + g * interval '1 minute', ${AS_OF}::date - 3 + interval '9 hours 30 seconds' + g * interval '1 minute', 1
        FROM generate_series(1, 12) g`
    }
    yield* Runner.run(computeDailyKpis, { params: { asOf: AS_OF, lookbackDays: LOOKBACK_DAYS } })
    yield* Runner.run(aggregateFeaturesDaily, { params: { asOf: AS_OF, lookbackDays: LOOKBACK_DAYS } })
  })

const readSegments = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ user_id: string; segment_label: string; archetype: string | null; run_id: string }>`
    SELECT s.user_id, s.segment_label, t.archetype, s.features_snapshot->>'run_id' AS run_id
    FROM user_segment s LEFT JOIN cohort_truth t ON t.student_id = s.user_id ORDER BY s.user_id`
})

const readMeta = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{
    run_id: string
    as_of: string
    n_clusters: number
    method: string
    metrics: { silhouette: number; k_selection: { k_gap?: number; scores: Array<{ k: number }> } }
  }>`
    SELECT run_id, to_char(as_of, 'YYYY-MM-DD') AS as_of, n_clusters, method, metrics FROM segment_meta ORDER BY fitted_at`
})

/** The label most students of a planted group got. */
const majorityLabel = (
  segments: ReadonlyArray<{ readonly archetype: string | null; readonly segment_label: string }>,
  archetype: string
) => {
  const counts = new Map<string, number>()
  for (const s of segments)
    if (s.archetype === archetype) counts.set(s.segment_label, (counts.get(s.segment_label) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0]
}

/** The planted groups with a distinctive behaviour; regular students vary continuously and churners are the survival model's. */
const DISTINCT = new Set(["improver", "struggler", "fast", "hint_leaner"])

const suite = modelSuiteLayer(embedded, "cluster", (running) => ClusterClient.layer(running.connection()))

layer(suite, { timeout: Duration.minutes(6), excludeTestServices: true })(
  "cluster-segments on the embedded database",
  (it) => {
    it.effect(
      "recovers the planted behaviour groups with automatic k, says why that k, and lists users with too little history",
      () =>
        Effect.gen(function* () {
          yield* seedHistory(240, 21)
          const result = yield* Runner.run(clusterSegments, { params: { asOf: AS_OF } })
          const segments = yield* readSegments
          const planted = segments.filter((s) => s.archetype !== null)
          const distinct = planted.filter((s) => DISTINCT.has(s.archetype!))
          const ari = adjustedRandIndex(
            distinct.map((s) => s.archetype!),
            distinct.map((s) => s.segment_label)
          )
          const ariAll = adjustedRandIndex(
            planted.map((s) => s.archetype!),
            planted.map((s) => s.segment_label)
          )
          console.log(
            `segments: ARI ${ari.toFixed(3)} over the ${distinct.length} students of the four distinctive groups, ${ariAll.toFixed(3)} over all ${planted.length}`
          )
          assert.isAbove(ari, 0.6)
          assert.strictEqual(majorityLabel(planted, "hint_leaner"), "hint-heavy")
          assert.strictEqual(majorityLabel(planted, "struggler"), "struggling")
          assert.strictEqual(majorityLabel(planted, "fast"), "efficient")
          assert.strictEqual(majorityLabel(planted, "improver"), "improving")
          // the regular mass has no trait strong enough to be named after
          assert.strictEqual(majorityLabel(planted, "regular"), "typical")

          const record = Option.getOrThrow(yield* (yield* RunStore).get(result.runId))
          const notes = (stage: string) => record.stages.find((s) => s.name === stage)!.notes
          // the newcomers, and any student who stopped early in the lookback, are listed, not silently dropped
          const little = notes("features")["tooLittleHistory"] as {
            count: number
            minWeeks: number
            userIds: Array<string>
          }
          console.log("segments: too little history", little)
          assert.includeMembers(little.userIds, ["newcomer-1", "newcomer-2"])
          assert.strictEqual(little.count, little.userIds.length)
          assert.strictEqual(segments.length + little.count, 242, "every user is either segmented or listed")
          assert.isFalse(segments.some((s) => little.userIds.includes(s.user_id)))
          const shrinkage = notes("features")["trendShrinkage"] as { medianFactor: number; slopeSdBetweenUsers: number }
          assert.isAbove(shrinkage.slopeSdBetweenUsers, 0, "the planted improvers make trends differ beyond noise")
          assert.isBelow(shrinkage.medianFactor, 1)

          // four distinctive groups beside the typical mass: five segments, and the record says why
          const why = notes("segments")["kSelection"] as {
            criterion: string
            kGap: number
            gap: Array<{ k: number; gap: number; se: number }>
          }
          console.log("segments: k selection", JSON.stringify(why))
          assert.strictEqual(notes("segments")["nClusters"], 5)
          assert.strictEqual(why.kGap, 5)
          assert.include(why.criterion, "gap statistic")
          assert.deepStrictEqual(
            why.gap.map((g) => g.k),
            [1, 2, 3, 4, 5, 6]
          )
          const meta = yield* readMeta
          assert.deepStrictEqual(
            meta.map((m) => [m.run_id, m.as_of, m.n_clusters, m.method]),
            [[result.runId, AS_OF, 5, "kmeans"]]
          )
          const stored = meta[0]!.metrics.k_selection
          assert.strictEqual(stored.k_gap, 5)
          assert.deepStrictEqual(
            stored.scores.map((g) => g.k),
            [1, 2, 3, 4, 5, 6]
          )
          assert.isAbove(meta[0]!.metrics.silhouette, 0)

          // a given k of the same size reproduces the automatic segmentation exactly, and is recorded as given
          const given = yield* Runner.run(clusterSegments, { params: { asOf: AS_OF, nClusters: "5" } })
          const labelsGiven = new Map((yield* readSegments).map((s) => [s.user_id, s.segment_label]))
          assert.isTrue(segments.every((s) => labelsGiven.get(s.user_id) === s.segment_label))
          const givenNotes = Option.getOrThrow(yield* (yield* RunStore).get(given.runId)).stages.find(
            (s) => s.name === "segments"
          )!.notes
          assert.deepStrictEqual(givenNotes["kSelection"], { criterion: "given", gap: [] })
        })
    )

    it.effect("a dry run writes nothing; a re-run replaces its own rows without duplicates (automatic k)", () =>
      Effect.gen(function* () {
        const tables = ["user_segment", "segment_meta", "pipeline_run"]
        const counts = yield* countRows(tables)
        const preview = yield* Runner.dryRun(clusterSegments, { params: { asOf: AS_OF } })
        assert.deepStrictEqual(yield* countRows(tables), counts)
        const [users, meta] = preview.sinks
        assert.deepStrictEqual(
          [users!.target, users!.rows, users!.inserts],
          ["user_segment", counts["user_segment"], 0]
        )
        assert.deepStrictEqual([meta!.target, meta!.inserts, meta!.deletes], ["segment_meta", 1, 1])

        const again = yield* Runner.run(clusterSegments, { params: { asOf: AS_OF } })
        const metas = yield* readMeta
        assert.deepStrictEqual(
          metas.map((m) => m.run_id),
          [again.runId]
        )
        console.log(`segments: automatic k = ${metas[0]!.n_clusters}`)
        assert.isAtLeast(metas[0]!.n_clusters, 2)
        const segments = yield* readSegments
        assert.strictEqual(segments.length, counts["user_segment"])
        assert.isTrue(segments.every((s) => s.run_id === again.runId))
        assert.deepStrictEqual(
          again.sinks.map((s) => [s.target, s.inserted, s.updated, s.deleted]),
          [
            ["user_segment", 0, counts["user_segment"], 0],
            ["segment_meta", 1, 0, 1]
          ]
        )
      })
    )

    it.scoped(
      "a failed model call (wrong token, killed service) writes nothing",
      () =>
        Effect.gen(function* () {
          const tables = ["user_segment", "segment_meta"]
          const counts = yield* countRows(tables)
          const stored = yield* readSegments
          const doomed = yield* startRService("cluster").pipe(Effect.provide(platformLayer))
          const wrong = ClusterClient.layer({
            ...doomed.connection({ retries: 0 }),
            token: Redacted.make("not-the-token")
          })
          const unauthorized = yield* Effect.flip(
            Runner.run(clusterSegments, { params: { asOf: AS_OF } }).pipe(Effect.provide(wrong))
          )
          assert.include(unauthorized.message, "wrong internal token")
          yield* doomed.kill
          const gone = yield* Effect.flip(
            Runner.run(clusterSegments, { params: { asOf: AS_OF } }).pipe(
              Effect.provide(ClusterClient.layer(doomed.connection({ retries: 0 })))
            )
          )
          assert.strictEqual(gone._tag, "StageFailed")
          assert.include(gone.message, "segments")
          assert.deepStrictEqual(yield* countRows(tables), counts)
          assert.deepStrictEqual(yield* readSegments, stored)
        }),
      { timeout: 120_000 }
    )
  }
)

const pgSuite = modelSuiteLayer(postgres, "cluster", (running) => ClusterClient.layer(running.connection()))

layer(pgSuite, { timeout: Duration.minutes(5), excludeTestServices: true })("cluster-segments on PostgreSQL", (it) => {
  it.effect("segments every user with enough history, once", () =>
    Effect.gen(function* () {
      yield* seedHistory(60, 4)
      const result = yield* Runner.run(clusterSegments, { params: { asOf: AS_OF } })
      const segments = yield* readSegments
      const little = Option.getOrThrow(yield* (yield* RunStore).get(result.runId)).stages.find(
        (s) => s.name === "features"
      )!.notes["tooLittleHistory"] as { count: number }
      assert.strictEqual(segments.length + little.count, 62)
      assert.isAbove(segments.length, 50)
      assert.deepStrictEqual(
        (yield* readMeta).map((m) => m.run_id),
        [result.runId]
      )
    })
  )
})
