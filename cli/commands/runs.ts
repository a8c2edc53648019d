import { Args, Command, Options } from "@effect/cli"
import { Console, Data, Effect, Option } from "effect"
import type { RunRecord } from "../../engine/RunStore.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { DataLayer } from "../Environment.ts"

/** `runs show` was given an id that is not in the history. */
export class UnknownRun extends Data.TaggedError("UnknownRun")<{ readonly id: string }> {
  override get message(): string {
    return `There is no run with id "${this.id}".`
  }
}

const duration = (r: RunRecord): string =>
  r.finishedAt === null ? "running" : `${((r.finishedAt.getTime() - r.startedAt.getTime()) / 1000).toFixed(1)} s`

const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of text"))

const show = Command.make(
  "show",
  { id: Args.text({ name: "run-id" }).pipe(Args.withDescription("a run id from `seedtest runs`")), json },
  ({ id, json }) =>
    Effect.gen(function* () {
      const store = yield* RunStore
      const run = yield* store
        .get(id)
        .pipe(
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(new UnknownRun({ id })), onSome: Effect.succeed }))
        )
      if (json) return yield* Console.log(JSON.stringify(run, null, 2))
      const lines = [
        `${run.id}  ${run.pipeline}  ${run.status}  (${run.trigger}${run.slot === null ? "" : ` ${run.slot}`})`,
        `started ${run.startedAt.toISOString()}, ${duration(run)}`,
        `params: ${
          Object.entries(run.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ") || "—"
        }`,
        "",
        "stages:"
      ]
      for (const s of run.stages) {
        const notes = Object.keys(s.notes).length === 0 ? "" : `  ${JSON.stringify(s.notes)}`
        lines.push(
          `  ${s.status === "succeeded" ? "✓" : s.status === "failed" ? "✗" : "·"} ${s.kind.padEnd(9)} ${s.name.padEnd(24)} ${s.millis === null ? "" : `${Math.round(s.millis)} ms`}${s.rows === null ? "" : `  ${s.rows} rows`}${s.attempts > 1 ? `  ${s.attempts} attempts` : ""}${notes}`
        )
        if (s.error !== null) lines.push(`      ${s.error}`)
      }
      if (run.sinks.length > 0) {
        lines.push("", "written:")
        for (const s of run.sinks)
          lines.push(`  ${s.target}: ${s.inserted} inserted, ${s.updated} updated, ${s.deleted} deleted`)
      }
      if (run.checks.length > 0) {
        lines.push("", "checks:")
        for (const c of run.checks) {
          const mark = c.status === "passed" ? "✓" : c.severity === "warn" ? "!" : "✗"
          const failing = c.status === "passed" ? "" : `  ${c.failing} of ${c.rows} rows`
          lines.push(`  ${mark} ${c.severity.padEnd(5)} ${c.sink.padEnd(20)} ${c.check}${failing}`)
          for (const sample of c.samples) lines.push(`      ${JSON.stringify(sample).slice(0, 200)}`)
        }
      }
      if (run.error !== null) lines.push("", `error: ${run.error.message}`)
      yield* Console.log(lines.join("\n"))
    }).pipe(Effect.provide(DataLayer))
).pipe(
  Command.withDescription(
    "Show one run: parameters, per-stage status, timings, row counts, what it wrote, its data checks, its error."
  )
)

/** `seedtest runs`: the run history, newest first. */
export const runs = Command.make(
  "runs",
  {
    limit: Options.integer("limit").pipe(Options.withDefault(20), Options.withDescription("how many runs")),
    pipeline: Options.text("pipeline").pipe(Options.optional, Options.withDescription("only this pipeline's runs")),
    json
  },
  ({ json, limit, pipeline }) =>
    Effect.gen(function* () {
      const store = yield* RunStore
      const history = yield* store.list({ limit, pipeline: Option.getOrUndefined(pipeline) })
      if (json) return yield* Console.log(JSON.stringify(history, null, 2))
      if (history.length === 0) return yield* Console.log("no runs yet")
      for (const r of history) {
        yield* Console.log(
          `${r.id}  ${r.pipeline.padEnd(26)} ${r.status.padEnd(9)} ${r.startedAt.toISOString()}  ${duration(r).padStart(8)}  ${r.trigger}${r.error === null ? "" : `  — ${r.error.message.slice(0, 80)}`}`
        )
      }
    }).pipe(Effect.provide(DataLayer))
).pipe(
  Command.withDescription("The run history (pipeline_run), newest first. `runs show <id>` for one run."),
  Command.withSubcommands([show])
)
