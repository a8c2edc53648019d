import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** Marks the input tables this project created, so `seed` only ever rewrites its own demo tables. */
export const demoTableComment = "seedtest demo table: created by migration 0003 for the embedded/demo database"

/**
 * The input relations `attempt` and `session` belong to the host database. They are created here only when the
 * database has no relation of that name (embedded/demo databases); a host table or view is never touched, not even
 * with an index. The tables carry no foreign keys: like a host view, they may hold what the pipelines must survive.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const [present] = yield* sql<{ attempt: boolean; session: boolean }>`
    SELECT to_regclass('attempt') IS NOT NULL AS attempt, to_regclass('session') IS NOT NULL AS session`
  if (present?.attempt === false) {
    yield* sql`
      CREATE TABLE attempt (
        id                bigint PRIMARY KEY,
        student_id        text NOT NULL,
        item_id           text NOT NULL,
        topic_id          text NOT NULL,
        session_id        text,
        correct           boolean,
        response_time_ms  integer,
        hint_used         boolean NOT NULL DEFAULT false,
        started_at        timestamptz NOT NULL,
        completed_at      timestamptz,
        attempt_no        integer NOT NULL DEFAULT 1
      )`
    yield* sql`CREATE INDEX attempt_started_at ON attempt (started_at)`
    yield* sql.unsafe(`COMMENT ON TABLE attempt IS '${demoTableComment}'`)
  }
  if (present?.session === false) {
    yield* sql`
      CREATE TABLE session (
        id          text PRIMARY KEY,
        user_id     text NOT NULL,
        started_at  timestamptz NOT NULL,
        ended_at    timestamptz,
        status      text NOT NULL DEFAULT 'completed'
      )`
    yield* sql`CREATE INDEX session_started_at ON session (started_at)`
    yield* sql.unsafe(`COMMENT ON TABLE session IS '${demoTableComment}'`)
  }
  // the truths planted by the generated cohort, for tests and model checks (not an input of any pipeline)
  yield* sql`
    CREATE TABLE IF NOT EXISTS cohort_meta (
      id                   integer PRIMARY KEY CHECK (id = 1),
      seed                 integer NOT NULL,
      students             integer NOT NULL,
      weeks                integer NOT NULL,
      start_date           date NOT NULL,
      end_date             date NOT NULL,
      anomaly_week_start   date NOT NULL,
      anomaly_logit_shift  double precision NOT NULL,
      attempts             bigint NOT NULL,
      sessions             bigint NOT NULL,
      generated_at         timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`
    CREATE TABLE IF NOT EXISTS cohort_truth (
      student_id         text PRIMARY KEY,
      archetype          text NOT NULL
                         CHECK (archetype IN ('regular', 'improver', 'struggler', 'fast', 'hint_leaner', 'churner')),
      ability0           double precision NOT NULL,
      growth_per_week    double precision NOT NULL,
      speed_factor       double precision NOT NULL,
      hint_rate          double precision NOT NULL,
      sessions_per_week  double precision NOT NULL,
      churn_after        date
    )`
})
