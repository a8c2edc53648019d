import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Resource from "../engine/Resource.ts"
import type { SinkChange, SinkPreview, SinkWriteResult, SinkWriter } from "../engine/Sink.ts"

/** The Postgres types a writer column can have (rows travel as one jsonb parameter per chunk). */
export type ColumnType = "text" | "date" | "timestamptz" | "jsonb" | "float8" | "int4" | "int8" | "bool"

/** A table's columns as written by a sink, by name. */
export type Columns<Row> = { readonly [K in keyof Row & string]: ColumnType }

interface Options<Row> {
  readonly table: string
  readonly columns: Columns<Row>
  /** What the writer declares it writes (default: the whole table). */
  readonly writes?: ReadonlyArray<Resource.Resource>
  /** Rows per statement. */
  readonly chunkSize?: number
  /** How many rows a dry run shows. */
  readonly sampleSize?: number
}

interface UpsertOptions<Row> extends Options<Row> {
  readonly key: ReadonlyArray<keyof Row & string>
  /** jsonb columns merged with the stored value (`stored || new`) instead of replaced: keys owned by others stay. */
  readonly merge?: ReadonlyArray<keyof Row & string>
  /** A timestamp column set to now() on every update. */
  readonly touch?: string
}

const identifier = /^[a-z_][a-z0-9_]*$/i
const quote = (name: string): string => {
  if (!identifier.test(name)) throw new TypeError(`not a plain SQL identifier: ${name}`)
  return `"${name}"`
}

const chunks = <A>(rows: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const result: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < rows.length; i += size) result.push(rows.slice(i, i + size))
  return result
}

const recordset = <Row>(columns: Columns<Row>, names: ReadonlyArray<string>) =>
  `jsonb_to_recordset($1::jsonb) AS x(${names.map((c) => `${quote(c)} ${columns[c as keyof Row & string]}`).join(", ")})`

const emptyPreview = (target: string): SinkPreview => ({
  target,
  rows: 0,
  inserts: 0,
  updates: 0,
  unchanged: 0,
  deletes: 0,
  sample: [],
  changes: []
})

const addPreview = (a: SinkPreview, b: SinkPreview, sampleSize: number): SinkPreview => ({
  target: a.target,
  rows: a.rows + b.rows,
  inserts: a.inserts + b.inserts,
  updates: a.updates + b.updates,
  unchanged: a.unchanged + b.unchanged,
  deletes: a.deletes + b.deletes,
  sample: [...a.sample, ...b.sample].slice(0, sampleSize),
  changes: [...a.changes, ...b.changes].slice(0, sampleSize)
})

/**
 * Inserts rows, or updates the stored row with the same key. Set-based: each chunk is one statement whose rows come
 * in as a single jsonb parameter. `merge` columns keep the stored keys that the new value does not name.
 */
