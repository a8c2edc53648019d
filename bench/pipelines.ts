/**
 * Where each model pipeline's time goes, on generated cohorts of 1,000 and 10,000 students × 16 weeks:
 *   npx tsx bench/pipelines.ts [students…] [--reuse] [--only name,name] [--last name,name] [--db-prefix name]
 * (default sizes: 1000 10000; `--reuse`: keep the cohort (and KPIs) of a previous run in seedtest_bench_<n>;
 * `--db-prefix`: another name than seedtest_bench, so two people's benches on one server do not drop each other's)
 *
 * Needs TEST_DATABASE_URL (a PostgreSQL server; each size gets its own database `seedtest_bench_<n>`). Starts the
 * three R services locally (or uses R_*_URL), warms them up, then runs the pipelines in dependency order with a
 * tracer that records every span. Each run's wall time is split into:
 *   - database: the union of the stages' `sql.execute` spans (statement round trip: execution, wire, row parsing);
 *     the run record's statements on `pipeline_run` (start, heartbeats, finish) are listed apart, as framework time
 *   - R: the R service's own time per call (its `Server-Timing` header: parsing, validation, the model, serialising),
 *     with the model fit alone (the `timing` in its answer, recorded by the stage) in brackets
 *   - transport: the model stages' wall time minus R (JSON encoding, HTTP, plumber parsing and validation, decoding)
 *   - Node: everything else (engine, transforms, Schema decoding of rows, sink row building)
 * and the framework's share is (wall − database − R) / wall: everything but SQL execution and R computation.
 * Prints one table per size, then how each part grows from the smallest to the largest size.
 */
import { SqlClient } from "@effect/sql"
import { Config, Effect, Layer, Option, Tracer } from "effect"
import { RServicesLayer } from "../cli/RServices.ts"
import { seedCohort } from "../cohort/Loader.ts"
import * as Runner from "../engine/Runner.ts"
import { RunStore } from "../engine/RunStore.ts"
import { aggregateFeaturesDaily } from "../pipelines/aggregateFeaturesDaily.ts"
import { clusterSegments } from "../pipelines/clusterSegments.ts"
import { computeDailyKpis } from "../pipelines/computeDailyKpis.ts"
import { fitBayesianGrowth } from "../pipelines/fitBayesianGrowth.ts"
import { fitSurvivalChurn } from "../pipelines/fitSurvivalChurn.ts"
import { forecastProphet } from "../pipelines/forecastProphet.ts"
import { BrmsClient } from "../stages/models/BrmsClient.ts"
import { ClusterClient } from "../stages/models/ClusterClient.ts"
import { ForecastClient } from "../stages/models/ForecastClient.ts"
import { serverDatabase } from "./BenchDatabase.ts"

const args = process.argv.slice(2)
const sizes = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== "--db-prefix").map(Number)
const reuse = args.includes("--reuse")
const only = args.includes("--only") ? args[args.indexOf("--only") + 1]!.split(",") : undefined
const dbPrefix = args.includes("--db-prefix") ? args[args.indexOf("--db-prefix") + 1]! : "seedtest_bench"
const WEEKS = 16
const AS_OF = "2026-05-31"

/** A span that has ended: its name, its ancestors' names, its interval in ms, its attributes. */
interface Ended {
  readonly name: string
  readonly ancestors: ReadonlyArray<string>
  readonly start: number
  readonly end: number
  readonly attributes: ReadonlyMap<string, unknown>
}

const namesOf = (span: Option.Option<Tracer.AnySpan>): Array<string> => {
  const names: Array<string> = []
  let current = span
  while (Option.isSome(current) && current.value._tag === "Span") {
    names.push(current.value.name)
    current = current.value.parent
  }
  return names
}

/** A tracer that delegates to `base` and records every span when it ends. */
const recordingTracer = (base: Tracer.Tracer, ended: Array<Ended>): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      const end = span.end.bind(span)
      return Object.assign(span, {
        end: (endTime: bigint, exit: Parameters<Tracer.Span["end"]>[1]) => {
          ended.push({
            name,
            ancestors: namesOf(parent),
            start: Number(startTime) / 1e6,
            end: Number(endTime) / 1e6,
            attributes: span.attributes
          })
          end(endTime, exit)
        }
      })
    },
    context: (f, fiber) => base.context(f, fiber)
  })

/** Total length of the union of intervals (overlapping concurrent work counts once). */
const unionMs = (intervals: ReadonlyArray<readonly [number, number]>) => {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0])
  let total = 0
  let [from, to] = sorted[0] ?? [0, 0]
  for (const [s, e] of sorted.slice(1)) {
    if (s > to) {
      total += to - from
      from = s
      to = e
    } else to = Math.max(to, e)
  }
  return total + (to - from)
}

