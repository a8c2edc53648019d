import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The Prophet tables learn which as-of week a forecast was made for (so a re-run for the same week replaces its own
 * rows) and whose series an anomaly belongs to (null: the cohort series). Nullable: the old system's rows stay valid.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE prophet_fit_meta ADD COLUMN IF NOT EXISTS as_of_week date`
  yield* sql`CREATE INDEX IF NOT EXISTS prophet_fit_meta_as_of_week ON prophet_fit_meta (as_of_week)`
  yield* sql`ALTER TABLE prophet_anomalies ADD COLUMN IF NOT EXISTS user_id text`
  yield* sql`CREATE INDEX IF NOT EXISTS prophet_anomalies_user ON prophet_anomalies (user_id, week_start)`
})
