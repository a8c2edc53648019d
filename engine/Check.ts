import type { SqlClient, Statement } from "@effect/sql"
import { Schema } from "effect"
import { generated } from "./Relation.ts"

/**
 * A data check: a rule about the rows a sink is about to write, evaluated in SQL inside the run's transaction before
 * COMMIT. `error` rolls the whole run back (nothing written; the check and sample rows go into the run record);
 * `warn` commits and records. Declared next to a sink (`checks: [...]` in the sink's spec), like Dagster's asset
 * checks or dbt's tests.
 *
 * The rows are evaluated as one `jsonb` value per row, in a temporary table named `check_rows(r jsonb)` (dropped at
 * the end of the transaction); a check is a query over it that returns one `sample jsonb` per violation.
 */
export type Severity = "error" | "warn"

/** What a check sees besides the rows: values the runner looks up or takes from the run's stage outputs. */
export interface CheckContext {
  readonly pipeline: string
  readonly sink: string
  /** How many rows this sink wrote in the pipeline's previous successful run (null: no such run). */
  readonly previousRows: number | null
  /** The upstream stage outputs the sink consumes, by name (a subset check takes its allowed keys from them). */
  readonly inputs: Readonly<Record<string, unknown>>
}

/**
 * A check's SQL: a query over `check_rows(r jsonb)` selecting one `sample jsonb` per violation, as an `@effect/sql`
 * fragment written with the client's `sql` tag (values are its parameters; field paths enter as `generated` text).
 */
export type CheckQuery = (sql: SqlClient.SqlClient, context: CheckContext) => Statement.Fragment

/** A check as declared; `Row` is the sink's row type, which its field paths are checked against. */
export interface Check<in Row = any> {
  readonly _Row?: (row: Row) => void
  /** Short and stable: it names the check in run records (`kpis.P in [0, 1]`). */
  readonly name: string
  readonly severity: Severity
  /** What the check asserts and why, for `plan` and dry runs. */
  readonly description: string
  /** The sink inputs the check compares the rows with (validated when the pipeline is built). */
  readonly inputs: ReadonlyArray<string>
  readonly query: CheckQuery
}

/** The outcome of one check in one run, as stored in the run record. */
export class CheckResult extends Schema.Class<CheckResult>("CheckResult")({
  sink: Schema.String,
  check: Schema.String,
  severity: Schema.Literal("error", "warn"),
  status: Schema.Literal("passed", "failed"),
  /** How many rows (or groups, for a key check) violate it. */
  failing: Schema.Number,
  rows: Schema.Number,
  /** A few violating rows (or groups), as they were about to be written. */
  samples: Schema.Array(Schema.Unknown)
}) {}

/** How many violating rows a result keeps. */
export const sampleSize = 5

/** A field of a row, or a key of an object field (`kpis.P`), typed against the row. */
export type Path<Row> = {
  [K in keyof Row & string]: Row[K] extends number | string | boolean | null | undefined
    ? K
    : NonNullable<Row[K]> extends Record<string, unknown>
      ? K | `${K}.${keyof NonNullable<Row[K]> & string}`
      : K
}[keyof Row & string]

/** `r #> '{a,b}'`: the jsonb value at a path (a field path of the row type, checked by `Path`). */
const atText = (path: string): string =>
  `(r #> '{${path
    .split(".")
    .map((p) => `"${p}"`)
    .join(",")}}')`

/** The value at a path as a float8, null when absent, JSON null or not a number. */
const number = (path: string): Statement.Fragment =>
  generated(`(CASE WHEN jsonb_typeof(${atText(path)}) = 'number' THEN (${atText(path)})::text::float8
         WHEN ${atText(path)} #>> '{}' IN ('NaN', 'Infinity', '-Infinity') THEN (${atText(path)} #>> '{}')::float8 END)`)

const at = (path: string): Statement.Fragment => generated(atText(path))

const label = (severity: Severity) => (severity === "warn" ? " (warn)" : "")

interface Options {
  readonly severity?: Severity
}

/**
 * Every present value at `path` lies in [lo, hi] (null values are left to `notNull`): probabilities in [0, 1].
 * A value stored as `1.0000000000000002` fails it.
 */
export const inRange = <Row>(path: Path<Row>, lo: number, hi: number, options: Options = {}): Check<Row> => ({
  name: `${path} in [${lo}, ${hi}]`,
  severity: options.severity ?? "error",
  description: `every ${path} lies in [${lo}, ${hi}]${label(options.severity ?? "error")}`,
  inputs: [],
  query: (sql) => sql`SELECT r AS sample FROM check_rows
          WHERE ${at(path)} IS NOT NULL AND jsonb_typeof(${at(path)}) <> 'null'
            AND (${number(path)} IS NULL OR ${number(path)} = 'NaN'::float8
                 OR ${number(path)} < ${lo} OR ${number(path)} > ${hi})`
})

