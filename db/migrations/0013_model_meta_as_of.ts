import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The survival and segment meta tables learn which as-of day a fit was made for (so a re-run for the same day
 * replaces its own row instead of adding one) and keep what their predict endpoints need besides the mission's
 * columns (baseline hazard and imputation; scaling). Added columns are nullable: rows of the old system stay valid.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE survival_fit_meta ADD COLUMN IF NOT EXISTS as_of date`
  yield* sql`ALTER TABLE survival_fit_meta ADD COLUMN IF NOT EXISTS model jsonb`
  yield* sql`CREATE INDEX IF NOT EXISTS survival_fit_meta_as_of ON survival_fit_meta (as_of)`
  yield* sql`ALTER TABLE segment_meta ADD COLUMN IF NOT EXISTS as_of date`
  yield* sql`ALTER TABLE segment_meta ADD COLUMN IF NOT EXISTS model jsonb`
  yield* sql`CREATE INDEX IF NOT EXISTS segment_meta_as_of ON segment_meta (as_of)`
})
