import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import * as Param from "../../engine/Param.ts"
import type * as Pipeline from "../../engine/Pipeline.ts"
import { DataLayer, scrub } from "../Environment.ts"
import { dryRunPipeline, registry, runPipeline } from "../Registry.ts"
import { UsageError } from "./backfill.ts"

/**
 * `--param name=value` pairs as a record. Parsed here rather than by the CLI library, which refuses an empty value
 * ("text options do not have a default value"): `--param nClusters=` is how a user says "automatic".
 */
const paramPairs = (pairs: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const overrides: Record<string, string> = {}
    for (const pair of pairs) {
      const at = pair.indexOf("=")
      if (at <= 0)
        return yield* new UsageError({ detail: `--param "${pair}" is not name=value (e.g. --param lookbackDays=14).` })
      overrides[pair.slice(0, at)] = pair.slice(at + 1)
    }
    return overrides
  })

/** The leaves that differ between a stored value and the one a dry run would write: `kpis.S: 0.2 → 0.4`. */
export const changedLeaves = (before: unknown, after: unknown, path = ""): ReadonlyArray<string> => {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v)
  if (isObject(before) && isObject(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .sort()
      .flatMap((k) => changedLeaves(before[k], after[k], path === "" ? k : `${path}.${k}`))
  }
  return JSON.stringify(before) === JSON.stringify(after)
    ? []
    : [`${path}: ${sampleText(before ?? null)} → ${sampleText(after ?? null)}`]
}

const sampleText = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text.length > 160 ? `${text.slice(0, 157)}...` : text
}

/** `seedtest run <pipeline> [--dry-run] [--param k=v …] [--json]`. */
export const run = Command.make(
  "run",
  {
    pipeline: Args.text({ name: "pipeline" }).pipe(Args.withDescription("the pipeline to run (see `seedtest list`)")),
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription(
        "real reads and model calls, nothing written (not even a run record): report what would change"
      )
    ),
    params: Options.text("param").pipe(
      Options.withAlias("p"),
      Options.repeated,
      Options.withDescription(
        "override a parameter, e.g. --param LOOKBACK_WEEKS=8 or --param lookbackWeeks=8; repeatable"
      )
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print the result as JSON on stdout")),
    withUpstream: Options.boolean("with-upstream").pipe(
      Options.withDescription(
        "first run, in order, every pipeline it reads from (directly or not); --param applies to those that take it"
      )
    )
  },
  ({ dryRun, json, params, pipeline, withUpstream }) =>
    Effect.gen(function* () {
      const reg = yield* registry
      const p = yield* reg.get(pipeline)
      const overrides = yield* paramPairs(params)
      // a wrong name or value is reported before the database starts
      yield* Param.resolve(p.name, p.params, overrides)
      const upstream = withUpstream ? yield* Effect.forEach(reg.upstreamOf(p.name), reg.get) : []
      return yield* Effect.gen(function* () {
        for (const u of upstream) {
          yield* Console.error(`\n=== upstream ${u.name} ===`)
          const shared = Object.fromEntries(Object.entries(overrides).filter(([k]) => k in (u.params as object)))
          yield* execute(u, shared, dryRun, false)
        }
        if (upstream.length > 0) yield* Console.error(`\n=== ${p.name} ===`)
        yield* execute(p, overrides, dryRun, json)
      }).pipe(Effect.provide(DataLayer))
    })
).pipe(
  Command.withDescription(
    "Run one pipeline now. All its writes commit in one transaction after every other stage succeeded; a failure writes nothing. Progress goes to stderr."
  )
)

const execute = (p: Pipeline.Any, overrides: Record<string, string>, dryRun: boolean, json: boolean) =>
  Effect.gen(function* () {
    if (dryRun) {
      const report = yield* dryRunPipeline(p, { params: overrides })
      if (json) return yield* Console.log(yield* scrub(JSON.stringify(report, null, 2)))
      yield* Console.log(`\ndry run of ${report.pipeline}: nothing was written. It would:`)
      for (const s of report.sinks) {
        yield* Console.log(
          `  ${s.target}: ${s.inserts} insert${s.inserts === 1 ? "" : "s"}, ${s.updates} update${s.updates === 1 ? "" : "s"}, ${s.unchanged} unchanged${s.deletes > 0 ? `, ${s.deletes} deletes` : ""} (of ${s.rows} rows)`
        )
        for (const c of s.changes.slice(0, 3)) {
          const what = c.before === null ? [`new: ${sampleText(c.after)}`] : changedLeaves(c.before, c.after)
          yield* Console.log(
            `      ${sampleText(c.key)}  ${what.slice(0, 4).join("; ")}${what.length > 4 ? `; … ${what.length - 4} more` : ""}`
          )
        }
      }
      if (report.checks.length > 0) yield* Console.log("checks on the rows it would write:")
      for (const c of report.checks) {
        const outcome =
          c.status === "passed"
            ? "passed"
            : `FAILED for ${c.failing} of ${c.rows} rows` +
              (c.severity === "error" ? " (a real run would write nothing)" : "")
        yield* Console.log(`  ${c.severity.padEnd(5)} ${c.sink}: ${c.check} — ${outcome}`)
        for (const sample of c.samples.slice(0, 3)) yield* Console.log(`      ${sampleText(sample)}`)
      }
      return
    }
    const result = yield* runPipeline(p, { params: overrides, trigger: "manual" })
    if (json) return yield* Console.log(yield* scrub(JSON.stringify(result, null, 2)))
    yield* Console.log(`\nrun ${result.runId} of ${result.pipeline} committed:`)
    for (const s of result.sinks)
      yield* Console.log(
        `  ${s.target}: ${s.inserted} inserted, ${s.updated} updated${s.deleted > 0 ? `, ${s.deleted} deleted` : ""}`
      )
    const warned = result.checks.filter((c) => c.status === "failed")
    for (const c of warned) {
      yield* Console.log(`  warning: check ${c.check} on ${c.sink} failed for ${c.failing} of ${c.rows} rows`)
    }
  })
