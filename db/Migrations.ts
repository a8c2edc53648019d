import * as Migrator from "@effect/sql/Migrator"
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Effect } from "effect"
import pipelineRun from "./migrations/0001_pipeline_run.ts"

/**
 * Every migration, in order. Ids are the numeric prefixes; a new migration is a new file here, never an edit of
 * an applied one.
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient>> = {
  "0001_pipeline_run": pipelineRun
}

/** Applies the pending migrations in one transaction under a table lock (idempotent; concurrent starts wait). */
export const run: Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, Migrator.MigrationError | SqlError, SqlClient> =
  Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "seedtest_migrations" })
