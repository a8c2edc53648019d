import { Schema } from "effect"

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

/** A value bound to a check query's `$n`. */
export type Parameter = string | number | boolean | null

/**
 * A check's SQL: a query over `check_rows(r jsonb)` selecting one `sample jsonb` per violation. Its text is generated
 * from declared field paths; values travel as `$n` parameters. (Not yet an `@effect/sql` fragment: the check query is
 * wrapped once, by `SinkChecks.evaluate`, and never composed further.)
 */
export interface CheckQuery {
  readonly sql: string
  readonly params: ReadonlyArray<Parameter>
}

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
  readonly query: (context: CheckContext) => CheckQuery
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

/** `r #> '{a,b}'`: the jsonb value at a path. */
const at = (path: string): string =>
  `(r #> '{${path
    .split(".")
    .map((p) => `"${p}"`)
    .join(",")}}')`

/** The value at a path as a float8, null when absent, JSON null or not a number. */
const number = (path: string): string =>
  `(CASE WHEN jsonb_typeof(${at(path)}) = 'number' THEN (${at(path)})::text::float8
         WHEN ${at(path)} #>> '{}' IN ('NaN', 'Infinity', '-Infinity') THEN (${at(path)} #>> '{}')::float8 END)`

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
  query: () => ({
    sql: `SELECT r AS sample FROM check_rows
          WHERE ${at(path)} IS NOT NULL AND jsonb_typeof(${at(path)}) <> 'null'
            AND (${number(path)} IS NULL OR ${number(path)} = 'NaN'::float8
                 OR ${number(path)} < $1 OR ${number(path)} > $2)`,
    params: [lo, hi]
  })
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
  query: () => ({
    sql: `SELECT r AS sample FROM check_rows WHERE ${number(path)} IS NULL OR ${number(path)} = 'NaN'::float8`,
    params: []
  })
})

/** Every row has a value at `path` (not missing, not JSON null). */
export const notNull = <Row>(path: Path<Row>, options: Options = {}): Check<Row> => ({
  name: `${path} not null`,
  severity: options.severity ?? "error",
  description: `every row has a value at ${path}${label(options.severity ?? "error")}`,
  inputs: [],
  query: () => ({
    sql: `SELECT r AS sample FROM check_rows WHERE ${at(path)} IS NULL OR jsonb_typeof(${at(path)}) = 'null'`,
    params: []
  })
})

/** One row per key: a violation is a key that occurs more than once (sampled with its count). */
export const uniqueKey = <Row>(key: ReadonlyArray<Path<Row>>, options: Options = {}): Check<Row> => ({
  name: `one row per (${key.join(", ")})`,
  severity: options.severity ?? "error",
  description: `no two rows share (${key.join(", ")})${label(options.severity ?? "error")}`,
  inputs: [],
  query: () => ({
    sql: `SELECT jsonb_build_object(${key.map((k) => `'${k}', ${at(k)}`).join(", ")}, 'rows', count(*)) AS sample
          FROM check_rows GROUP BY ${key.map(at).join(", ")} HAVING count(*) > 1`,
    params: []
  })
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
  query: ({ previousRows }) => ({
    sql: `SELECT jsonb_build_object('rows', n, 'previousRows', $1::float8) AS sample
          FROM (SELECT count(*) AS n FROM check_rows) c
          WHERE $1::float8 IS NOT NULL AND (n < $1::float8 / $2::float8 OR n > $1::float8 * $2::float8)`,
    params: [previousRows, factor]
  })
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
  query: ({ inputs }) => ({
    sql: `SELECT r AS sample FROM check_rows
          WHERE ${at(path)} IS NULL
             OR NOT ((${at(path)} #>> '{}') IN (SELECT jsonb_array_elements_text($1::jsonb)))`,
    params: [JSON.stringify([...new Set(keysOf(inputs[input] as In))])]
  })
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
    query: () => ({ sql: `SELECT r AS sample FROM check_rows WHERE ${violation}`, params: [] })
  }) satisfies Check<Row>
