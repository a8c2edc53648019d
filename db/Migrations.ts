import * as Migrator from "@effect/sql/Migrator"
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import pipelineRun from "./migrations/0001_pipeline_run.ts"
import modelTables from "./migrations/0002_model_tables.ts"
import demoInputs from "./migrations/0003_demo_inputs.ts"
import scheduleSlot from "./migrations/0010_schedule_slot.ts"
import modelMetaAsOf from "./migrations/0013_model_meta_as_of.ts"
import prophetAsOf from "./migrations/0014_prophet_as_of.ts"
import pipelineRunRecent from "./migrations/0050_pipeline_run_recent.ts"
import pipelineRunChecks from "./migrations/0060_pipeline_run_checks.ts"

/**
 * Every migration, in order. Ids are the numeric prefixes; a new migration is a new file here, never an edit of
 * an applied one.
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient>> = {
  "0001_pipeline_run": pipelineRun,
  "0002_model_tables": modelTables,
  "0003_demo_inputs": demoInputs,
  "0010_schedule_slot": scheduleSlot,
  "0013_model_meta_as_of": modelMetaAsOf,
  "0014_prophet_as_of": prophetAsOf,
  "0050_pipeline_run_recent": pipelineRunRecent,
  "0060_pipeline_run_checks": pipelineRunChecks
}

/** Applies the pending migrations of `record` in one transaction under a lock on `table` (idempotent). */
export const apply = (
  record: Record<string, Effect.Effect<void, unknown, SqlClient>>,
  table: string
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, Migrator.MigrationError | SqlError, SqlClient> =>
  Migrator.make({})({ loader: Migrator.fromRecord(record), table }).pipe(
    // the Migrator reports a failing migration as a defect; it is an environment failure, so make it a typed one
    Effect.catchAllDefect((defect) =>
      Effect.fail(
        defect instanceof Migrator.MigrationError
          ? defect
          : new Migrator.MigrationError({ reason: "failed", message: String(defect), cause: defect })
      )
    )
  )

/** Applies the project's pending migrations (idempotent; concurrent starts wait for each other). */
export const run = apply(migrations, "seedtest_migrations")
