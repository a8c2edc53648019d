import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option, Redacted, Ref, Scope } from "effect"
import * as Generator from "../../cohort/Generator.ts"
import { seedCohort } from "../../cohort/Loader.ts"
import { addDays } from "../../engine/Calendar.ts"
import { StageFailed } from "../../engine/Errors.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { forecastProphet } from "../../pipelines/forecastProphet.ts"
import { ProphetForecastSink, type ProphetSeriesRow } from "../../sinks/ProphetForecastSink.ts"
import { ForecastClient, make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import type { RServiceError } from "../../stages/models/RServiceClient.ts"
import { runtimeFor } from "../kpi/support.ts"
import { platformLayer, type RunningRService, startRService } from "../support/rServices.ts"
import { databases, embedded } from "../support/TestDatabase.ts"

const COHORT: Generator.CohortOptions = { students: 80, weeks: 16, seed: 5, endDate: "2026-05-31" }
const ANOMALY_WEEK = Generator.plan(COHORT).anomalyWeekStart
// the weekly run on the Sunday that ends the anomalous week: its I_t series ends with that week
const AS_OF = addDays(ANOMALY_WEEK, 6)
const LOOKBACK_WEEKS = 12

/** Two hand-made students in weekly_kpi: one flat with a tiny alternating wobble, one exactly constant. */
const insertFlatStudents = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = Array.from({ length: LOOKBACK_WEEKS }, (_, w) => addDays(ANOMALY_WEEK, -7 * w)).flatMap((week, w) => [
    { user_id: "flat-student", week_start: week, kpis: { I_t: 0.05 + (w % 2 === 0 ? 0.001 : -0.001) } },
    { user_id: "constant-student", week_start: week, kpis: { I_t: 0.02 } }
  ])
  yield* sql`INSERT INTO weekly_kpi ${sql.insert(rows.map((r) => ({ ...r, kpis: JSON.stringify(r.kpis) })))}`
})

const seededKpis = Layer.effectDiscard(
  Effect.gen(function* () {
    yield* seedCohort(COHORT)
    yield* Runner.run(computeDailyKpis, { params: { asOf: AS_OF, lookbackDays: String(7 * LOOKBACK_WEEKS) } })
    yield* insertFlatStudents
  })
)

const stored = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const meta = yield* sql<{ run_id: string; user_id: string | null; as_of_week: string; fit_meta: { status: string } }>`
    SELECT run_id, user_id, as_of_week::text AS as_of_week, fit_meta FROM prophet_fit_meta ORDER BY user_id NULLS FIRST`
  const anomalies = yield* sql<{ run_id: string; user_id: string | null; week_start: string; anomaly_score: number }>`
    SELECT run_id, user_id, week_start::text AS week_start, anomaly_score FROM prophet_anomalies ORDER BY user_id NULLS FIRST, week_start`
  return { meta, anomalies }
})

class Forecast extends Context.Tag("test/RunningForecast")<Forecast, RunningRService>() {}
const running = Layer.scoped(Forecast, startRService("forecast"))
const client = Layer.unwrapEffect(Effect.map(Forecast, (service) => ForecastClient.layer(service.connection())))
const database = Layer.provideMerge(seededKpis, runtimeFor(embedded))
const TestLayer = Layer.merge(client, database).pipe(Layer.provideMerge(running), Layer.provideMerge(platformLayer))

