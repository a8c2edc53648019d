import * as net from "node:net"
import { HttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Option, Redacted, Schedule, Schema } from "effect"
import type * as Generator from "../../cohort/Generator.ts"
import { seedCohort } from "../../cohort/Loader.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { fitBayesianGrowth } from "../../pipelines/fitBayesianGrowth.ts"
import { forecastProphet } from "../../pipelines/forecastProphet.ts"
import { seriesWeeks } from "../../sources/KpiSeriesQuery.ts"
import { freeLoopbackPort } from "../../sources/LoopbackPort.ts"
import { BrmsClient } from "../../stages/models/BrmsClient.ts"
import { ForecastClient, make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import type { RServiceConnection, RServiceError } from "../../stages/models/RServiceClient.ts"
import { runtimeFor } from "../kpi/support.ts"
import { platformLayer, type RunningRService, startRService } from "../support/rServices.ts"
import { embedded } from "../support/TestDatabase.ts"

// Two local instances of r-brms-plumber and two of r-forecast-plumber: a run spreads its work over both, and when one
// is killed mid-run its work goes to the other and the run commits the same rows a single instance would have.

const LAST_DAY = "2026-05-31"
const COHORT: Generator.CohortOptions = { students: 70, weeks: 14, seed: 11, endDate: LAST_DAY }
const LOOKBACK_WEEKS = 12

class Instances extends Context.Tag("test/replicas/Instances")<
  Instances,
  {
    readonly brms: readonly [RunningRService, RunningRService]
    readonly forecast: readonly [RunningRService, RunningRService]
  }
>() {}

const instances = Layer.scoped(
  Instances,
  Effect.gen(function* () {
    // one at a time: four R processes starting at once on a shared machine would only slow each other down
    // replicas share one token, as the Deployments' pods do
    const brms = yield* startRService("brms")
    const forecast = yield* startRService("forecast")
    return {
      brms: [brms, yield* startRService("brms", { replicaOf: brms })] as const,
      forecast: [forecast, yield* startRService("forecast", { replicaOf: forecast })] as const
    }
  })
)

const seeded = Layer.effectDiscard(
  Effect.gen(function* () {
    yield* seedCohort(COHORT)
    yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY, lookbackDays: String(7 * LOOKBACK_WEEKS) } })
  })
)

const TestLayer = Layer.provideMerge(seeded, runtimeFor(embedded)).pipe(
  Layer.merge(instances),
  Layer.provideMerge(platformLayer)
)

/** One connection to several instances: their URLs comma-separated, as `R_*_URL` names them. */
const replicated = (
  running: ReadonlyArray<RunningRService>,
  overrides: Partial<RServiceConnection> = {}
): RServiceConnection => ({
  ...running[0]!.connection({ retries: 1 }),
  url: running.map((r) => r.url).join(","),
  ...overrides
})

const Requests = Schema.Struct({ requests: Schema.Record({ key: Schema.String, value: Schema.Int }) })

/** The requests an instance says it answered, per endpoint (its `/health`). */
const answeredBy = (running: RunningRService) =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const res = yield* http.get(`${running.url}/health`)
    return (yield* Schema.decodeUnknown(Requests)(yield* res.json)).requests
  }).pipe(Effect.scoped, Effect.orDie)

/** Until the instance refuses connections: its whole process group is gone. */
const awaitDead = (running: RunningRService) =>
  answeredBy(running).pipe(
    Effect.sandbox,
    Effect.flip,
    Effect.retry({ schedule: Schedule.spaced(Duration.millis(50)), times: 200 }),
    Effect.orDie
  )

/**
 * The platform HTTP client, which kills `victim` just before the client sends it the `nth` request for `path` —
 * after reading what it answered until then — so that request and every later one must go elsewhere.
 */
const killingOnRequest = (victim: RunningRService, path: string, nth: number, answeredBefore: Array<number>) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      let seen = 0
      return HttpClient.tapRequest(http, (request) =>
        request.url === `${victim.url}${path}` && ++seen === nth
          ? Effect.gen(function* () {
              answeredBefore.push((yield* answeredBy(victim))[path] ?? 0)
              yield* victim.kill
              yield* awaitDead(victim)
            }).pipe(Effect.provideService(HttpClient.HttpClient, http))
          : Effect.void
      )
    })
  )

