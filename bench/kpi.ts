/**
 * The KPI pipeline against its floor, on a generated 10,000-student × 16-week cohort:
 *   npx tsx bench/kpi.ts [students] [weeks] [--reuse]
 * (`--reuse`: keep the cohort of the previous run in seedtest_bench instead of generating it again)
 * Uses a fresh database `seedtest_bench` on the server of TEST_DATABASE_URL when it is set, else the embedded
 * database (in memory). Prints cohort generation throughput, the floor (one plain GROUP BY student, week pass over
 * attempt), the KPI pipeline (whole run, and its SQL source alone), their ratio, and Node's peak RSS.
 */

import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import { Config, Effect, Layer, Option } from "effect"
import { seedCohort } from "../cohort/Loader.ts"
import * as Runner from "../engine/Runner.ts"
import { RunStore } from "../engine/RunStore.ts"
import { aggregateFeaturesDaily } from "../pipelines/aggregateFeaturesDaily.ts"
import { computeDailyKpis } from "../pipelines/computeDailyKpis.ts"
import * as Database from "../sources/Database.ts"
import { serverDatabase } from "./BenchDatabase.ts"

const students = Number(process.argv[2] ?? 10_000)
const weeks = Number(process.argv[3] ?? 16)
const LAST_DAY = "2026-05-31"
const reuse = process.argv.includes("--reuse") || process.argv.includes("--memory")
// `--memory` (used by the bench itself): one KPI run in a fresh process, reporting that process's peak RSS, so the
// number is the pipeline's and not the floor's rows or the seeding's
const memoryProbe = process.argv.includes("--memory")

const benchDatabase = Layer.unwrapScoped(
  Effect.map(Config.option(Config.redacted("TEST_DATABASE_URL")), (url) =>
    Option.isNone(url)
      ? Database.migrated(Database.layerEmbedded(undefined))
      : serverDatabase(url.value, "seedtest_bench", reuse)
  )
)

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const value = yield* effect
    return { value, millis: performance.now() - start }
  })

const floor = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql`
    SELECT student_id, date_trunc('week', started_at) AS week, count(*) AS n, avg(correct::int) AS accuracy
    FROM attempt GROUP BY student_id, date_trunc('week', started_at)`
})

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`

/**
 * CPU seconds used so far by the server processes of this database's connections (PostgreSQL on this machine:
 * read from /proc; NaN elsewhere). Unlike wall time it barely moves when other work shares the machine.
 */
const databaseCpuSeconds = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const pids = yield* sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`
  let ticks = 0
  for (const { pid } of pids) {
    if (!existsSync(`/proc/${pid}/stat`)) return Number.NaN
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /, "")
      .split(" ")
    ticks += Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15 of stat)
  }
  return ticks / 100
})

/** `effect` with the database CPU seconds it used. */
const withCpu = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const before = yield* databaseCpuSeconds
    const value = yield* effect
    return { value, cpu: (yield* databaseCpuSeconds) - before }
  })

const main = Effect.gen(function* () {
  if (!reuse)
    yield* seedCohort({ students, weeks, seed: 2026, endDate: LAST_DAY }).pipe(
      Effect.flatMap((seeded) =>
        Effect.sync(() =>
          console.log(
            `cohort: ${seeded.students} students × ${seeded.weeks} weeks, ${seeded.attempts.toLocaleString()} attempts, ${seeded.sessions.toLocaleString()} sessions in ${(seeded.millis / 1000).toFixed(1)} s → ${Math.round(seeded.attemptsPerSecond).toLocaleString()} attempts/s`
          )
        )
      )
    )
  console.log(`peak RSS after seeding: ${mb(process.resourceUsage().maxRSS)}`)
  const params = { asOf: LAST_DAY }
  // one warm-up of each, then the measured runs, alternating so cache state is shared fairly
  yield* floor
  const floors: Array<number> = []
  const floorCpu: Array<number> = []
  const runs: Array<{ total: number; source: number; cpu: number }> = []
  for (let i = 0; i < 3; i++) {
    const f = yield* withCpu(timed(floor))
    floors.push(f.value.millis)
    floorCpu.push(f.cpu)
    const r = yield* withCpu(timed(Runner.run(computeDailyKpis, { params, trigger: "test" })))
    runs.push({
      total: r.value.millis,
      source: r.value.value.stages.find((s) => s.name === "windows")?.millis ?? Number.NaN,
      cpu: r.cpu
    })
  }
  const best = (xs: ReadonlyArray<number>) => Math.min(...xs)
  const floorMs = best(floors)
  const totalMs = best(runs.map((r) => r.total))
  const sourceMs = best(runs.map((r) => r.source))
  console.log(
    `floor (GROUP BY student, week over all attempts): ${floorMs.toFixed(0)} ms (runs: ${floors.map((x) => x.toFixed(0)).join(", ")})`
  )
  console.log(
    `compute-daily-kpis, whole run incl. the weekly_kpi upsert: ${totalMs.toFixed(0)} ms → ${(totalMs / floorMs).toFixed(2)}× the floor (runs: ${runs.map((r) => r.total.toFixed(0)).join(", ")})`
  )
  console.log(
    `compute-daily-kpis, the set-based SQL source alone: ${sourceMs.toFixed(0)} ms → ${(sourceMs / floorMs).toFixed(2)}× the floor`
  )
  const cpuFloor = best(floorCpu)
  const cpuRun = best(runs.map((r) => r.cpu))
  console.log(
    `database CPU: floor ${cpuFloor.toFixed(2)} s, compute-daily-kpis ${cpuRun.toFixed(2)} s → ${(cpuRun / cpuFloor).toFixed(2)}× (runs: ${runs.map((r) => r.cpu.toFixed(2)).join(", ")}; less sensitive to other load than wall time)`
  )
  const features = yield* timed(Runner.run(aggregateFeaturesDaily, { params: { asOf: LAST_DAY }, trigger: "test" }))
  console.log(
    `aggregate-features-daily (7 days): ${features.millis.toFixed(0)} ms, ${features.value.sinks[0]?.inserted} rows`
  )
  console.log(`Node peak RSS of this process (seeding, floors, runs): ${mb(process.resourceUsage().maxRSS)}`)
  const probe = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), String(students), String(weeks), "--memory"],
    {
      encoding: "utf8",
      env: process.env
    }
  )
  console.log(probe.stdout.trim() || probe.stderr.trim())
})

const memory = Effect.gen(function* () {
  const baseline = process.resourceUsage().maxRSS
  const run = yield* timed(Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY }, trigger: "test" }))
  console.log(
    `compute-daily-kpis alone in a fresh process: peak RSS ${mb(process.resourceUsage().maxRSS)} (${mb(baseline)} before the run: ` +
      `Node, tsx and the modules), ${run.value.stages.find((s) => s.name === "windows")?.rows} KPI rows, ${(run.millis / 1000).toFixed(1)} s`
  )
})

Effect.runPromise(
  (memoryProbe ? memory : main).pipe(Effect.provide(Layer.provideMerge(RunStore.Default, benchDatabase)), Effect.scoped)
).catch((e) => {
  console.error(e)
  process.exitCode = 1
})
