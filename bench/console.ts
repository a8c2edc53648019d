/**
 * The console on a long history (issue 12; target: every page under 200 ms of server time): 10,000 runs in
 * pipeline_run (with stage records like real ones) and two weeks of scheduler slots, then each page requested 20
 * times from the console served on a loopback port in this process. Prints median and p95 per page.
 * Against PostgreSQL with TEST_DATABASE_URL, else the embedded database. Run: `npx tsx bench/console.ts [runs=10000]`.
 */

import { createServer } from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Console, Context, Effect, Either, Layer, Option, Redacted } from "effect"
import * as Schedule from "../config/schedule.ts"
import * as ConsoleApp from "../console/ConsoleApp.ts"
import { ConsoleRunFailed } from "../console/ConsoleOptions.ts"
import { ConsoleStore } from "../console/ConsoleStore.ts"
import * as Registry from "../engine/Registry.ts"
import { RunStore } from "../engine/RunStore.ts"
import { pipelines } from "../pipelines/registry.ts"
import * as Database from "../sources/Database.ts"
import { serverDatabase } from "./BenchDatabase.ts"

const RUNS = Number(process.argv[2] ?? 10_000)
const REPEAT = 20

const url = process.env.TEST_DATABASE_URL
// on a server: a database of its own (dropped and made afresh), never the one the tests are given
const db =
  url === undefined
    ? Database.migrated(Database.layerEmbedded(undefined))
    : serverDatabase(Redacted.make(url), "seedtest_bench_console", false)

// a finished run's stages as the runner records them
const stages = JSON.stringify(
  ["windows", "outOfRange", "growthPosterior", "kpis", "weeklyKpi"].map((name, i) => ({
    name,
    kind: i === 4 ? "sink" : i === 3 ? "transform" : "source",
    status: "succeeded",
    startedAt: null,
    millis: 100 * (i + 1),
    rows: 240,
    attempts: 1,
    notes: { counts: { a: i, b: 2 * i } },
    error: null
  }))
)

const fill = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const names = pipelines.map((p) => p.name)
  yield* sql`DELETE FROM pipeline_run`
  yield* sql`DELETE FROM schedule_slot`
  yield* sql`
    INSERT INTO pipeline_run (id, pipeline, params, trigger, slot, status, started_at, finished_at, heartbeat_at, stages, sinks, error)
    SELECT 'run_bench_' || lpad(i::text, 6, '0'),
           (${JSON.stringify(names)}::jsonb ->> (i % ${names.length})),
           '{"asOf":"2026-11-23"}'::jsonb,
           (ARRAY['manual','schedule','backfill'])[1 + i % 3],
           NULL,
           CASE WHEN i % 17 = 0 THEN 'failed' WHEN i > ${RUNS} - 3 THEN 'running' ELSE 'succeeded' END,
           now() - make_interval(mins => (${RUNS} - i) * 7),
           CASE WHEN i > ${RUNS} - 3 THEN NULL ELSE now() - make_interval(mins => (${RUNS} - i) * 7) + make_interval(secs => 2 + i % 40) END,
           now(),
           ${stages}::jsonb,
           '[{"target":"weekly_kpi","inserted":240,"updated":0,"deleted":0}]'::jsonb,
           CASE WHEN i % 17 = 0 THEN '{"tag":"StageFailed","reason":"Failed","stage":"kpis","message":"the R service answered 500"}'::jsonb END
    FROM generate_series(1, ${RUNS}) AS i`
  yield* sql`
    INSERT INTO schedule_slot (pipeline, slot, status, attempts, updated_at, detail)
    SELECT p, date_trunc('day', now()) - make_interval(days => d) + interval '2 hours', CASE WHEN d % 5 = 0 THEN 'skipped' ELSE 'succeeded' END, 1, now(),
           CASE WHEN d % 5 = 0 THEN 'catch-up: a later fire ran' END
    FROM unnest(${`{${names.join(",")}}`}::text[]) AS p, generate_series(0, 13) AS d`
})

const percentile = (xs: ReadonlyArray<number>, q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!

const main = Effect.gen(function* () {
  const registry = Either.getOrThrow(Registry.make(pipelines))
  const schedule = yield* Schedule.load(Schedule.defaultFile, registry.order)
  yield* Console.log(
    `filling ${RUNS.toLocaleString("en")} runs (${url === undefined ? "embedded database" : "PostgreSQL"}) …`
  )
  yield* fill
  const context = yield* Effect.context<SqlClient.SqlClient | RunStore>()
  const refuse = (name: string) =>
    Effect.fail(new ConsoleRunFailed({ pipeline: name, message: "the bench runs nothing" }))
  const app = ConsoleApp.router({
    registry,
    schedule,
    reportsRoot: path.join(os.tmpdir(), "seedtest-bench-no-reports"),
    token: Option.none(),
    runner: { run: (p) => refuse(p.name), dryRun: (p) => refuse(p.name) },
    csrfSecret: "bench"
  })
  const built = yield* Layer.build(
    HttpServer.serve(app).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
      Layer.provide(ConsoleStore.Default),
      Layer.provide(Layer.succeedContext(context))
    )
  )
  const base = HttpServer.formatAddress(Context.get(built, HttpServer.HttpServer).address)
  const pages = [
    "/",
    "/pipelines/compute-daily-kpis",
    "/runs",
    "/runs?status=failed&pipeline=compute-daily-kpis",
    `/runs?page=${Math.floor(RUNS / 50 / 2)}`,
    "/runs?fragment=1",
    "/runs/run_bench_000500",
    "/schedule",
    "/models",
    "/reports"
  ]
  yield* Console.log(
    `page                                              median     p95   (${REPEAT} requests after 3 warm-ups)`
  )
  for (const page of pages) {
    const times: Array<number> = []
    for (let i = 0; i < REPEAT + 3; i++) {
      const started = performance.now()
      const response = yield* Effect.promise(() => fetch(base + page))
      yield* Effect.promise(() => response.text())
      if (response.status !== 200) yield* Console.log(`${page}: HTTP ${response.status}`)
      if (i >= 3) times.push(performance.now() - started)
    }
    yield* Console.log(
      `${page.padEnd(48)} ${percentile(times, 0.5).toFixed(1).padStart(7)} ms ${percentile(times, 0.95).toFixed(1).padStart(7)} ms`
    )
  }
}).pipe(Effect.scoped, Effect.provide(RunStore.Default.pipe(Layer.provideMerge(db))))

Effect.runPromise(main).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
