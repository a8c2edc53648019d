import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { type Check, CheckResult, sampleSize } from "./Check.ts"
import * as Relation from "./Relation.ts"
import type { Stage } from "./Stage.ts"

/** A sink's rows as its stage computed them: materialised rows, or a relation its writer executes in the database. */
export type SinkInput = ReadonlyArray<unknown> | Relation.Relation<unknown>

/** How many rows go into the check table per statement (one jsonb parameter each). */
const chunk = 5_000

/** The checks declared on a sink. */
export const checksOf = (sink: Stage): ReadonlyArray<Check> => sink.checks ?? []

/**
 * How many rows `sink` of `pipeline` wrote in the pipeline's last successful run, from its run record (null: none).
 */
const previousRows = (pipeline: string, sink: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ rows: number | null }>`
      SELECT (s ->> 'rows')::float8 AS rows
      FROM pipeline_run, jsonb_array_elements(stages) AS s
      WHERE pipeline = ${pipeline} AND status = 'succeeded' AND s ->> 'name' = ${sink}
      ORDER BY started_at DESC LIMIT 1`
    return row?.rows ?? null
  })

/** Fills the temporary table `check_rows(r jsonb)` with the sink's rows, as they are about to be written. */
const loadRows = (input: SinkInput) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`DROP TABLE IF EXISTS pg_temp.check_rows`
    yield* sql`CREATE TEMPORARY TABLE check_rows (r jsonb NOT NULL) ON COMMIT DROP`
    if (Relation.isRelation(input)) {
      // the relation runs once more, inside the transaction, to give its rows to the checks
      yield* Relation.withSettings(input, sql`INSERT INTO check_rows SELECT to_jsonb(t) FROM (${input.query}) AS t`)
      return
    }
    for (let i = 0; i < input.length; i += chunk) {
      // JSON has no NaN: a NaN in a row arrives as null, which the number checks count as a violation
      const json = JSON.stringify(input.slice(i, i + chunk))
      yield* sql`INSERT INTO check_rows SELECT value FROM jsonb_array_elements(${json}::jsonb)`
    }
  })

/**
 * Evaluates a sink's checks on the rows it is about to write. Must run inside a transaction (the check table is
 * dropped at its end); writes nothing else. `inputs` are the sink's upstream outputs (for subset checks).
 */
export const evaluate = (
  pipeline: string,
  sink: Stage,
  input: SinkInput,
  inputs: Readonly<Record<string, unknown>>
): Effect.Effect<ReadonlyArray<CheckResult>, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const checks = checksOf(sink)
    if (checks.length === 0) return []
    const sql = yield* SqlClient.SqlClient
    yield* loadRows(input)
    const previous = yield* previousRows(pipeline, sink.name)
    const context = { pipeline, sink: sink.name, previousRows: previous, inputs }
    const results = yield* Effect.forEach(checks, (check) =>
      Effect.gen(function* () {
        const [row] = yield* sql<{ failing: number; rows: number; samples: ReadonlyArray<unknown> | string }>`
          WITH v AS (${check.query(sql, context)})
          SELECT (SELECT count(*) FROM v)::int AS failing, (SELECT count(*) FROM check_rows)::int AS rows,
                 (SELECT coalesce(jsonb_agg(sample), '[]'::jsonb) FROM (SELECT sample FROM v LIMIT ${sampleSize}) s)
                   AS samples`
        const samples = typeof row!.samples === "string" ? JSON.parse(row!.samples) : row!.samples
        return new CheckResult({
          sink: sink.name,
          check: check.name,
          severity: check.severity,
          status: row!.failing === 0 ? "passed" : "failed",
          failing: row!.failing,
          rows: row!.rows,
          samples
        })
      }).pipe(Effect.withSpan(`check ${check.name}`, { attributes: { sink: sink.name, check: check.name } }))
    )
    yield* sql`DROP TABLE check_rows`
    return results
  })