/** R seconds a stage recorded: a number, or an object with `total_seconds` (brms reports its phases too). */
const rSecondsOf = (notes: Readonly<Record<string, unknown>> | undefined): number => {
  const value = notes?.["rSeconds"]
  if (typeof value === "number") return value
  if (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { total_seconds?: unknown }).total_seconds === "number"
  ) {
    return (value as { total_seconds: number }).total_seconds
  }
  return 0
}

interface Split {
  readonly pipeline: string
  readonly wallMs: number
  readonly dbMs: number
  readonly runRecordMs: number
  readonly rMs: number
  readonly fitMs: number
  readonly transportMs: number
  readonly nodeMs: number
  readonly rows: string
}

const benchDatabase = (students: number) =>
  Layer.unwrapEffect(
    Effect.map(Config.redacted("TEST_DATABASE_URL"), (url) => serverDatabase(url, `${dbPrefix}_${students}`, reuse))
  )

const pipelines = [
  // a first load over the whole generated history, as the main job does, so the models have 12+ weeks of KPIs
  { pipeline: computeDailyKpis, params: { asOf: AS_OF, lookbackDays: String(WEEKS * 7) } },
  { pipeline: aggregateFeaturesDaily, params: { asOf: AS_OF, lookbackDays: String(WEEKS * 7) } },
  { pipeline: fitBayesianGrowth, params: { asOf: AS_OF, timeoutSeconds: String(6 * 3600) } },
  { pipeline: forecastProphet, params: { asOf: AS_OF, timeoutSeconds: String(6 * 3600) } },
  { pipeline: fitSurvivalChurn, params: { asOf: AS_OF } },
  { pipeline: clusterSegments, params: { asOf: AS_OF } }
] as const

// `--last name,name`: run these after the others (the long fits last, so the quick ones are measured first)
const last = args.includes("--last") ? args[args.indexOf("--last") + 1]!.split(",") : []
const ordered = [
  ...pipelines.filter((p) => !last.includes(p.pipeline.name)),
  ...pipelines.filter((p) => last.includes(p.pipeline.name))
]

