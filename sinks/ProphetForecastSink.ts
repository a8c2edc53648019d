import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Resource from "../engine/Resource.ts"
import type { SinkPreview, SinkWriteResult, SinkWriter } from "../engine/Sink.ts"
import * as TableWriter from "./TableWriter.ts"

/** One anomalous week of a series. */
export interface ProphetAnomalyRow extends Record<string, unknown> {
  readonly run_id: string
  readonly user_id: string | null
  readonly week_start: string
  readonly metric: string
  readonly value: number
  readonly expected: number
  readonly anomaly_score: number
}

/** One forecast series of a run (`user_id` null: the cohort series), with the anomalies found in it. */
export interface ProphetSeriesRow extends Record<string, unknown> {
  readonly run_id: string
  /** Monday of the as-of week: a re-run for the same week replaces the rows of earlier runs for it. */
  readonly as_of_week: string
  readonly metric: string
  readonly user_id: string | null
  readonly changepoints: unknown
  readonly forecast: unknown
  /** The per-series status (`ok`, `constant_series`, …), residual SD, trend and the in-sample fit. */
  readonly fit_meta: unknown
  readonly lookback_weeks: number
  readonly horizon_weeks: number
  readonly anomaly_threshold: number
  readonly anomalies: ReadonlyArray<ProphetAnomalyRow>
}

const metaWriter = TableWriter.append<Omit<ProphetSeriesRow, "anomalies">>({
  table: "prophet_fit_meta",
  columns: {
    run_id: "text",
    as_of_week: "date",
    metric: "text",
    user_id: "text",
    changepoints: "jsonb",
    forecast: "jsonb",
    fit_meta: "jsonb",
    lookback_weeks: "int4",
    horizon_weeks: "int4",
    anomaly_threshold: "float8"
  }
})

const anomalyWriter = TableWriter.append<ProphetAnomalyRow>({
  table: "prophet_anomalies",
  columns: {
    run_id: "text",
    user_id: "text",
    week_start: "date",
    metric: "text",
    value: "float8",
    expected: "float8",
    anomaly_score: "float8"
  }
})

// what earlier runs stored for the same as-of weeks ($1), anomalies first: they are found through their run's meta
const stored = [
  { table: "prophet_anomalies", where: "run_id IN (SELECT run_id FROM prophet_fit_meta WHERE as_of_week = ANY($1::date[]))" },
  { table: "prophet_fit_meta", where: "as_of_week = ANY($1::date[])" }
] as const

const weeksOf = (rows: ReadonlyArray<ProphetSeriesRow>) => [...new Set(rows.map((r) => r.as_of_week))].sort()
const metaRows = (rows: ReadonlyArray<ProphetSeriesRow>) => rows.map(({ anomalies: _, ...meta }) => meta)
const anomalyRows = (rows: ReadonlyArray<ProphetSeriesRow>) => rows.flatMap((r) => r.anomalies)

/**
 * `prophet_fit_meta` (one row per series) and `prophet_anomalies`, written together: both tables are keyed by run
 * id, so a run first deletes what earlier runs stored for its as-of week (anomalies through their run's meta rows),
 * then appends, all inside the run's one transaction. No rows (nothing was fitted) replaces nothing.
 */
export const ProphetForecastSink: SinkWriter<ProphetSeriesRow, SqlClient.SqlClient> = {
  target: "prophet_fit_meta + prophet_anomalies",
  writes: Resource.many("prophet_fit_meta", "prophet_anomalies"),
  write: (rows, context) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const weeks = weeksOf(rows)
      let deleted = 0
      if (weeks.length > 0) {
        for (const { table, where } of stored) {
          const [r] = yield* sql.unsafe<{ n: number }>(
            `WITH d AS (DELETE FROM ${table} WHERE ${where} RETURNING 1) SELECT count(*)::int AS n FROM d`,
            [weeks]
          )
          deleted += r?.n ?? 0
        }
      }
      const meta = yield* metaWriter.write(metaRows(rows), context)
      const anomalies = yield* anomalyWriter.write(anomalyRows(rows), context)
      return {
        target: ProphetForecastSink.target,
        inserted: meta.inserted + anomalies.inserted,
        updated: 0,
        deleted
      } satisfies SinkWriteResult
    }).pipe(Effect.withSpan("ProphetForecastSink.write", { attributes: { rows: rows.length } })),
  preview: (rows, context) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const weeks = weeksOf(rows)
      let deletes = 0
      if (weeks.length > 0) {
        for (const { table, where } of stored) {
          const [r] = yield* sql.unsafe<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, [weeks])
          deletes += r?.n ?? 0
        }
      }
      const meta = yield* metaWriter.preview(metaRows(rows), context)
      const anomalies = anomalyRows(rows)
      return {
        ...meta,
        target: ProphetForecastSink.target,
        rows: meta.rows + anomalies.length,
        inserts: meta.inserts + anomalies.length,
        deletes,
        sample: [...meta.sample, ...anomalies.slice(0, 5)]
      } satisfies SinkPreview
    }).pipe(Effect.withSpan("ProphetForecastSink.preview", { attributes: { rows: rows.length } }))
}