const posterior = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{
    run_id: string
    user_id: string
    p_goal: number
    sigma: number
    lower95: number
    upper95: number
  }>`
    SELECT run_id, user_id, p_goal, sigma, lower95, upper95 FROM growth_brms_posterior ORDER BY user_id`
})

const forecastRows = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ run_id: string; user_id: string | null; status: string }>`
    SELECT run_id, user_id, fit_meta ->> 'status' AS status FROM prophet_fit_meta ORDER BY user_id NULLS FIRST`
})

const stageNotes = (runId: string, stage: string) =>
  Effect.gen(function* () {
    const record = Option.getOrThrow(yield* (yield* RunStore).get(runId))
    assert.strictEqual(record.status, "succeeded")
    return record.stages.find((s) => s.name === stage)!.notes
  })

layer(TestLayer, { timeout: 900_000, excludeTestServices: true })(
  "model work over two replicas of each R service",
  (it) => {
    it.effect(
      "a client spreads calls over its URLs, skips one that refuses, and names every URL when none answers",
      () =>
        Effect.gen(function* () {
          const {
            forecast: [live]
          } = yield* Instances
          const deadUrl = `http://127.0.0.1:${yield* freeLoopbackPort}`
          const client = yield* makeForecastClient({
            ...live.connection({ retries: 0 }),
            url: `${deadUrl},${live.url}`
          })
          assert.deepStrictEqual(client.instances, [deadUrl, live.url])
          assert.strictEqual(client.concurrency, 4, "two instances × two workers each")
          // two calls with one instance refusing: both answered; the dead one was tried once, then skipped
          for (let i = 0; i < 2; i++) yield* client.health()
          assert.deepStrictEqual(yield* client.stats, [
            { url: deadUrl, answered: 0, failed: 1 },
            { url: live.url, answered: 2, failed: 0 }
          ])

          // an instance that accepts connections and never answers: after the timeout the call goes to the other one, and
          // the next call skips it
          const silent = yield* Effect.acquireRelease(
            Effect.async<net.Server>((resume) => {
              const server = net.createServer(() => {})
              server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
            }),
            (server) => Effect.sync(() => server.close())
          )
          const silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`
          const patient = yield* makeForecastClient({
            ...live.connection({ retries: 0, timeout: Duration.seconds(2) }),
            url: `${silentUrl},${live.url}`
          })
          for (let i = 0; i < 2; i++) yield* patient.health()
          assert.deepStrictEqual(yield* patient.stats, [
            { url: silentUrl, answered: 0, failed: 1 },
            { url: live.url, answered: 2, failed: 0 }
          ])

          // none answers: one error naming each URL and why, with any credentials in a URL hidden and never the token
          const otherDead = `http://127.0.0.1:${yield* freeLoopbackPort}`
          const token = Redacted.value(live.token)
          const hopeless = yield* makeForecastClient({
            ...live.connection({ retries: 0 }),
            url: `${deadUrl}, http://ops:s3cret@${otherDead.slice("http://".length)}/`
          })
          const error: RServiceError = yield* Effect.flip(hopeless.health())
          assert.strictEqual(error.reason, "Transport")
          assert.include(error.message, "none of its 2 instances answered")
          assert.include(error.message, `${deadUrl}: connect ECONNREFUSED`)
          assert.include(error.message, `http://***@${otherDead.slice("http://".length)}: connect ECONNREFUSED`)
          assert.notInclude(error.message, "s3cret")
          assert.notInclude(error.message, token)
        }).pipe(Effect.scoped),
      { timeout: 60_000 }
    )

    it.effect(
      "growth: the fit and the per-student chunks spread over two brms instances; one killed mid-run, the same posterior is committed",
      () =>
        Effect.gen(function* () {
          const {
            brms: [a, b]
          } = yield* Instances
          const params = {
            asOf: LAST_DAY,
            lookbackWeeks: String(LOOKBACK_WEEKS),
            studentsPerRequest: "5",
            concurrency: "2"
          }

          // the reference: one instance
          const single = yield* Runner.run(fitBayesianGrowth, { params }).pipe(
            Effect.provide(BrmsClient.layer({ ...a.connection(), url: a.url }))
          )
          const expected = yield* posterior
          assert.isAbove(expected.length, 20)
          assert.isTrue(expected.every((row) => row.run_id === single.runId))
          const chunks = (yield* stageNotes(single.runId, "growthFit"))["studentChunks"] as {
            total: number
            answered: number
          }
          assert.strictEqual(chunks.total, Math.ceil(expected.length / 5))

          // two instances; b is killed as the client is about to send it its third chunk
          const before = { a: yield* answeredBy(a), b: yield* answeredBy(b) }
          const answeredBeforeKill: Array<number> = []
          const replicas = yield* Runner.run(fitBayesianGrowth, { params }).pipe(
            Effect.provide(BrmsClient.layer(replicated([a, b]))),
            Effect.provide(killingOnRequest(b, "/growth/predict", 3, answeredBeforeKill))
          )
          assert.lengthOf(answeredBeforeKill, 1, "b was killed mid-run")
          assert.isAtLeast(
            answeredBeforeKill[0]! - (before.b["/growth/predict"] ?? 0),
            1,
            "b answered chunks before it died"
          )
          const after = yield* answeredBy(a)
          assert.isAtLeast(after["/growth/predict"]! - (before.a["/growth/predict"] ?? 0), 1, "a answered chunks")

          // complete and identical: the same students with the same posterior, written by the second run
          const got = yield* posterior
          assert.isTrue(got.every((row) => row.run_id === replicas.runId))
          const strip = (rows: typeof got) => rows.map(({ run_id: _, ...rest }) => rest)
          assert.deepStrictEqual(strip(got), strip(expected))
          const notes = (yield* stageNotes(replicas.runId, "growthFit"))["studentChunks"] as {
            total: number
            answered: number
          }
          assert.deepStrictEqual([notes.total, notes.answered], [chunks.total, chunks.total])
        }),
      { timeout: 900_000 }
    )

    it.effect(
      "forecast: batches spread over two forecast instances; one killed mid-run, every series is still committed",
      () =>
        Effect.gen(function* () {
          const {
            forecast: [a, b]
          } = yield* Instances
          const params = { asOf: LAST_DAY, lookbackWeeks: String(LOOKBACK_WEEKS), batchSize: "8", concurrency: "2" }

          // counted independently of any run: every student with ≥ 4 I_t values in the lookback, plus the cohort series
          const sql = yield* SqlClient.SqlClient
          const eligible = yield* sql<{ user_id: string }>`
        SELECT user_id FROM weekly_kpi
        WHERE week_start BETWEEN ${seriesWeeks(LAST_DAY, LOOKBACK_WEEKS).firstWeek}::date
          AND ${seriesWeeks(LAST_DAY, LOOKBACK_WEEKS).lastWeek}::date
        GROUP BY user_id HAVING count(kpis ->> 'I_t') >= 4 ORDER BY user_id`
          assert.isAbove(eligible.length, 20)

          const before = { a: yield* answeredBy(a), b: yield* answeredBy(b) }
          const answeredBeforeKill: Array<number> = []
          const replicas = yield* Runner.run(forecastProphet, { params }).pipe(
            Effect.provide(ForecastClient.layer(replicated([a, b]))),
            Effect.provide(killingOnRequest(b, "/prophet/fit", 2, answeredBeforeKill))
          )
          assert.lengthOf(answeredBeforeKill, 1, "b was killed mid-run")
          assert.isAtLeast(
            answeredBeforeKill[0]! - (before.b["/prophet/fit"] ?? 0),
            1,
            "b answered a batch before it died"
          )
          const after = yield* answeredBy(a)
          assert.isAtLeast(after["/prophet/fit"]! - (before.a["/prophet/fit"] ?? 0), 1, "a answered batches")

          const got = yield* forecastRows
          assert.isTrue(got.every((row) => row.run_id === replicas.runId))
          assert.deepStrictEqual(
            got.map((r) => r.user_id),
            [null, ...eligible.map((e) => e.user_id)],
            "every series, once"
          )
          assert.isTrue(got.every((r) => r.status !== "failed"))
          const batches = (yield* stageNotes(replicas.runId, "forecasts"))["batches"] as {
            total: number
            answered: number
          }
          assert.strictEqual(batches.answered, batches.total)
        }),
      { timeout: 900_000 }
    )
  }
)