/**
 * Every row has a number at `path`: not missing, not null, not NaN (JSON has no NaN: a NaN computed in Node arrives
 * as null, one computed in the database as the string "NaN").
 */
export const notNaN = <Row>(path: Path<Row>, options: Options = {}): Check<Row> => ({
  name: `${path} is a number`,
  severity: options.severity ?? "error",
  description: `every row has a number at ${path} (not null, not NaN)${label(options.severity ?? "error")}`,
  inputs: [],
  query: (sql) =>
    sql`SELECT r AS sample FROM check_rows WHERE ${number(path)} IS NULL OR ${number(path)} = 'NaN'::float8`
})

/** Every row has a value at `path` (not missing, not JSON null). */
export const notNull = <Row>(path: Path<Row>, options: Options = {}): Check<Row> => ({
  name: `${path} not null`,
  severity: options.severity ?? "error",
  description: `every row has a value at ${path}${label(options.severity ?? "error")}`,
  inputs: [],
  query: (sql) =>
    sql`SELECT r AS sample FROM check_rows WHERE ${at(path)} IS NULL OR jsonb_typeof(${at(path)}) = 'null'`
})

/** One row per key: a violation is a key that occurs more than once (sampled with its count). */
export const uniqueKey = <Row>(key: ReadonlyArray<Path<Row>>, options: Options = {}): Check<Row> => ({
  name: `one row per (${key.join(", ")})`,
  severity: options.severity ?? "error",
  description: `no two rows share (${key.join(", ")})${label(options.severity ?? "error")}`,
  inputs: [],
  query: (sql) => {
    const pairs = generated(key.map((k) => `'${k}', ${atText(k)}`).join(", "))
    return sql`SELECT jsonb_build_object(${pairs}, 'rows', count(*)) AS sample
          FROM check_rows GROUP BY ${generated(key.map(atText).join(", "))} HAVING count(*) > 1`
  }
})

/**
 * The number of rows lies within [previous / factor, previous × factor] of the pipeline's previous successful run
 * (passes when there is none): a sudden drop or jump in what a pipeline writes is worth a look. `warn` by default.
 */
export const rowCountNearPrevious = <Row>(factor: number, options: Options = {}): Check<Row> => ({
  name: `row count within ×${factor} of the previous run`,
  severity: options.severity ?? "warn",
  description:
    `the row count is within ×${factor} of the previous successful run's` + label(options.severity ?? "warn"),
  inputs: [],
  query: (sql, { previousRows }) =>
    sql`SELECT jsonb_build_object('rows', n, 'previousRows', ${previousRows}::float8) AS sample
          FROM (SELECT count(*) AS n FROM check_rows) c
          WHERE ${previousRows}::float8 IS NOT NULL
            AND (n < ${previousRows}::float8 / ${factor}::float8 OR n > ${previousRows}::float8 * ${factor}::float8)`
})

/**
 * Every row's `path` is one of the keys the sink's input `input` holds — e.g. every user a model answered for was
 * among the users sent to it. `keysOf` reads those keys from that stage's output; the sink must consume `input`.
 */
export const subsetOf = <Row, In = any>(
  path: Path<Row>,
  input: string,
  keysOf: (output: In) => ReadonlyArray<string>,
  options: Options = {}
): Check<Row> => ({
  name: `${path} ⊆ ${input}`,
  severity: options.severity ?? "error",
  description: `every ${path} is among the keys of input "${input}"${label(options.severity ?? "error")}`,
  inputs: [input],
  query: (sql, { inputs }) => {
    const keys = JSON.stringify([...new Set(keysOf(inputs[input] as In))])
    return sql`SELECT r AS sample FROM check_rows
          WHERE ${at(path)} IS NULL
             OR NOT ((${at(path)} #>> '{}') IN (SELECT jsonb_array_elements_text(${keys}::jsonb)))`
  }
})

/**
 * A rule no built-in says: `violation` is a SQL predicate over the row `r` (jsonb) that holds for a bad row, e.g.
 * `EXISTS (SELECT 1 FROM jsonb_array_elements(r -> 'forecast') p WHERE jsonb_typeof(p -> 'yhat') <> 'number')`.
 */
export const where = <Row>(
  name: string,
  violation: string,
  options: Options & { readonly description?: string } = {}
) =>
  ({
    name,
    severity: options.severity ?? "error",
    description: `${options.description ?? name}${label(options.severity ?? "error")}`,
    inputs: [],
    query: (sql) => sql`SELECT r AS sample FROM check_rows WHERE ${generated(violation)}`
  }) satisfies Check<Row>
