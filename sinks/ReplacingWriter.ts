import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type * as Resource from "../engine/Resource.ts"
import type { SinkPreview, SinkWriteResult, SinkWriter } from "../engine/Sink.ts"
import * as TableWriter from "./TableWriter.ts"

interface Options<Row> {
  readonly table: string
  readonly columns: TableWriter.Columns<Row>
  /**
   * The column whose value says which stored rows a write replaces (e.g. `as_of`): every stored row with a value
   * that the new rows carry is deleted before they are inserted.
   */
  readonly scope: keyof Row & string
  readonly writes?: ReadonlyArray<Resource.Resource>
  /** How many rows a dry run shows. */
  readonly sampleSize?: number
}

/**
 * A writer for run-stamped meta tables keyed by run id: a re-run for the same scope (as-of day) replaces the rows of
 * the earlier run instead of adding to them. Delete and insert run inside the run's one transaction, so a failed run
 * keeps the earlier rows. Rows whose scope is null (the old system's) are never touched.
 */
export const replacing = <Row extends Record<string, unknown>>(options: Options<Row>): SinkWriter<Row, SqlClient.SqlClient> => {
  const insert = TableWriter.append({ table: options.table, columns: options.columns, ...options.writes ? { writes: options.writes } : {} })
  const sampleSize = options.sampleSize ?? 5
  const scopes = (rows: ReadonlyArray<Row>) => [...new Set(rows.map((r) => r[options.scope]).filter((v) => v !== null && v !== undefined))]
  const target = options.table
  return {
    target,
    writes: insert.writes,
    write: (rows, context) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const values = scopes(rows)
        const deleted = values.length === 0
          ? []
          : yield* sql`DELETE FROM ${sql(options.table)} WHERE ${sql(options.scope)} IN ${sql.in(values)} RETURNING 1 AS one`
        const written = yield* insert.write(rows, context)
        return { ...written, deleted: deleted.length } satisfies SinkWriteResult
      }).pipe(Effect.withSpan("ReplacingWriter.write", { attributes: { table: target, rows: rows.length } })),
    preview: (rows, context) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const values = scopes(rows)
        const stored = values.length === 0
          ? []
          : yield* sql<{ scope: unknown; stored: unknown }>`
              SELECT ${sql(options.scope)}::text AS scope, to_jsonb(t) AS stored
              FROM ${sql(options.table)} t WHERE ${sql(options.scope)} IN ${sql.in(values)}`
        const inserted = yield* insert.preview(rows, context)
        return {
          ...inserted,
          deletes: stored.length,
          changes: [
            ...stored.map((s) => ({ key: { [options.scope]: s.scope }, before: s.stored, after: null })),
            ...inserted.changes.map((c) => ({ ...c, key: { [options.scope]: (c.after as Row)[options.scope] } }))
          ].slice(0, sampleSize)
        } satisfies SinkPreview
      }).pipe(Effect.withSpan("ReplacingWriter.preview", { attributes: { table: target, rows: rows.length } }))
  }
}
