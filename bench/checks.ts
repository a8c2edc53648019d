/**
 * What data checks cost a run's commit:
 *   npx tsx bench/checks.ts [rows] [--rounds N]
 * Writes `rows` (default 50,000) student-weeks of weekly_kpi-shaped rows (a jsonb of nine KPI keys) into a scratch
 * table, with the KPI pipeline's checks (P, I_t and churn_heuristic ranges, one row per key, row-count band) and
 * without, alternating, each after a TRUNCATE. Prints each round's sink time (rows loaded into the check table,
 * checks, write) and the medians. Needs TEST_DATABASE_URL (a scratch database `seedtest_bench_checks`).
 */
import { SqlClient } from "@effect/sql"
import { Config, Effect, Layer, Schema } from "effect"
import * as Check from "../engine/Check.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Runner from "../engine/Runner.ts"
import { RunStore } from "../engine/RunStore.ts"
import * as TableWriter from "../sinks/TableWriter.ts"
import { serverDatabase } from "./BenchDatabase.ts"

const args = process.argv.slice(2)
const rows = Number(args.find((a) => /^\d+$/.test(a)) ?? 50_000)
const rounds = args.includes("--rounds") ? Number(args[args.indexOf("--rounds") + 1]) : 3

interface KpiRow extends Record<string, unknown> {
  readonly user_id: string
  readonly week_start: string
  readonly kpis: Readonly<Record<"P" | "I_t" | "E_t" | "R_t" | "A_t" | "sigma" | "churn_heuristic", number>>
}

const writer = TableWriter.upsert<KpiRow>({
  table: "bench_check_kpi",
  key: ["user_id", "week_start"],
  columns: { user_id: "text", week_start: "date", kpis: "jsonb" },
  merge: ["kpis"]
})

const weeks = ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
const generated: ReadonlyArray<KpiRow> = Array.from({ length: rows }, (_, i) => ({
  user_id: `u${Math.floor(i / weeks.length)}`,
  week_start: weeks[i % weeks.length]!,
  kpis: { P: (i % 97) / 96, I_t: ((i % 41) - 20) / 20, E_t: 0.3, R_t: 0.5, A_t: 0.6, sigma: 0.1, churn_heuristic: 0.2 }
}))

const kpiChecks = [
  Check.inRange<KpiRow>("kpis.P", 0, 1),
  Check.inRange<KpiRow>("kpis.I_t", -1, 1),
  Check.inRange<KpiRow>("kpis.churn_heuristic", 0, 1),
  Check.uniqueKey<KpiRow>(["user_id", "week_start"]),
  Check.rowCountNearPrevious<KpiRow>(3)
]

const pipeline = (checks: ReadonlyArray<Check.Check<KpiRow>>) =>
  Pipeline.make({ name: `bench-checks-${checks.length}`, description: "bench", params: {} })
    .source("kpis", {
      description: "generated rows",
      reads: [],
      output: Schema.Array(Schema.Unknown),
      run: () => Effect.succeed(generated)
    })
    .sink("write", {
      description: "weekly_kpi-shaped upsert",
      inputs: ["kpis"],
      writer,
      rows: ({ kpis }) => kpis as ReadonlyArray<KpiRow>,
      checks
    })

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const main = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS bench_check_kpi (user_id text, week_start date, kpis jsonb NOT NULL,
                                                         PRIMARY KEY (user_id, week_start))`
  const times = { with: [] as Array<number>, without: [] as Array<number> }
  for (let round = 1; round <= rounds; round++) {
    for (const variant of ["without", "with"] as const) {
      yield* sql`TRUNCATE bench_check_kpi`
      const result = yield* Runner.run(pipeline(variant === "with" ? kpiChecks : []), { trigger: "test" })
      const sinkMs = result.stages.find((s) => s.name === "write")!.millis!
      times[variant].push(sinkMs)
      console.log(`round ${round} ${variant.padEnd(7)} checks: sink ${(sinkMs / 1000).toFixed(2)} s for ${rows} rows`)
    }
  }
  const w = median(times.with)
  const wo = median(times.without)
  console.log(
    `\nmedian of ${rounds}: with checks ${(w / 1000).toFixed(2)} s, without ${(wo / 1000).toFixed(2)} s; ` +
      `the checks add ${((w - wo) / 1000).toFixed(2)} s (${(((w - wo) / rows) * 1000).toFixed(1)} µs per row)`
  )
})

main
  .pipe(
    Effect.provide(
      RunStore.Default.pipe(
        Layer.provideMerge(
          Layer.unwrapEffect(
            Effect.map(Config.redacted("TEST_DATABASE_URL"), (url) =>
              serverDatabase(url, "seedtest_bench_checks", false)
            )
          )
        )
      )
    ),
    Effect.runPromise
  )
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
