import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { RunErrorRecord } from "../engine/RunStore.ts"

/** A run as a list shows it: no stage details. */
export const RunSummary = Schema.Struct({
  id: Schema.String,
  pipeline: Schema.String,
  trigger: Schema.String,
  status: Schema.Literal("running", "succeeded", "failed"),
  started_at: Schema.DateFromSelf,
  finished_at: Schema.NullOr(Schema.DateFromSelf),
  error: Schema.NullOr(RunErrorRecord)
})
export type RunSummary = typeof RunSummary.Type

/** Which runs `/runs` shows. */
export interface RunFilter {
  readonly pipeline: string | undefined
  readonly status: string | undefined
  readonly trigger: string | undefined
  readonly limit: number
  readonly offset: number
}

/** A slot of `schedule_slot` as the schedule page shows it. */
export const SlotRow = Schema.Struct({
  pipeline: Schema.String,
  slot: Schema.DateFromSelf,
  status: Schema.String,
  attempts: Schema.Number,
  run_id: Schema.NullOr(Schema.String),
  detail: Schema.NullOr(Schema.String)
})
export type SlotRow = typeof SlotRow.Type

/** A row of a model meta table: its run, when it was fitted, and its JSON columns (decoded per model by the page). */
export const MetaRow = Schema.Struct({
  run_id: Schema.String,
  fitted_at: Schema.DateFromSelf,
  a: Schema.Unknown,
  b: Schema.Unknown,
  c: Schema.Unknown,
  n: Schema.NullOr(Schema.Number)
})
export type MetaRow = typeof MetaRow.Type

/** The anomalies of one forecast run. */
export const AnomalyRow = Schema.Struct({
  week_start: Schema.String,
  value: Schema.NullOr(Schema.Number),
  expected: Schema.NullOr(Schema.Number),
  anomaly_score: Schema.NullOr(Schema.Number)
})

/** The models whose fits the console shows. */
export type Model = "growth" | "survival" | "segments" | "forecast"

/**
 * The console's reads: every query is one indexed statement with a LIMIT, so a page costs the same with ten runs
 * or ten thousand (bench/console.ts measures it).
 */
