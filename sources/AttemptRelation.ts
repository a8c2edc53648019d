import { SqlClient, type Statement } from "@effect/sql"
import { Effect } from "effect"

/**
 * Whether `attempt.id` is guaranteed unique (a table with a one-column unique index on it): then no deduplication
 * is needed. A view, or a table without such an index, may repeat ids.
 */
export const attemptIdsUnique = Effect.fn("AttemptRelation.attemptIdsUnique")(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ unique: boolean }>`
    SELECT EXISTS (
      SELECT 1 FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = to_regclass('attempt') AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL
        AND a.attname = 'id'
    ) AS unique`
  return rows[0]?.unique === true
})

/**
 * The attempts of a run's range `[b.lo, b.hi)` (a CTE `b` the query defines), as a subquery fragment. Without a
 * unique index on attempt.id (a view, a host table), rows repeating an id are dropped — the earliest started copy is
 * kept — and `copies` counts them; with one, the relation cannot hold duplicates and the sort is skipped.
 *
 * `bounds` replaces `b.lo` and `b.hi` by expressions the planner can evaluate (fragments with query parameters), so
 * that it estimates how much of `attempt` the range holds (from a CTE it assumes a small part, and picks an index
 * scan even for most of the table).
 */
export const attempts = (
  sql: SqlClient.SqlClient,
  deduplicate: boolean,
  bounds?: { readonly lo: Statement.Fragment; readonly hi: Statement.Fragment }
): Statement.Fragment => {
  const inRange =
    bounds === undefined
      ? sql`FROM attempt r, b WHERE r.started_at >= b.lo AND r.started_at < b.hi`
      : sql`FROM attempt r WHERE r.started_at >= ${bounds.lo} AND r.started_at < ${bounds.hi}`
  return deduplicate
    ? sql`(SELECT DISTINCT ON (id) r.*, count(*) OVER (PARTITION BY id) AS copies
        ${inRange}
        ORDER BY id, started_at, completed_at NULLS LAST)`
    : sql`(SELECT r.*, 1 AS copies ${inRange})`
}