export const upsert = <Row extends Record<string, unknown>>(
  options: UpsertOptions<Row>
): SinkWriter<Row, SqlClient.SqlClient> => {
  const names = Object.keys(options.columns)
  const table = quote(options.table)
  const key = options.key.map(quote).join(", ")
  const merge = new Set<string>(options.merge ?? [])
  const valueColumns = names.filter((c) => !options.key.includes(c as keyof Row & string))
  const newValue = (c: string) => (merge.has(c) ? `coalesce(t.${quote(c)}, '{}'::jsonb) || x.${quote(c)}` : `x.${quote(c)}`)
  const updates = [
    ...valueColumns.map((c) =>
      merge.has(c) ? `${quote(c)} = coalesce(t.${quote(c)}, '{}'::jsonb) || EXCLUDED.${quote(c)}` : `${quote(c)} = EXCLUDED.${quote(c)}`
    ),
    ...(options.touch === undefined ? [] : [`${quote(options.touch)} = now()`])
  ]
  const insertSql = `
    WITH written AS (
      INSERT INTO ${table} AS t (${names.map(quote).join(", ")})
      SELECT ${names.map((c) => `x.${quote(c)}`).join(", ")} FROM ${recordset(options.columns, names)}
      ON CONFLICT (${key}) DO ${updates.length === 0 ? "NOTHING" : `UPDATE SET ${updates.join(", ")}`}
      RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`
  const joinOn = options.key.map((k) => `t.${quote(k)} = x.${quote(k)}`).join(" AND ")
  const stored = `jsonb_build_object(${valueColumns.map((c) => `'${c}', t.${quote(c)}`).join(", ")})`
  const after = `jsonb_build_object(${valueColumns.map((c) => `'${c}', ${newValue(c)}`).join(", ")})`
  const keyObject = `jsonb_build_object(${options.key.map((k) => `'${k}', x.${quote(k)}`).join(", ")})`
  const previewSql = (sampleSize: number) => `
    WITH compared AS (
      SELECT ${keyObject} AS key,
             t.${quote(options.key[0]!)} IS NULL AS is_new,
             CASE WHEN t.${quote(options.key[0]!)} IS NULL THEN NULL ELSE ${stored} END AS before,
             ${after} AS after
      FROM ${recordset(options.columns, names)}
      LEFT JOIN ${table} t ON ${joinOn}
    )
    SELECT count(*) FILTER (WHERE is_new) AS inserts,
           count(*) FILTER (WHERE NOT is_new AND before IS DISTINCT FROM after) AS updates,
           count(*) FILTER (WHERE NOT is_new AND before IS NOT DISTINCT FROM after) AS unchanged,
           coalesce((SELECT jsonb_agg(c) FROM (SELECT key, before, after FROM compared
                     WHERE is_new OR before IS DISTINCT FROM after LIMIT ${sampleSize}) c), '[]'::jsonb) AS changes
    FROM compared`
  const chunkSize = options.chunkSize ?? 5000
  const sampleSize = options.sampleSize ?? 5
  const target = options.table
  return {
    target,
    writes: options.writes ?? [Resource.make(options.table)],
    write: (rows) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        let inserted = 0
        let updated = 0
        for (const chunk of chunks(rows, chunkSize)) {
          const [counts] = yield* sql.unsafe<{ inserted: number; updated: number }>(insertSql, [JSON.stringify(chunk)])
          inserted += counts?.inserted ?? 0
          updated += counts?.updated ?? 0
        }
        return { target, inserted, updated, deleted: 0 } satisfies SinkWriteResult
      }).pipe(Effect.withSpan("TableWriter.upsert", { attributes: { table: target, rows: rows.length } })),
    preview: (rows) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        let total = emptyPreview(target)
        for (const chunk of chunks(rows, chunkSize)) {
          const [r] = yield* sql.unsafe<{ inserts: number; updates: number; unchanged: number; changes: ReadonlyArray<SinkChange> }>(
            previewSql(sampleSize),
            [JSON.stringify(chunk)]
          )
          total = addPreview(total, {
            target,
            rows: chunk.length,
            inserts: r?.inserts ?? 0,
            updates: r?.updates ?? 0,
            unchanged: r?.unchanged ?? 0,
            deletes: 0,
            sample: chunk.slice(0, sampleSize),
            changes: r?.changes ?? []
          }, sampleSize)
        }
        return total
      }).pipe(Effect.withSpan("TableWriter.preview", { attributes: { table: target, rows: rows.length } }))
  }
}

/** Appends rows (run-stamped meta tables): every row is an insert. */
export const append = <Row extends Record<string, unknown>>(options: Options<Row>): SinkWriter<Row, SqlClient.SqlClient> => {
  const names = Object.keys(options.columns)
  const insertSql = `INSERT INTO ${quote(options.table)} (${names.map(quote).join(", ")})
                     SELECT ${names.map((c) => `x.${quote(c)}`).join(", ")} FROM ${recordset(options.columns, names)}`
  const chunkSize = options.chunkSize ?? 5000
  const sampleSize = options.sampleSize ?? 5
  const target = options.table
  return {
    target,
    writes: options.writes ?? [Resource.make(options.table)],
    write: (rows) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        for (const chunk of chunks(rows, chunkSize)) yield* sql.unsafe(insertSql, [JSON.stringify(chunk)])
        return { target, inserted: rows.length, updated: 0, deleted: 0 } satisfies SinkWriteResult
      }).pipe(Effect.withSpan("TableWriter.append", { attributes: { table: target, rows: rows.length } })),
    preview: (rows) =>
      Effect.succeed({
        ...emptyPreview(target),
        rows: rows.length,
        inserts: rows.length,
        sample: rows.slice(0, sampleSize),
        changes: rows.slice(0, sampleSize).map((after) => ({ key: {}, before: null, after }))
      })
  }
}
