import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** The data checks a run evaluated before its commit, with their results and sample rows (see engine/Check.ts). */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE pipeline_run ADD COLUMN IF NOT EXISTS checks jsonb NOT NULL DEFAULT '[]'::jsonb`
})