export class ConsoleStore extends Effect.Service<ConsoleStore>()("@seedtest/console/ConsoleStore", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const die = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.catchIf(
          (e): e is Extract<E, { _tag: "ParseError" }> => (e as { _tag?: string })._tag === "ParseError",
          Effect.die
        )
      )
    const where = (f: Omit<RunFilter, "limit" | "offset">) =>
      sql.and([
        ...(f.pipeline === undefined ? [] : [sql`pipeline = ${f.pipeline}`]),
        ...(f.status === undefined ? [] : [sql`status = ${f.status}`]),
        ...(f.trigger === undefined ? [] : [sql`trigger = ${f.trigger}`])
      ])
    const summaryColumns = sql`id, pipeline, trigger, status, started_at, finished_at, error`

    const page = SqlSchema.findAll({
      Request: Schema.Struct({
        pipeline: Schema.UndefinedOr(Schema.String),
        status: Schema.UndefinedOr(Schema.String),
        trigger: Schema.UndefinedOr(Schema.String),
        limit: Schema.Number,
        offset: Schema.Number
      }),
      Result: RunSummary,
      execute: (f) =>
        sql`SELECT ${summaryColumns} FROM pipeline_run WHERE ${where(f)}
            ORDER BY started_at DESC, id DESC LIMIT ${f.limit} OFFSET ${f.offset}`
    })
    const latest = SqlSchema.findAll({
      Request: Schema.Array(Schema.String),
      Result: RunSummary,
      // one index probe per pipeline (pipeline, started_at DESC) instead of a scan of the history
      execute: (names) =>
        sql`SELECT r.* FROM jsonb_array_elements_text(${JSON.stringify(names)}::jsonb) AS p(name)
            CROSS JOIN LATERAL (SELECT ${summaryColumns} FROM pipeline_run WHERE pipeline = p.name
                                ORDER BY started_at DESC, id DESC LIMIT 1) r`
    })
    const slots = SqlSchema.findAll({
      Request: Schema.Struct({ since: Schema.DateFromSelf }),
      Result: SlotRow,
      execute: ({ since }) =>
        sql`SELECT pipeline, slot, status, attempts, run_id, detail FROM schedule_slot
            WHERE slot >= ${since} ORDER BY slot DESC, pipeline LIMIT 500`
    })
    const meta = (model: Model, limit: number) => {
      switch (model) {
        case "growth":
          return sql`SELECT run_id, fitted_at, posterior_summary AS a, diagnostics AS b, formula AS c, NULL::int AS n
                     FROM growth_brms_meta ORDER BY fitted_at DESC LIMIT ${limit}`
        case "survival":
          return sql`SELECT run_id, fitted_at, hazard_ratios AS a, concordance AS b, events AS c, n
                     FROM survival_fit_meta ORDER BY fitted_at DESC LIMIT ${limit}`
        case "segments":
          return sql`SELECT run_id, fitted_at, centers AS a, metrics AS b, method AS c, n_clusters AS n
                     FROM segment_meta ORDER BY fitted_at DESC LIMIT ${limit}`
        case "forecast":
          return sql`SELECT run_id, fitted_at, forecast AS a, fit_meta AS b, metric AS c, horizon_weeks AS n
                     FROM prophet_fit_meta WHERE user_id IS NULL ORDER BY fitted_at DESC LIMIT ${limit}`
      }
    }
    const fits = SqlSchema.findAll({
      Request: Schema.Struct({
        model: Schema.Literal("growth", "survival", "segments", "forecast"),
        limit: Schema.Number
      }),
      Result: MetaRow,
      execute: ({ limit, model }) => meta(model, limit)
    })
    const anomalies = SqlSchema.findAll({
      Request: Schema.String,
      Result: AnomalyRow,
      execute: (runId) =>
        sql`SELECT week_start::text AS week_start, value, expected, anomaly_score FROM prophet_anomalies
            WHERE run_id = ${runId} AND user_id IS NULL ORDER BY week_start LIMIT 200`
    })
    const durations = SqlSchema.findAll({
      Request: Schema.Struct({ pipeline: Schema.String, limit: Schema.Number }),
      Result: Schema.Struct({
        started_at: Schema.DateFromSelf,
        finished_at: Schema.DateFromSelf,
        status: Schema.String
      }),
      execute: ({ limit, pipeline }) =>
        sql`SELECT started_at, finished_at, status FROM pipeline_run
            WHERE pipeline = ${pipeline} AND finished_at IS NOT NULL ORDER BY started_at DESC LIMIT ${limit}`
    })

    const attempts = SqlSchema.findAll({
      Request: Schema.Struct({ pipeline: Schema.String, slot: Schema.String, id: Schema.String }),
      Result: RunSummary,
      execute: ({ id, pipeline, slot }) =>
        sql`SELECT ${summaryColumns} FROM pipeline_run WHERE pipeline = ${pipeline} AND slot = ${slot} AND id <> ${id}
            ORDER BY started_at LIMIT 20`
    })

    return {
      /** The other runs that filled the same scheduler slot (earlier or later attempts). */
      attempts: Effect.fn("ConsoleStore.attempts")(function* (pipeline: string, slot: string, id: string) {
        return yield* die(attempts({ pipeline, slot, id }))
      }),
      /** A page of the history, newest first, and whether there is a next page. */
      runs: Effect.fn("ConsoleStore.runs")(function* (filter: RunFilter) {
        const rows = yield* die(page({ ...filter, limit: filter.limit + 1 }))
        return { rows: rows.slice(0, filter.limit), more: rows.length > filter.limit }
      }),
      /** The latest run of each named pipeline. */
      latestRuns: Effect.fn("ConsoleStore.latestRuns")(function* (pipelines: ReadonlyArray<string>) {
        return yield* die(latest(pipelines))
      }),
      /** The finished runs of a pipeline, newest first, for its duration trend. */
      durations: Effect.fn("ConsoleStore.durations")(function* (pipeline: string, limit: number) {
        return yield* die(durations({ pipeline, limit }))
      }),
      /** The scheduler's slots since a time, newest first. */
      slots: Effect.fn("ConsoleStore.slots")(function* (since: Date) {
        return yield* die(slots({ since }))
      }),
      /** The newest fits of a model. */
      fits: Effect.fn("ConsoleStore.fits")(function* (model: Model, limit: number) {
        return yield* die(fits({ model, limit }))
      }),
      /** The anomalous weeks of a cohort forecast. */
      anomalies: Effect.fn("ConsoleStore.anomalies")(function* (runId: string) {
        return yield* die(anomalies(runId))
      })
    }
  })
}) {}
