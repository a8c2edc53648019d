import { SqlClient, type Statement } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Relation from "../engine/Relation.ts"
import * as Resource from "../engine/Resource.ts"
import type { RelationWriter, SinkChange, SinkPreview, SinkWriteResult } from "../engine/Sink.ts"

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

/** SQL text made of a writer's declared table and column names (quoted), for the `sql` template. */
const text = Relation.generated

/**
 * The rows a statement reads, as `x`: a chunk of materialised rows (one jsonb parameter), or a relation's SELECT with
 * its columns cast to the table's types, as the recordset's are. The relation's parameters come with its fragment.
 */
const recordset = <Row>(columns: Columns<Row>, names: ReadonlyArray<string>) => {
  const definition = text(names.map((c) => `${quote(c)} ${columns[c as keyof Row & string]}`).join(", "))
  return (sql: SqlClient.SqlClient, rows: ReadonlyArray<Row>): Statement.Fragment =>
    sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(${definition})`
}

const relationRows = <Row>(columns: Columns<Row>, names: ReadonlyArray<string>) => {
  const casts = text(names.map((c) => `r.${quote(c)}::${columns[c as keyof Row & string]} AS ${quote(c)}`).join(", "))
  return (sql: SqlClient.SqlClient, relation: Relation.Relation<Row>): Statement.Fragment =>
    sql`(SELECT ${casts} FROM (${relation.query}) AS r) AS x`
}

interface PreviewCounts {
  readonly rows: number
  readonly inserts: number
  readonly updates: number
  readonly unchanged: number
  readonly changes: ReadonlyArray<SinkChange>
  readonly sample: ReadonlyArray<unknown>
}

/** Decodes a relation's sampled rows with its schema, so a dry run shows the rows as a stage would see them. */
const decodeSample = <Row>(relation: Relation.Relation<Row>, sample: ReadonlyArray<unknown>) =>
  Schema.decodeUnknown(Schema.Array(relation.row))(sample).pipe(Effect.orDie)

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
 * in as a single jsonb parameter; a relation is one `INSERT … SELECT`. `merge` columns keep the stored keys that the
 * new value does not name.
 */
export const upsert = <Row extends Record<string, unknown>>(
  options: UpsertOptions<Row>
): RelationWriter<Row, SqlClient.SqlClient> => {
  const names = Object.keys(options.columns)
  const fromRows = recordset(options.columns, names)
  const fromRelation = relationRows(options.columns, names)
  const table = quote(options.table)
  const key = options.key.map(quote).join(", ")
  const merge = new Set<string>(options.merge ?? [])
  const valueColumns = names.filter((c) => !options.key.includes(c as keyof Row & string))
  const newValue = (c: string) =>
    merge.has(c) ? `coalesce(t.${quote(c)}, '{}'::jsonb) || x.${quote(c)}` : `x.${quote(c)}`
  const updates = [
    ...valueColumns.map((c) =>
      merge.has(c)
        ? `${quote(c)} = coalesce(t.${quote(c)}, '{}'::jsonb) || EXCLUDED.${quote(c)}`
        : `${quote(c)} = EXCLUDED.${quote(c)}`
    ),
    ...(options.touch === undefined ? [] : [`${quote(options.touch)} = now()`])
  ]
  const insertHead = text(`
    WITH written AS (
      INSERT INTO ${table} AS t (${names.map(quote).join(", ")})
      SELECT ${names.map((c) => `x.${quote(c)}`).join(", ")} FROM `)
  const insertTail = text(`
      ON CONFLICT (${key}) DO ${updates.length === 0 ? "NOTHING" : `UPDATE SET ${updates.join(", ")}`}
      RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`)
  const joinOn = options.key.map((k) => `t.${quote(k)} = x.${quote(k)}`).join(" AND ")
  const stored = `jsonb_build_object(${valueColumns.map((c) => `'${c}', t.${quote(c)}`).join(", ")})`
  const after = `jsonb_build_object(${valueColumns.map((c) => `'${c}', ${newValue(c)}`).join(", ")})`
  const keyObject = `jsonb_build_object(${options.key.map((k) => `'${k}', x.${quote(k)}`).join(", ")})`
  const compareHead = text(`
    WITH compared AS (
      SELECT ${keyObject} AS key,
             t.${quote(options.key[0]!)} IS NULL AS is_new,
             CASE WHEN t.${quote(options.key[0]!)} IS NULL THEN NULL ELSE ${stored} END AS before,
             ${after} AS after,
             x AS row
      FROM `)
  const compareJoin = text(`
      LEFT JOIN ${table} t ON ${joinOn}
    )`)
  const chunkSize = options.chunkSize ?? 5000
  const sampleSize = options.sampleSize ?? 5
  const target = options.table
  const countWritten = (from: (sql: SqlClient.SqlClient) => Statement.Fragment) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql<{ inserted: number; updated: number }>`${insertHead}${from(sql)}${insertTail}`
    ).pipe(Effect.map(([counts]) => ({ inserted: counts?.inserted ?? 0, updated: counts?.updated ?? 0 })))
  const compare = (from: (sql: SqlClient.SqlClient) => Statement.Fragment) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) =>
        sql<PreviewCounts>`${compareHead}${from(sql)}${compareJoin}
    SELECT count(*) AS rows,
           count(*) FILTER (WHERE is_new) AS inserts,
           count(*) FILTER (WHERE NOT is_new AND before IS DISTINCT FROM after) AS updates,
           count(*) FILTER (WHERE NOT is_new AND before IS NOT DISTINCT FROM after) AS unchanged,
           coalesce((SELECT jsonb_agg(c) FROM (SELECT key, before, after FROM compared
                     WHERE is_new OR before IS DISTINCT FROM after LIMIT ${sampleSize}) c), '[]'::jsonb) AS changes,
           coalesce((SELECT jsonb_agg(to_jsonb(s.row)) FROM (SELECT row FROM compared LIMIT ${sampleSize}) s),
                    '[]'::jsonb) AS sample
    FROM compared`
    ).pipe(Effect.map(([r]) => r ?? { rows: 0, inserts: 0, updates: 0, unchanged: 0, changes: [], sample: [] }))
  return {
    target,
    writes: options.writes ?? [Resource.make(options.table)],
    write: (rows) =>
      Effect.gen(function* () {
        let inserted = 0
        let updated = 0
        for (const chunk of chunks(rows, chunkSize)) {
          const counts = yield* countWritten((sql) => fromRows(sql, chunk))
          inserted += counts.inserted
          updated += counts.updated
        }
        return { target, inserted, updated, deleted: 0 } satisfies SinkWriteResult
      }).pipe(Effect.withSpan("TableWriter.upsert", { attributes: { table: target, rows: rows.length } })),
    preview: (rows) =>
      Effect.gen(function* () {
        let total = emptyPreview(target)
        for (const chunk of chunks(rows, chunkSize)) {
          const r = yield* compare((sql) => fromRows(sql, chunk))
          total = addPreview(
            total,
            {
              target,
              rows: chunk.length,
              inserts: r.inserts,
              updates: r.updates,
              unchanged: r.unchanged,
              deletes: 0,
              sample: chunk.slice(0, sampleSize),
              changes: r.changes
            },
            sampleSize
          )
        }
        return total
      }).pipe(Effect.withSpan("TableWriter.preview", { attributes: { table: target, rows: rows.length } })),
    writeRelation: (relation) =>
      Relation.withSettings(
        relation,
        countWritten((sql) => fromRelation(sql, relation))
      ).pipe(
        Effect.map((counts): SinkWriteResult => ({ target, ...counts, deleted: 0 })),
        Effect.withSpan("TableWriter.upsertRelation", { attributes: { table: target } })
      ),
    previewRelation: (relation) =>
      Effect.gen(function* () {
        const r = yield* Relation.withSettings(
          relation,
          compare((sql) => fromRelation(sql, relation))
        )
        return {
          target,
          rows: r.rows,
          inserts: r.inserts,
          updates: r.updates,
          unchanged: r.unchanged,
          deletes: 0,
          sample: yield* decodeSample(relation, r.sample),
          changes: r.changes
        } satisfies SinkPreview
      }).pipe(Effect.withSpan("TableWriter.previewRelation", { attributes: { table: target } }))
  }
}

/** Appends rows (run-stamped meta tables): every row is an insert. */
export const append = <Row extends Record<string, unknown>>(
  options: Options<Row>
): RelationWriter<Row, SqlClient.SqlClient> => {
  const names = Object.keys(options.columns)
  const insertHead = text(`INSERT INTO ${quote(options.table)} (${names.map(quote).join(", ")})
                     SELECT ${names.map((c) => `x.${quote(c)}`).join(", ")} FROM `)
  const fromRows = recordset(options.columns, names)
  const fromRelation = relationRows(options.columns, names)
  const chunkSize = options.chunkSize ?? 5000
  const sampleSize = options.sampleSize ?? 5
  const target = options.table
  const insertsOnly = (rows: number, sample: ReadonlyArray<unknown>): SinkPreview => ({
    ...emptyPreview(target),
    rows,
    inserts: rows,
    sample,
    changes: sample.map((after) => ({ key: {}, before: null, after }))
  })
  return {
    target,
    writes: options.writes ?? [Resource.make(options.table)],
    write: (rows) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        for (const chunk of chunks(rows, chunkSize)) yield* sql`${insertHead}${fromRows(sql, chunk)}`
        return { target, inserted: rows.length, updated: 0, deleted: 0 } satisfies SinkWriteResult
      }).pipe(Effect.withSpan("TableWriter.append", { attributes: { table: target, rows: rows.length } })),
    preview: (rows) => Effect.succeed(insertsOnly(rows.length, rows.slice(0, sampleSize))),
    writeRelation: (relation) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const [counted] = yield* Relation.withSettings(
          relation,
          sql<{ inserted: number }>`
            WITH written AS (${insertHead}${fromRelation(sql, relation)} RETURNING 1)
            SELECT count(*) AS inserted FROM written`
        )
        return { target, inserted: counted?.inserted ?? 0, updated: 0, deleted: 0 } satisfies SinkWriteResult
      }).pipe(Effect.withSpan("TableWriter.appendRelation", { attributes: { table: target } })),
    previewRelation: (relation) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const from = fromRelation(sql, relation)
        const [r] = yield* Relation.withSettings(
          relation,
          sql<{ rows: number; sample: ReadonlyArray<unknown> }>`
            SELECT count(*) AS rows,
                   coalesce((SELECT jsonb_agg(to_jsonb(s)) FROM (SELECT * FROM ${from} LIMIT ${sampleSize}) s),
                            '[]'::jsonb) AS sample
            FROM ${from}`
        )
        return insertsOnly(r?.rows ?? 0, yield* decodeSample(relation, r?.sample ?? []))
      }).pipe(Effect.withSpan("TableWriter.previewRelation", { attributes: { table: target } }))
  }
}