const measure = (entry: (typeof pipelines)[number]) =>
  Effect.gen(function* () {
    const ended: Array<Ended> = []
    const base = yield* Effect.tracer
    const result = yield* (
      Runner.run(entry.pipeline, { params: entry.params, trigger: "test" }) as Effect.Effect<
        Runner.RunResult,
        unknown,
        never
      >
    ).pipe(Effect.withTracer(recordingTracer(base, ended)))
    const root = ended.find((s) => s.name === `pipeline ${entry.pipeline.name}`)!
    const sqlSpans = ended.filter((s) => s.name === "sql.execute")
    const runRecord = sqlSpans.filter((s) => String(s.attributes.get("db.query.text") ?? "").includes("pipeline_run"))
    const modelStages = ended.filter((s) => s.name.startsWith("stage ") && s.attributes.get("kind") === "model")
    const fitMs =
      1000 *
      result.stages.reduce((sum, stage) => sum + rSecondsOf(stage.notes as Record<string, unknown> | undefined), 0)
    const serverMs = ended
      .filter((s) => s.name === "RServiceClient.call")
      .reduce((sum, s) => sum + Number(s.attributes.get("r.server_ms") ?? 0), 0)
    const rMs = Math.max(serverMs, fitMs)
    const modelMs = unionMs(modelStages.map((s) => [s.start, s.end]))
    // the run record (start, heartbeats while R computes, finish) is the engine's bookkeeping: shown apart, and
    // counted as framework time where it does not overlap the stages' own work
    const stageSql = sqlSpans.filter((s) => !runRecord.includes(s))
    const dbMs = unionMs(stageSql.map((s) => [s.start, s.end]))
    const busyMs = unionMs([...stageSql, ...modelStages].map((s) => [s.start, s.end]))
    const wallMs = root.end - root.start
    return {
      pipeline: entry.pipeline.name,
      wallMs,
      dbMs,
      runRecordMs: unionMs(runRecord.map((s) => [s.start, s.end])),
      rMs,
      fitMs,
      transportMs: Math.max(0, modelMs - rMs),
      nodeMs: wallMs - busyMs,
      rows: result.sinks.map((s) => `${s.target} +${s.inserted} ~${s.updated} -${s.deleted}`).join(", ")
    } satisfies Split
  })

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const share = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`

const printTable = (students: number, splits: ReadonlyArray<Split>, header = true) => {
  if (header) {
    console.log(`\n${students.toLocaleString()} students × ${WEEKS} weeks`)
    console.log(
      ["pipeline", "wall", "database", "(run record)", "R", "transport", "Node", "framework share", "dominant"].join(
        " | "
      )
    )
  }
  for (const s of splits) {
    const parts = { database: s.dbMs, R: s.rMs, transport: s.transportMs, Node: s.nodeMs }
    const dominant = Object.entries(parts).sort((a, b) => b[1] - a[1])[0]![0]
    console.log(
      [
        s.pipeline,
        seconds(s.wallMs),
        `${seconds(s.dbMs)} (${share(s.dbMs, s.wallMs)})`,
        `${(s.runRecordMs).toFixed(0)} ms`,
        `${seconds(s.rMs)} (${share(s.rMs, s.wallMs)}; fit ${seconds(s.fitMs)})`,
        `${seconds(s.transportMs)} (${share(s.transportMs, s.wallMs)})`,
        `${seconds(s.nodeMs)} (${share(s.nodeMs, s.wallMs)})`,
        share(s.transportMs + s.nodeMs, s.wallMs),
        dominant
      ].join(" | ")
    )
    console.log(`    wrote: ${s.rows}`)
  }
}

/** log10 of the growth ratio over a tenfold cohort: 1 = linear, < 1 sub-linear. */
const exponent = (small: number, large: number, factor: number) =>
  (Math.log(large / small) / Math.log(factor)).toFixed(2)

const main = Effect.gen(function* () {
  // start the R services the selected pipelines call, and let brms load its compiled template before anything is timed
  const selected = (...names: Array<string>) => only === undefined || names.some((n) => only.includes(n))
  yield* Effect.all(
    [
      selected(fitBayesianGrowth.name) ? Effect.flatMap(BrmsClient, (c) => c.health()) : Effect.void,
      selected(forecastProphet.name, fitSurvivalChurn.name)
        ? Effect.flatMap(ForecastClient, (c) => c.health())
        : Effect.void,
      selected(clusterSegments.name) ? Effect.flatMap(ClusterClient, (c) => c.health()) : Effect.void
    ],
    { concurrency: "unbounded" }
  )
  const results = new Map<number, ReadonlyArray<Split>>()
  for (const students of sizes.length > 0 ? sizes : [1000, 10_000]) {
    const splits = yield* Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const seeded =
        (yield* sql<{ n: number }>`SELECT count(*)::int4 AS n FROM cohort_meta`.pipe(
          Effect.orElseSucceed(() => [{ n: 0 }])
        ))[0]!.n > 0
      if (!reuse || !seeded) {
        const cohort = yield* seedCohort({ students, weeks: WEEKS, seed: 2026, endDate: AS_OF })
        console.log(
          `seeded ${cohort.students} students, ${cohort.attempts.toLocaleString()} attempts in ${(cohort.millis / 1000).toFixed(1)} s`
        )
      }
      const out: Array<Split> = []
      for (const entry of ordered) {
        if (only !== undefined && !only.includes(entry.pipeline.name)) continue
        // a failed pipeline is reported and the others still measured (a 10,000-student fit takes an hour)
        const split = yield* measure(entry).pipe(
          Effect.tapError((error) =>
            Effect.sync(() => console.log(`  ${entry.pipeline.name}: FAILED ${String(error)}`))
          ),
          Effect.option
        )
        if (split._tag === "None") continue
        printTable(students, [split.value], false)
        out.push(split.value)
      }
      return out
    }).pipe(Effect.provide(RunStore.Default.pipe(Layer.provideMerge(benchDatabase(students)))))
    printTable(students, splits)
    results.set(students, splits)
  }
  const measured = [...results.keys()].sort((a, b) => a - b)
  if (measured.length >= 2) {
    const small = measured[0]!
    const large = measured[measured.length - 1]!
    const factor = large / small
    console.log(
      `\ngrowth from ${small.toLocaleString()} to ${large.toLocaleString()} students (exponent: 1 = linear, < 1 sub-linear, > 1 worse)`
    )
    for (const s of results.get(large)!) {
      const b = results.get(small)!.find((x) => x.pipeline === s.pipeline)
      if (b === undefined) continue
      console.log(
        `  ${s.pipeline}: wall ×${(s.wallMs / b.wallMs).toFixed(1)} (exp ${exponent(b.wallMs, s.wallMs, factor)}), database ×${(s.dbMs / b.dbMs).toFixed(1)} (exp ${exponent(b.dbMs, s.dbMs, factor)}), R ×${b.rMs > 0 ? (s.rMs / b.rMs).toFixed(1) : "–"}${b.rMs > 0 ? ` (exp ${exponent(b.rMs, s.rMs, factor)})` : ""}, transport ×${b.transportMs > 0 ? (s.transportMs / b.transportMs).toFixed(1) : "–"}`
      )
    }
  }
})

main.pipe(Effect.provide(RServicesLayer), Effect.scoped, Effect.runPromise).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
