import { SqlClient } from "@effect/sql"
import { Clock, Duration, Effect, Schema } from "effect"
import * as Param from "../../engine/Param.ts"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as Resource from "../../engine/Resource.ts"
import * as TableWriter from "../../sinks/TableWriter.ts"

/** The reads and writes mission.md gives each model pipeline. */
export const missionResources: ReadonlyArray<{
  name: string
  reads: ReadonlyArray<string>
  writes: ReadonlyArray<string>
}> = [
  {
    name: "compute-daily-kpis",
    reads: ["attempt", "session"],
    writes: ["I_t", "E_t", "R_t", "A_t", "P", "sigma", "sessions", "mean_gap", "churn_heuristic"].map(
      (k) => `weekly_kpi.${k}`
    )
  },
  { name: "aggregate-features-daily", reads: ["attempt"], writes: ["features_topic_daily"] },
  { name: "fit-bayesian-growth", reads: ["attempt"], writes: ["growth_brms_meta", "growth_posterior"] },
  { name: "forecast-prophet", reads: ["weekly_kpi.I_t"], writes: ["prophet_fit_meta", "prophet_anomalies"] },
  {
    name: "fit-survival-churn",
    reads: ["attempt", "session", "weekly_kpi.A_t", "weekly_kpi.E_t", "weekly_kpi.R_t"],
    writes: ["survival_fit_meta", "weekly_kpi.S"]
  },
  { name: "cluster-segments", reads: ["weekly_kpi", "features_topic_daily"], writes: ["user_segment", "segment_meta"] },
  {
    name: "generate-weekly-report",
    reads: [
      "weekly_kpi",
      "growth_posterior",
      "prophet_fit_meta",
      "prophet_anomalies",
      "survival_fit_meta",
      "user_segment",
      "segment_meta"
    ],
    writes: ["report_artifacts"]
  }
]

interface LogRow extends Record<string, unknown> {
  readonly pipeline: string
  readonly as_of: string
  readonly at: string
  readonly seen: ReadonlyArray<string>
}

/** Where the stubs log their runs: who ran, on which date, at which (simulated) time, and what it saw already. */
export const createLog = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql`CREATE TABLE IF NOT EXISTS sched_log (pipeline text NOT NULL, as_of text NOT NULL, at timestamptz NOT NULL, seen jsonb NOT NULL)`
)

/**
 * Stand-ins for the model pipelines with their real reads and writes: each logs its run; `slow` pipelines take
 * simulated time in a model stage.
 */
export const stubPipelines = (slow: Readonly<Record<string, Duration.DurationInput>> = {}) =>
  missionResources.map(({ name, reads, writes }) =>
    Pipeline.make({
      name,
      description: `stand-in for ${name}`,
      params: { asOf: Param.date({ description: "as-of date", default: "2000-01-01" }) }
    })
      .source("seen", {
        description: "what ran earlier on the same date",
        reads: Resource.many(...reads),
        output: Schema.Array(Schema.String),
        run: ({ params }) =>
          Effect.flatMap(
            SqlClient.SqlClient,
            (sql) => sql<{ pipeline: string }>`SELECT pipeline FROM sched_log WHERE as_of = ${params.asOf} ORDER BY at`
          ).pipe(
            Effect.map((rows) => rows.map((r) => r.pipeline)),
            Effect.orDie
          )
      })
      .model("work", {
        description: "takes simulated time",
        inputs: ["seen"],
        output: Schema.Number,
        run: () => Effect.zipRight(Effect.sleep(slow[name] ?? Duration.zero), Clock.currentTimeMillis)
      })
      .sink("log", {
        description: "one log row",
        inputs: ["seen", "work"],
        writer: TableWriter.append<LogRow>({
          table: "sched_log",
          columns: { pipeline: "text", as_of: "text", at: "timestamptz", seen: "jsonb" },
          writes: Resource.many(...writes)
        }),
        rows: ({ seen, work }, { params }) => [
          { pipeline: name, as_of: params.asOf, at: new Date(work).toISOString(), seen }
        ]
      })
  )
