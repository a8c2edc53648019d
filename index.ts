/**
 * seedtest-pipelines as a library: declare pipelines and run them inside your own Effect runtime with your own
 * layers. Provide a `SqlClient` (any `@effect/sql` Postgres client, or `Database.layer`), `RunStore.Default` for run
 * history (after `Migrations.run`), and whatever your stages require.
 */

/** The migrations that create `pipeline_run` and the model tables. */
export * as Migrations from "./db/Migrations.ts"
export * from "./engine/index.ts"
/** Generic set-based table writers (upsert with jsonb merge, append) for your own sinks. */
export * as TableWriter from "./sinks/TableWriter.ts"
/** The database layers: PostgreSQL from a URL, or the embedded PGlite. */
export * as Database from "./sources/Database.ts"
