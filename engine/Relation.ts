import { SqlClient, Statement } from "@effect/sql"
import { Effect, type Schema } from "effect"

const TypeId: unique symbol = Symbol.for("@seedtest/engine/Relation")

/**
 * Rows that stay in the database: a `SELECT` whose columns are `Row`'s fields, as an `@effect/sql` statement fragment
 * (written with the client's `sql` template tag). Its parameters travel inside the fragment, so it composes into a
 * bigger statement (`sql\`INSERT … SELECT … FROM (${relation.query}) AS r\``) and the compiler numbers every `$n`
 * of the whole: nothing is renumbered by hand. A source stage returns one (`Pipeline.relation`) instead of materialised
 * rows when its rows would only travel through Node to be written back; a sink whose writer accepts relations writes
 * it with one `INSERT … SELECT` inside the run's transaction, and a dry run compares it with what is stored in the
 * database too. `row` describes (and decodes) the rows a dry run samples; `settings` are set for the transaction that
 * executes it (e.g. `jit: "off"` for a big aggregate).
 */
export interface Relation<Row> {
  readonly [TypeId]: { readonly _Row: (_: never) => Row }
  readonly query: Statement.Fragment
  readonly row: Schema.Schema<Row, any, never>
  readonly settings: Readonly<Record<string, string>>
}

/** A relation from its query (a fragment of the `sql` template tag) and the schema of its rows. */
export const make = <Row>(options: {
  readonly query: Statement.Fragment
  readonly row: Schema.Schema<Row, any, never>
  readonly settings?: Readonly<Record<string, string>>
}): Relation<Row> => ({
  [TypeId]: { _Row: (_: never) => _ },
  query: options.query,
  row: options.row,
  settings: options.settings ?? {}
})

/** Whether a value is a relation (the runner's test for how a sink's rows are written). */
export const isRelation = (u: unknown): u is Relation<any> => typeof u === "object" && u !== null && TypeId in u

const placeholder = /\$\d/

/**
 * SQL text that code generates from what it declares — quoted identifiers of declared tables and columns, clauses
 * repeated per KPI week, constants — as a fragment to interpolate into a `sql` template. The one door to
 * `unsafe` SQL outside migrations and tests: never pass it input (values go into the template as parameters, which
 * the driver sends apart from the text). It carries no parameters, and text with a `$n` placeholder is refused, since
 * nothing would renumber it when the fragment is composed.
 */
export const generated = (text: string): Statement.Fragment => {
  if (placeholder.test(text)) throw new TypeError(`generated SQL must not hold parameter placeholders: ${text}`)
  return Statement.unsafeFragment(text)
}

/**
 * The planner's estimate of a relation's rows, from `EXPLAIN` (which also fails fast on a query that does not parse
 * or names what does not exist, before any transaction opens).
 */
export const plannedRows = Effect.fn("Relation.plannedRows")(function* <Row>(relation: Relation<Row>) {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<Record<string, unknown>>`EXPLAIN (FORMAT JSON) ${relation.query}`
  const plan = row === undefined ? undefined : Object.values(row)[0]
  const parsed = (typeof plan === "string" ? JSON.parse(plan) : plan) as
    | ReadonlyArray<{ Plan?: { "Plan Rows"?: number } }>
    | undefined
  return parsed?.[0]?.Plan?.["Plan Rows"] ?? null
})

/**
 * Runs `effect` (the statement that executes a relation) with the relation's settings in force, in a transaction (a
 * savepoint inside the run's), and puts the previous values back after it, so other sinks of the same transaction do
 * not inherit them.
 */
export const withSettings = <Row, A, E, R>(relation: Relation<Row>, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const names = Object.keys(relation.settings)
    if (names.length === 0) return yield* effect
    const sql = yield* SqlClient.SqlClient
    const set = (values: Readonly<Record<string, string>>) =>
      Effect.forEach(names, (name) => sql`SELECT set_config(${name}, ${values[name]!}, true)`, { discard: true })
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        const previous: Record<string, string> = {}
        for (const name of names) {
          const [row] = yield* sql<{ value: string }>`SELECT current_setting(${name}) AS value`
          previous[name] = row!.value
        }
        yield* set(relation.settings)
        const result = yield* effect
        yield* set(previous)
        return result
      })
    )
  })

/** The relation's rows, read into Node as they come from the database (not decoded), with its settings in force. */
export const select = Effect.fn("Relation.select")(function* <Row>(relation: Relation<Row>) {
  const sql = yield* SqlClient.SqlClient
  return yield* withSettings(relation, sql<Record<string, unknown>>`${relation.query}`)
})