layer(TestLayer, { timeout: 600_000, excludeTestServices: true })(
  "forecast-prophet on the embedded database with r-forecast-plumber",
  (it) => {
    it.effect(
      "flags the planted anomalous week in the cohort series, none in a flat student's, and counts constant series",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const result = yield* Runner.run(forecastProphet, { params: { asOf: AS_OF } })
          const { anomalies, meta } = yield* stored
          // counted independently: every student with ≥ 4 I_t values in the lookback, plus the cohort series
          const [eligible] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM (
          SELECT user_id FROM weekly_kpi WHERE week_start BETWEEN ${addDays(ANOMALY_WEEK, -7 * (LOOKBACK_WEEKS - 1))}::date AND ${ANOMALY_WEEK}::date
          GROUP BY user_id HAVING count(kpis ->> 'I_t') >= 4) s`
          assert.strictEqual(meta.length, eligible!.n + 1)
          assert.isTrue(meta.every((m) => m.run_id === result.runId && m.as_of_week === ANOMALY_WEEK))
          const cohort = meta.filter((m) => m.user_id === null)
          assert.strictEqual(cohort.length, 1)
          assert.strictEqual(cohort[0]!.fit_meta.status, "ok")

          const cohortAnomalies = anomalies.filter((a) => a.user_id === null)
          console.log(`forecast: anomaly week ${ANOMALY_WEEK}; cohort anomalies ${JSON.stringify(cohortAnomalies)}`)
          assert.include(
            cohortAnomalies.map((a) => a.week_start),
            ANOMALY_WEEK
          )
          assert.isBelow(cohortAnomalies.find((a) => a.week_start === ANOMALY_WEEK)!.anomaly_score, -2.5, "a drop")

          assert.strictEqual(meta.find((m) => m.user_id === "flat-student")!.fit_meta.status, "ok")
          assert.lengthOf(
            anomalies.filter((a) => a.user_id === "flat-student"),
            0
          )
          assert.strictEqual(meta.find((m) => m.user_id === "constant-student")!.fit_meta.status, "constant_series")

          const record = Option.getOrThrow(yield* (yield* RunStore).get(result.runId))
          const statuses = record.stages.find((s) => s.name === "forecasts")!.notes["statuses"] as Record<
            string,
            number
          >
          assert.strictEqual(statuses["constant_series"], 1)
          assert.strictEqual(
            statuses["ok"]! + statuses["constant_series"]! + statuses["insufficient_data"]! + statuses["failed"]!,
            meta.length
          )
        }),
      { timeout: 300_000 }
    )

    it.effect(
      "a dry run reports what it would replace and writes nothing; a re-run replaces the week's rows",
      () =>
        Effect.gen(function* () {
          const before = yield* stored
          const preview = yield* Runner.dryRun(forecastProphet, { params: { asOf: AS_OF } })
          const sink = preview.sinks[0]!
          assert.strictEqual(sink.deletes, before.meta.length + before.anomalies.length)
          assert.strictEqual(sink.inserts, sink.rows)
          assert.isAtLeast(sink.inserts, before.meta.length)
          assert.isAbove(sink.sample.length, 0)
          assert.deepStrictEqual(yield* stored, before, "the dry run wrote nothing")

          const again = yield* Runner.run(forecastProphet, { params: { asOf: AS_OF } })
          const after = yield* stored
          assert.strictEqual(again.sinks[0]!.deleted, before.meta.length + before.anomalies.length)
          assert.strictEqual(after.meta.length, before.meta.length, "no duplicate series rows")
          assert.strictEqual(new Set(after.meta.map((m) => m.user_id)).size, after.meta.length)
          assert.isTrue([...after.meta, ...after.anomalies].every((r) => r.run_id === again.runId))
          assert.deepStrictEqual(
            after.anomalies.map((a) => [a.user_id, a.week_start]),
            before.anomalies.map((a) => [a.user_id, a.week_start])
          )
        }),
      { timeout: 300_000 }
    )

    it.effect(
      "a failed model call (wrong token) fails the run and writes nothing",
      () =>
        Effect.gen(function* () {
          const before = yield* stored
          const service = yield* Forecast
          const wrongToken = ForecastClient.layer({
            ...service.connection(),
            token: Redacted.make("not-the-token")
          }).pipe(Layer.provide(platformLayer))
          const error = yield* Runner.run(forecastProphet, { params: { asOf: AS_OF } }).pipe(
            Effect.provide(wrongToken),
            Effect.flip
          )
          assert.strictEqual(error._tag, "StageFailed")
          assert.match(error.message, /forecasts/)
          assert.notMatch(error.message, /not-the-token/)
          assert.deepStrictEqual(yield* stored, before)
        }),
      { timeout: 300_000 }
    )

    it.scoped(
      "a service restarted mid-run is waited out: the stage's retry reaches the new process and the run commits",
      () =>
        Effect.gen(function* () {
          // killed (SIGKILL) once the first batch is answered, as a crashing pod; a new process comes up on the same
          // address with the same token a moment later, as Kubernetes would restart it
          const first = yield* startRService("forecast")
          const answered = yield* Ref.make(0)
          const restarting = Layer.effect(
            ForecastClient,
            Effect.gen(function* () {
              const real = yield* makeForecastClient(first.connection({ retries: 2 }))
              const scope = yield* Effect.scope
              const restart = Effect.sleep("2 seconds").pipe(
                Effect.zipRight(startRService("forecast", { replacing: first })),
                Scope.extend(scope),
                Effect.provide(platformLayer),
                Effect.forkIn(scope)
              )
              return ForecastClient.make({
                ...real,
                prophetFit: (request) =>
                  real.prophetFit(request).pipe(
                    Effect.tap(() =>
                      Effect.flatMap(
                        Ref.updateAndGet(answered, (n) => n + 1),
                        (n) => (n === 1 ? Effect.zipRight(first.kill, restart) : Effect.void)
                      )
                    )
                  )
              })
            })
          ).pipe(Layer.provide(platformLayer))
          const result = yield* Runner.run(forecastProphet, { params: { asOf: AS_OF, batchSize: "30" } }).pipe(
            Effect.provide(restarting)
          )
          const stage = result.stages.find((s) => s.name === "forecasts")!
          assert.strictEqual(stage.status, "succeeded")
          assert.strictEqual(
            stage.attempts,
            2,
            "the first try lost its service; the retry 10 s later reached the new one"
          )
          const [lost] = stage.notes["earlierAttempts"] as ReadonlyArray<{ error: string }>
          assert.include(lost!.error, "is unreachable at /prophet/fit")
          const after = yield* stored
          assert.isAbove(after.meta.length, 0)
          assert.isTrue(
            [...after.meta, ...after.anomalies].every((r) => r.run_id === result.runId),
            "the whole week comes from this run"
          )
        }),
      { timeout: 300_000 }
    )

    it.scoped(
      "a service killed mid-run fails the run as unreachable, after the retries, and writes nothing",
      () =>
        Effect.gen(function* () {
          const before = yield* stored
          assert.isAbove(before.meta.length, 0, "an earlier run's rows are there to be kept")
          // a service of its own, killed (SIGKILL, as a crash) as soon as the first batch has been answered, while the
          // second batch is in flight; the client is the real one, the wrapper only chooses the moment
          const doomed = yield* startRService("forecast")
          const answered = yield* Ref.make(0)
          const seen = yield* Ref.make<ReadonlyArray<RServiceError>>([])
          const killedAfterFirstAnswer = Layer.effect(
            ForecastClient,
            Effect.gen(function* () {
              const real = yield* makeForecastClient(doomed.connection({ retries: 2 }))
              return ForecastClient.make({
                ...real,
                prophetFit: (request) =>
                  real.prophetFit(request).pipe(
                    Effect.tap(() =>
                      Effect.flatMap(
                        Ref.updateAndGet(answered, (n) => n + 1),
                        (n) => (n === 1 ? doomed.kill : Effect.void)
                      )
                    ),
                    Effect.tapError((error) => Ref.update(seen, (errors) => [...errors, error]))
                  )
              })
            })
          ).pipe(Layer.provide(platformLayer))
          const runId = "run_forecast_service_killed"
          const error = yield* Runner.run(forecastProphet, { runId, params: { asOf: AS_OF, batchSize: "5" } }).pipe(
            Effect.provide(killedAfterFirstAnswer),
            Effect.flip
          )
          console.log(`forecast: killed service: ${error.message}`)

          // typed and clear: the stage, the service, the endpoint, "unreachable", and the client's attempts
          assert.instanceOf(error, StageFailed)
          assert.strictEqual(error.reason, "Failure")
          assert.strictEqual(error.stage, "forecasts")
          assert.match(
            error.message,
            /r-forecast-plumber is unreachable at \/prophet\/fit after 3 attempts: connect ECONNREFUSED/
          )
          const errors = yield* Ref.get(seen)
          assert.isAbove(errors.length, 0)
          for (const e of errors) {
            assert.deepStrictEqual(
              [e._tag, e.reason, e.service, e.endpoint, e.attempts],
              ["RServiceError", "Transport", "r-forecast-plumber", "/prophet/fit", 3]
            )
          }

          // the run record: failed with that error; the stage tried three times (its retry policy), and the first try got
          // one batch answered before the service died, not all of them
          const record = Option.getOrThrow(yield* (yield* RunStore).get(runId))
          assert.strictEqual(record.status, "failed")
          assert.deepStrictEqual(record.error, {
            tag: "StageFailed",
            reason: "Failure",
            stage: "forecasts",
            message: error.message
          })
          const stage = record.stages.find((s) => s.name === "forecasts")!
          assert.strictEqual(stage.status, "failed")
          assert.strictEqual(stage.attempts, 3)
          assert.include(stage.error!, "is unreachable at /prophet/fit")
          const batches = stage.notes["batches"] as { total: number; answered: number }
          assert.isAbove(batches.total, 2)
          assert.strictEqual(yield* Ref.get(answered), 1, "only the batch answered before the kill")
          assert.strictEqual(batches.answered, 0, "the retry after the kill got no answer")
          const earlier = stage.notes["earlierAttempts"] as ReadonlyArray<{
            attempt: number
            error: string
            notes: { batches: { answered: number } }
          }>
          assert.deepStrictEqual(
            earlier.map((e) => [e.attempt, e.notes.batches.answered]),
            [
              [1, 1],
              [2, 0]
            ],
            "each try's own notes are kept"
          )
          assert.include(earlier[0]!.error, "is unreachable at /prophet/fit")
          assert.isTrue(record.stages.filter((s) => s.kind === "sink").every((s) => s.status === "not run"))

          // nothing of this run was written, and the earlier run's rows are untouched
          const after = yield* stored
          assert.isFalse([...after.meta, ...after.anomalies].some((r) => r.run_id === runId))
          assert.deepStrictEqual(after, before)
        }),
      { timeout: 300_000 }
    )
  }
)

const seriesRow = (
  runId: string,
  asOfWeek: string,
  userId: string | null,
  anomalyWeeks: ReadonlyArray<string>
): ProphetSeriesRow => ({
  run_id: runId,
  as_of_week: asOfWeek,
  metric: "I_t",
  user_id: userId,
  changepoints: [],
  forecast: [],
  fit_meta: { status: "ok" },
  lookback_weeks: 12,
  horizon_weeks: 4,
  anomaly_threshold: 2.5,
  anomalies: anomalyWeeks.map((week_start) => ({
    run_id: runId,
    user_id: userId,
    week_start,
    metric: "I_t",
    value: -0.1,
    expected: 0,
    anomaly_score: -3
  }))
})

for (const [name, db] of databases) {
  layer(db, { timeout: 120_000 })(`ProphetForecastSink on the ${name} database`, (it) => {
    it.effect("replaces the rows of the same as-of week only, in one transaction", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const write = (runId: string, rows: ReadonlyArray<ProphetSeriesRow>) =>
          sql.withTransaction(ProphetForecastSink.write(rows, { runId, pipeline: "forecast-prophet" }))
        yield* write("run-a", [
          seriesRow("run-a", "2026-05-18", null, ["2026-05-04"]),
          seriesRow("run-a", "2026-05-18", "u1", [])
        ])
        yield* write("run-b", [
          seriesRow("run-b", "2026-05-25", null, ["2026-05-25"]),
          seriesRow("run-b", "2026-05-25", "u1", ["2026-05-11"])
        ])
        const rerun = yield* write("run-c", [seriesRow("run-c", "2026-05-25", null, [])])
        assert.deepStrictEqual([rerun.deleted, rerun.inserted], [4, 1])
        const meta = yield* sql<{ run_id: string; as_of_week: string }>`
          SELECT run_id, as_of_week::text AS as_of_week FROM prophet_fit_meta ORDER BY run_id, user_id NULLS FIRST`
        assert.deepStrictEqual(
          meta.map((m) => [m.run_id, m.as_of_week]),
          [
            ["run-a", "2026-05-18"],
            ["run-a", "2026-05-18"],
            ["run-c", "2026-05-25"]
          ]
        )
        const anomalies = yield* sql<{ run_id: string }>`SELECT run_id FROM prophet_anomalies`
        assert.deepStrictEqual(
          anomalies.map((a) => a.run_id),
          ["run-a"],
          "run-b's anomalies went with its week"
        )
      })
    )

    it.effect("a dry run counts what it would replace in both tables, samples both, and writes nothing", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`TRUNCATE prophet_fit_meta, prophet_anomalies`
        yield* sql.withTransaction(
          ProphetForecastSink.write(
            [
              seriesRow("run-a", "2026-05-18", null, ["2026-05-04"]),
              seriesRow("run-b", "2026-05-25", "u1", ["2026-05-11"])
            ],
            { runId: "run-a", pipeline: "forecast-prophet" }
          )
        )
        const stored = sql<{ n: number }>`
          SELECT (SELECT count(*) FROM prophet_fit_meta) + (SELECT count(*) FROM prophet_anomalies) AS n`
        const before = yield* stored
        const rows = [seriesRow("run-c", "2026-05-25", null, ["2026-05-18", "2026-05-25"])]
        const preview = yield* ProphetForecastSink.preview(rows, { runId: "run-c", pipeline: "forecast-prophet" })
        assert.strictEqual(preview.target, "prophet_fit_meta + prophet_anomalies")
        // run-b's series of 2026-05-25 and its one anomaly; run-a's week stays
        assert.deepStrictEqual([preview.deletes, preview.rows, preview.inserts], [2, 3, 3])
        assert.deepStrictEqual(
          preview.sample.map((r) => (r as { week_start?: string }).week_start ?? "series"),
          ["series", "2026-05-18", "2026-05-25"]
        )
        assert.notProperty(preview.sample[0] as object, "anomalies", "a series is sampled as its table stores it")
        const removed = preview.changes.filter((c) => c.after === null)
        assert.deepStrictEqual(
          removed.map((c) => (c.before as { run_id: string }).run_id),
          ["run-b"]
        )
        assert.deepStrictEqual(yield* stored, before, "the preview wrote nothing")
      })
    )
  })
}
