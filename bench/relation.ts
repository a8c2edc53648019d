/**
 * A relation sink against its baseline, the same rows through Node:
 *   npx tsx bench/relation.ts [students] [--rounds N]
 * On the generated cohort of `seedtest_bench_<students>` (made by bench/pipelines.ts, or seeded here when that database
 * has none; default 1000), runs
 * `aggregate-features-daily` as it ships (the topic-day relation written by one INSERT … SELECT) and a copy whose source
 * materialises the same SQL's rows in Node (decoded with the same schema) and hands them to the same writer (chunked
 * jsonb upserts), alternating, each after a VACUUM of the table so both write into the same table state. Prints each
 * round's wall time and this process's CPU time (Node's own work), the medians, and ours ÷ baseline.
 * Needs TEST_DATABASE_URL.
 */
import { SqlClient } from "@effect/sql"
import { Config, Effect, Layer, Schema } from "effect"
import { seedCohort } from "../cohort/Loader.ts"
import { FeatureSettings } from "../config/KpiSettings.ts"
import { addDays } from "../engine/Calendar.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Relation from "../engine/Relation.ts"
import * as Runner from "../engine/Runner.ts"
import { RunStore } from "../engine/RunStore.ts"
import { aggregateFeaturesDaily } from "../pipelines/aggregateFeaturesDaily.ts"
import { FeaturesTopicDailySink } from "../sinks/FeaturesTopicDailySink.ts"
import { topicDays } from "../sources/TopicFeaturesQuery.ts"
import { serverDatabase } from "./BenchDatabase.ts"

const args = process.argv.slice(2)
const students = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000)
const rounds = args.includes("--rounds") ? Number(args[args.indexOf("--rounds") + 1]) : 3
const params = { asOf: "2026-05-31", lookbackDays: String(16 * 7) }

/** The baseline: the same SQL, its rows decoded in Node and upserted in chunks by the same writer. */
const throughNode = Pipeline.make({ name: "features-through-node", description: "baseline", params: FeatureSettings })
  .source("topicDays", {
    description: "the relation's rows, materialised",
    reads: aggregateFeaturesDaily.stages[0]!.reads,
    output: Schema.Array(Schema.Unknown),
    run: ({ params }) =>
      Effect.gen(function* () {
        const relation = yield* topicDays({
          firstDay: addDays(params.asOf, -params.lookbackDays),
          scanTo: addDays(params.asOf, 1)
        })
        const rows = yield* Relation.select(relation)
        return yield* Schema.decodeUnknown(Schema.Array(relation.row))(rows)
      })
  })
  .sink("featuresTopicDaily", {
    description: "chunked jsonb upserts",
    inputs: ["topicDays"],
    writer: FeaturesTopicDailySink,
    rows: ({ topicDays }) => topicDays as ReadonlyArray<never>
  })

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const measure = (pipeline: Pipeline.Any) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`VACUUM (ANALYZE) features_topic_daily`
    const cpu = process.cpuUsage()
    const started = performance.now()
    const result = yield* Runner.run(pipeline, { params, trigger: "test" }) as Effect.Effect<
      Runner.RunResult,
      unknown,
      never
    >
    const used = process.cpuUsage(cpu)
    return {
      wallMs: performance.now() - started,
      nodeCpuMs: (used.user + used.system) / 1000,
      written: result.sinks[0]!.updated + result.sinks[0]!.inserted
    }
  })

const main = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const seeded =
    (yield* sql<{ n: number }>`SELECT count(*)::int4 AS n FROM cohort_meta`.pipe(
      Effect.orElseSucceed(() => [{ n: 0 }])
    ))[0]!.n > 0
  if (!seeded) {
    // the cohort bench/pipelines.ts generates for this size
    const cohort = yield* seedCohort({ students, weeks: 16, seed: 2026, endDate: params.asOf })
    console.log(`seeded ${cohort.students} students, ${cohort.attempts.toLocaleString()} attempts`)
  }
  const results = {
    relation: [] as Array<{ wallMs: number; nodeCpuMs: number }>,
    throughNode: [] as Array<{ wallMs: number; nodeCpuMs: number }>
  }
  for (let round = 1; round <= rounds; round++) {
    for (const [name, pipeline] of [
      ["relation", aggregateFeaturesDaily],
      ["throughNode", throughNode]
    ] as const) {
      const r = yield* measure(pipeline)
      results[name].push(r)
      console.log(
        `round ${round} ${name.padEnd(11)}: ${(r.wallMs / 1000).toFixed(2)} s wall, ${(r.nodeCpuMs / 1000).toFixed(2)} s Node CPU, ${r.written.toLocaleString()} rows`
      )
    }
  }
  const wall = (name: keyof typeof results) => median(results[name].map((r) => r.wallMs))
  const cpu = (name: keyof typeof results) => median(results[name].map((r) => r.nodeCpuMs))
  console.log(
    `\nmedian of ${rounds}: relation ${(wall("relation") / 1000).toFixed(2)} s, through Node ${(wall("throughNode") / 1000).toFixed(2)} s`
  )
  console.log(
    `relation ÷ through Node: wall ${(wall("relation") / wall("throughNode")).toFixed(2)}×, Node CPU ${(cpu("relation") / cpu("throughNode")).toFixed(2)}×`
  )
})

main
  .pipe(
    Effect.provide(
      RunStore.Default.pipe(
        Layer.provideMerge(
          Layer.unwrapEffect(
            Effect.map(Config.redacted("TEST_DATABASE_URL"), (url) =>
              serverDatabase(url, `seedtest_bench_${students}`, true)
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
