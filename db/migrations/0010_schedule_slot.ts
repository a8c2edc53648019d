import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * One row per (pipeline, fire time) the scheduler has seen. The primary key is what makes a slot run once across
 * scheduler replicas: a replica takes a slot by a conditional UPDATE that only one of them can win.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE IF NOT EXISTS schedule_slot (
      pipeline        text NOT NULL,
      slot            timestamptz NOT NULL,
      status          text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
      attempts        int NOT NULL DEFAULT 0,
      owner           text,
      run_id          text,
      next_attempt_at timestamptz,
      heartbeat_at    timestamptz,
      updated_at      timestamptz NOT NULL,
      detail          text,
      PRIMARY KEY (pipeline, slot)
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS schedule_slot_open ON schedule_slot (status) WHERE status IN ('pending', 'running', 'failed')`
})
