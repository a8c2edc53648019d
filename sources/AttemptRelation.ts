import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Whether `attempt.id` is guaranteed unique (a table with a one-column unique index on it): then no deduplication
 * is needed. A view, or a table without such an index, may repeat ids.
 */
export const attemptIdsUnique = Effect.fn("AttemptRelation.attemptIdsUnique")(function*() {
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
 * The attempts of a run's range `[b.lo, b.hi)` (a CTE `b` the query defines), as a subquery. Without a unique index
 * on attempt.id (a view, a host table), rows repeating an id are dropped — the earliest started copy is kept — and
 * `copies` counts them; with one, the relation cannot hold duplicates and the sort is skipped.
 *
 * `bounds` replaces `b.lo` and `b.hi` by expressions the planner can evaluate (query parameters), so that it
 * estimates how much of `attempt` the range holds (from a CTE it assumes a small part, and picks an index scan
 * even for most of the table).
 */
export const attempts = (deduplicate: boolean, bounds?: { readonly lo: string; readonly hi: string }) => {
  const from = bounds === undefined ? "attempt r, b" : "attempt r"
  const { hi, lo } = bounds ?? { lo: "b.lo", hi: "b.hi" }
  return deduplicate
    ? `(SELECT DISTINCT ON (id) r.*, count(*) OVER (PARTITION BY id) AS copies
        FROM ${from} WHERE r.started_at >= ${lo} AND r.started_at < ${hi}
        ORDER BY id, started_at, completed_at NULLS LAST)`
    : `(SELECT r.*, 1 AS copies FROM ${from} WHERE r.started_at >= ${lo} AND r.started_at < ${hi})`
}
