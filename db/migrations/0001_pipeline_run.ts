import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** The run history: one row per real (not dry) run, written by the RunStore. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE IF NOT EXISTS pipeline_run (
      id            text PRIMARY KEY,
      pipeline      text NOT NULL,
      params        jsonb NOT NULL DEFAULT '{}'::jsonb,
      trigger       text NOT NULL,
      slot          text,
      status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
      started_at    timestamptz NOT NULL DEFAULT now(),
      finished_at   timestamptz,
      heartbeat_at  timestamptz NOT NULL DEFAULT now(),
      stages        jsonb NOT NULL DEFAULT '[]'::jsonb,
      sinks         jsonb NOT NULL DEFAULT '[]'::jsonb,
      error         jsonb,
      host          text
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS pipeline_run_pipeline_started ON pipeline_run (pipeline, started_at DESC)`
})
