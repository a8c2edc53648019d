import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The console lists the whole run history newest first, filtered by status or trigger: an index on the start time
 * keeps a page of it one index range read however long the history grows (bench/console.ts).
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX IF NOT EXISTS pipeline_run_started ON pipeline_run (started_at DESC, id DESC)`
})
