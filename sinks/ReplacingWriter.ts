import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Resource from "../engine/Resource.ts"
import type { SinkChange, SinkPreview, SinkWriteResult, SinkWriter, WriteContext } from "../engine/Sink.ts"
import * as TableWriter from "./TableWriter.ts"

/**
 * A table whose rows belong to the rows of the replacing writer's table through a shared column (e.g. anomalies to
 * the forecast series of their run, by `run_id`): its stored rows go with the rows they belong to, and its new rows
 * come from each written row.
 */
export interface Dependent<Row, Child> {
  readonly table: string
  readonly columns: TableWriter.Columns<Child>
  /** The column of both tables that ties a dependent row to its row. */
  readonly via: keyof Child & string
  /** The dependent rows a written row brings. */
  readonly rows: (row: Row) => ReadonlyArray<Child>
}

/** A dependent table, typed against the rows it comes from (the writer's `dependents` list holds any child type). */
export const dependent = <Row, Child extends Record<string, unknown>>(
  spec: Dependent<Row, Child>
): Dependent<Row, any> => spec

interface Options<Row extends Stored, Stored extends Record<string, unknown>> {
  readonly table: string
  /** The table's columns: the fields of a row that are stored (others, such as dependents' rows, are not). */
  readonly columns: TableWriter.Columns<Stored>
  /**
   * The column whose value says which stored rows a write replaces (e.g. `as_of`): every stored row with a value
   * that the new rows carry is deleted (with its dependents' rows) before they are inserted.
   */
  readonly scope: keyof Stored & string
  /** Tables whose rows belong to this table's rows, replaced with them (deleted first, inserted after). */
  readonly dependents?: ReadonlyArray<Dependent<Row, any>>
  /** What the writer declares it writes (default: its table and its dependents' tables). */
  readonly writes?: ReadonlyArray<Resource.Resource>
  /** How many rows a dry run shows. */
  readonly sampleSize?: number
}

/**
 * A writer for run-stamped tables keyed by run id: a re-run for the same scope (as-of day) replaces the rows of the
 * earlier run instead of adding to them, together with the rows of dependent tables that belong to them. Deletes and
 * inserts run inside the run's one transaction, so a failed run keeps the earlier rows. Rows whose scope is null (the
 * old system's) are never touched, and no rows (nothing was fitted, or the fit was not accepted) replace nothing.
 */
export const replacing = <Row extends Stored, Stored extends Record<string, unknown> = Row>(
  options: Options<Row, Stored>
): SinkWriter<Row, SqlClient.SqlClient> => {
  const sampleSize = options.sampleSize ?? 5
  const dependents = options.dependents ?? []
  const names = Object.keys(options.columns)
  const main = TableWriter.append<Stored>({ table: options.table, columns: options.columns, sampleSize })
  const children = dependents.map((d) => ({
    spec: d,
    writer: TableWriter.append<Record<string, unknown>>({ table: d.table, columns: d.columns, sampleSize })
  }))
  const target = [options.table, ...dependents.map((d) => d.table)].join(" + ")
  // the stored fields only: a row may carry its dependents' rows, which its table has no column for
  const stored = (rows: ReadonlyArray<Row>) =>
    rows.map((r) => Object.fromEntries(names.map((c) => [c, r[c]])) as Stored)
  const scopes = (rows: ReadonlyArray<Row>) => [
    ...new Set(rows.map((r) => r[options.scope]).filter((v) => v !== null && v !== undefined))
  ]
  // what a write replaces: per table (dependents first, found through their rows in the table), how many rows
  // there are, and a few of the table's own stored rows for a dry run
  const replaced = (values: ReadonlyArray<unknown>, remove: boolean) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const inScope = sql`${sql(options.scope)} IN ${sql.in(values)}`
      let count = 0
      for (const d of dependents) {
        const owned = sql`${sql(d.via)} IN (SELECT ${sql(d.via)} FROM ${sql(options.table)} WHERE ${inScope})`
        const [r] = remove
          ? yield* sql<{ n: number }>`
              WITH d AS (DELETE FROM ${sql(d.table)} WHERE ${owned} RETURNING 1) SELECT count(*)::int AS n FROM d`
          : yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(d.table)} WHERE ${owned}`
        count += r?.n ?? 0
      }
      const sample = remove
        ? []
        : yield* sql<{ scope: unknown; stored: unknown }>`
        SELECT ${sql(options.scope)}::text AS scope, to_jsonb(t) AS stored
        FROM ${sql(options.table)} t WHERE ${inScope} LIMIT ${sampleSize}`
      const [r] = remove
        ? yield* sql<{ n: number }>`
            WITH d AS (DELETE FROM ${sql(options.table)} WHERE ${inScope} RETURNING 1) SELECT count(*)::int AS n FROM d`
        : yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(options.table)} WHERE ${inScope}`
      return { count: count + (r?.n ?? 0), sample }
    })
  const dependentRows = (rows: ReadonlyArray<Row>) => children.map((c) => rows.flatMap((r) => c.spec.rows(r)))
  return {
    target,
    writes: options.writes ?? Resource.many(options.table, ...dependents.map((d) => d.table)),
    write: (rows, context: WriteContext) =>
      Effect.gen(function* () {
        const values = scopes(rows)
        const deleted = values.length === 0 ? 0 : (yield* replaced(values, true)).count
        let inserted = (yield* main.write(stored(rows), context)).inserted
        const childRows = dependentRows(rows)
        for (const [i, c] of children.entries()) inserted += (yield* c.writer.write(childRows[i]!, context)).inserted
        return { target, inserted, updated: 0, deleted } satisfies SinkWriteResult
      }).pipe(Effect.withSpan("ReplacingWriter.write", { attributes: { table: target, rows: rows.length } })),
    preview: (rows, context: WriteContext) =>
      Effect.gen(function* () {
        const values = scopes(rows)
        const before = values.length === 0 ? { count: 0, sample: [] } : yield* replaced(values, false)
        const own = yield* main.preview(stored(rows), context)
        const childRows = dependentRows(rows)
        const added = childRows.reduce((n, r) => n + r.length, 0)
        const changes: ReadonlyArray<SinkChange> = [
          ...before.sample.map((s) => ({ key: { [options.scope]: s.scope }, before: s.stored, after: null })),
          ...own.changes.map((c) => ({ ...c, key: { [options.scope]: (c.after as Stored)[options.scope] } }))
        ]
        return {
          ...own,
          target,
          rows: own.rows + added,
          inserts: own.inserts + added,
          deletes: before.count,
          sample: [...own.sample, ...childRows.flatMap((r) => r.slice(0, sampleSize))],
          changes: changes.slice(0, sampleSize)
        } satisfies SinkPreview
      }).pipe(Effect.withSpan("ReplacingWriter.preview", { attributes: { table: target, rows: rows.length } }))
  }
}
