/**
 * forecast-prophet on a generated cohort, the service's direct prophet path against prophet's own path
 * (`--prophet-path package`, the path measured at 940 s for 10,000 students before), in one run:
 *   npx tsx bench/forecast.ts [students=10000] [--reuse] [--no-reference]
 * Needs TEST_DATABASE_URL (its own database `seedtest_bench_forecast_<n>`; `--reuse` keeps the cohort and KPIs).
 * Two local forecast services (the machine's cores as workers each) answer the same pipeline in turn, direct first.
 * The run's as-of is 4 weeks before the cohort's end, so the 4 forecast weeks have the cohort's actual I_t: the bench
 * prints each path's wall time, the service's R time, and its intervals on the cohort — mean width of the forecast
 * band and how many actual values it covers — and the CPU seconds the service's processes (the service and its
 * workers) spent, which other load on a shared machine barely moves, unlike wall time. Prints; never asserts
 * (test/r-services/prophetPaths.test.ts asserts).
 */

import { readdirSync, readFileSync } from "node:fs"
import { SqlClient } from "@effect/sql"
import { Config, Duration, Effect, Layer } from "effect"
import { seedCohort } from "../cohort/Loader.ts"
import * as Runner from "../engine/Runner.ts"
import { RunStore } from "../engine/RunStore.ts"
import { computeDailyKpis } from "../pipelines/computeDailyKpis.ts"
import { forecastProphet } from "../pipelines/forecastProphet.ts"
import { ForecastClient } from "../stages/models/ForecastClient.ts"
import { platformLayer, startRService } from "../test/support/rServices.ts"
import { serverDatabase } from "./BenchDatabase.ts"

const args = process.argv.slice(2)
const students = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000)
const reuse = args.includes("--reuse")
const withReference = !args.includes("--no-reference")
const WEEKS = 16
const END = "2026-05-31"
/** 4 weeks before the end: the forecast weeks are in the cohort. */
const AS_OF = "2026-05-03"

const database = Layer.unwrapEffect(
  Effect.map(Config.redacted("TEST_DATABASE_URL"), (url) =>
    serverDatabase(url, `seedtest_bench_forecast_${students}`, reuse)
  )
)

/** Mean forecast band width and share of the cohort's actual I_t inside it, over every forecast week of the run. */
const intervals = (runId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ points: number; width: number; covered: number }>`
      SELECT count(*)::int AS points, avg((f ->> 'yhat_upper')::float8 - (f ->> 'yhat_lower')::float8) AS width,
             avg(CASE WHEN (k.kpis ->> 'I_t')::float8 BETWEEN (f ->> 'yhat_lower')::float8 AND (f ->> 'yhat_upper')::float8
                 THEN 1 ELSE 0 END) AS covered
      FROM prophet_fit_meta m
      CROSS JOIN LATERAL jsonb_array_elements(m.forecast) f
      JOIN weekly_kpi k ON k.user_id = m.user_id AND k.week_start = (f ->> 'week_start')::date
      WHERE m.run_id = ${runId} AND k.kpis ? 'I_t'`
    return row!
  })

/**
 * CPU seconds (user + system, including exited children) of every process in process group `group` (Linux /proc):
 * a local R service runs in its own group with the workers it starts.
 */
const groupCpuSeconds = (group: number) => {
  const ticksPerSecond = 100
  let ticks = 0
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // fields after the command name, which is in parentheses and may hold spaces
      const fields = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")
      if (Number(fields[2]) !== group) continue
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / ticksPerSecond
}

const measure = (label: string, path: "direct" | "package") =>
  Effect.gen(function* () {
    const service = yield* startRService("forecast", { args: ["--prophet-path", path] })
    const cpuBefore = groupCpuSeconds(service.pid)
    const started = performance.now()
    const result = yield* Runner.run(forecastProphet, {
      params: { asOf: AS_OF, timeoutSeconds: String(6 * 3600) },
      trigger: "test"
    }).pipe(Effect.provide(ForecastClient.layer(service.connection({ timeout: Duration.hours(6) }))))
    const wallSeconds = (performance.now() - started) / 1000
    const cpuSeconds = groupCpuSeconds(service.pid) - cpuBefore
    const notes = result.stages.find((s) => s.name === "forecasts")?.notes as Record<string, unknown> | undefined
    const rSeconds = Number(notes?.["rSeconds"] ?? 0)
    const statuses = JSON.stringify(notes?.["statuses"])
    const band = yield* intervals(result.runId)
    const series = Object.values((notes?.["statuses"] ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0)
    console.log(
      `${label}: ${wallSeconds.toFixed(1)} s wall, R ${rSeconds.toFixed(1)} s (summed over batches), ` +
        `R CPU ${cpuSeconds.toFixed(1)} s (${((1000 * cpuSeconds) / series).toFixed(1)} ms a series), ` +
        `statuses ${statuses}; forecast band width ${band.width.toFixed(4)}, ` +
        `coverage of actual I_t ${(100 * band.covered).toFixed(1)}% (${band.points} points)`
    )
    return { wallSeconds, cpuSeconds, band }
  }).pipe(Effect.scoped)

const main = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const [kpis] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM weekly_kpi`
  if (!reuse || kpis!.n === 0) {
    const cohort = yield* seedCohort({ students, weeks: WEEKS, seed: 2026, endDate: END })
    console.log(`seeded ${cohort.students} students, ${cohort.attempts.toLocaleString()} attempts`)
    yield* Runner.run(computeDailyKpis, { params: { asOf: END, lookbackDays: String(WEEKS * 7) }, trigger: "test" })
  }
  console.log(`forecast-prophet, ${students.toLocaleString()} students, as of ${AS_OF}`)
  const direct = yield* measure("direct path (default)", "direct")
  if (!withReference) return
  const reference = yield* measure("package path (prophet() + predict(), as before)", "package")
  console.log(
    `direct / package: wall ${(direct.wallSeconds / reference.wallSeconds).toFixed(3)}, ` +
      `R CPU ${(direct.cpuSeconds / reference.cpuSeconds).toFixed(3)}, ` +
      `band width ${(direct.band.width / reference.band.width).toFixed(3)}, ` +
      `coverage ${(100 * (direct.band.covered - reference.band.covered)).toFixed(1)} points`
  )
})

main
  .pipe(
    Effect.provide(RunStore.Default.pipe(Layer.provideMerge(database))),
    Effect.provide(platformLayer),
    Effect.runPromise
  )
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
