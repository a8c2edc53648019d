import { SqlClient } from "@effect/sql"
import { assert } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { RunStore } from "../../engine/RunStore.ts"
import { type RawAttempt, type RawSession, type ReferenceSettings, referenceKpis } from "./reference.ts"

/** A database with the run store, as the KPI suites need it. */
export const runtimeFor = (db: Layer.Layer<any, unknown>) => Layer.provideMerge(RunStore.Default, db)

/** The raw input rows, read back as plain values for the reference computation. */
export const readRaw = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const attempts = yield* sql<RawAttempt>`
    SELECT id::text AS id, student_id, item_id, session_id, correct, response_time_ms, hint_used,
           (extract(epoch FROM started_at) * 1000)::float8 AS started_ms,
           (extract(epoch FROM completed_at) * 1000)::float8 AS completed_ms
    FROM attempt`
  const sessions = yield* sql<RawSession>`
    SELECT id, user_id, (extract(epoch FROM started_at) * 1000)::float8 AS started_ms,
           (extract(epoch FROM ended_at) * 1000)::float8 AS ended_ms
    FROM session`
  return { attempts, sessions }
})

/** The stored weekly_kpi rows, ordered. */
export const readKpis = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ user_id: string; week_start: string; kpis: Record<string, number | null> }>`
    SELECT user_id, week_start::text AS week_start, kpis FROM weekly_kpi ORDER BY user_id, week_start`
})

/** Asserts that what the pipeline stored equals the reference computation, key by key, within 1e-9. */
export const assertMatchesReference = (settings: Omit<ReferenceSettings, "nowMs">) =>
  Effect.gen(function* () {
    const raw = yield* readRaw
    const expected = referenceKpis(raw.attempts, raw.sessions, { ...settings, nowMs: Date.now() })
    const stored = yield* readKpis
    assert.strictEqual(stored.length, expected.size, "the same student-weeks")
    let compared = 0
    for (const row of stored) {
      const want = expected.get(`${row.user_id}|${row.week_start}`)
      assert.isDefined(want, `reference has ${row.user_id} ${row.week_start}`)
      for (const [key, value] of Object.entries(want!)) {
        const got = row.kpis[key]
        const where = `${key} of ${row.user_id} in week ${row.week_start}: stored ${got}, reference ${value}`
        if (value === null) assert.isNull(got, where)
        else {
          assert.isNumber(got, where)
          assert.isTrue(Math.abs((got as number) - value) <= 1e-9, where)
        }
        compared++
      }
    }
    return compared
  })

/**
 * Dirties a generated cohort the way host data is dirty: unknown correctness, impossible response times, sessions
 * never closed or closed before they started, a student with one attempt, one with sessions only, and rows dated
 * after now.
 */
export const injectBadRows = (lastDay: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`UPDATE attempt SET correct = NULL WHERE id % 53 = 0`
    yield* sql`UPDATE attempt SET response_time_ms = -120 WHERE id % 47 = 0`
    yield* sql`UPDATE attempt SET response_time_ms = 86400000 WHERE id % 43 = 0`
    yield* sql`UPDATE attempt SET response_time_ms = NULL WHERE id % 41 = 0`
    yield* sql`UPDATE session SET ended_at = NULL WHERE id IN (SELECT id FROM session ORDER BY id LIMIT 5)`
    yield* sql`UPDATE session SET ended_at = started_at - interval '1 hour' WHERE id IN (SELECT id FROM session ORDER BY id DESC LIMIT 5)`
    yield* sql`
      INSERT INTO attempt (id, student_id, item_id, topic_id, session_id, correct, response_time_ms, hint_used, started_at, completed_at)
      VALUES (990000001, 'lonely', 'alg-001', 'algebra', 'lonely-1', true, 20000, false,
              ${lastDay}::date - interval '2 days' + interval '9 hours', ${lastDay}::date - interval '2 days' + interval '9 hours 20 seconds'),
             (990000002, 'timetraveller', 'alg-002', 'algebra', 'tt-1', true, 20000, false, now() + interval '30 days', NULL)`
    yield* sql`
      INSERT INTO session (id, user_id, started_at, ended_at, status)
      VALUES ('lonely-1', 'lonely', ${lastDay}::date - interval '2 days' + interval '9 hours', ${lastDay}::date - interval '2 days' + interval '9 hours 5 minutes', 'completed'),
             ('visitor-1', 'visitor', ${lastDay}::date - interval '10 days' + interval '8 hours', NULL, 'abandoned'),
             ('visitor-2', 'visitor', ${lastDay}::date - interval '3 days' + interval '8 hours', ${lastDay}::date - interval '3 days' + interval '8 hours 1 minute', 'abandoned'),
             ('tt-1', 'timetraveller', now() + interval '30 days', NULL, 'completed')`
  })

/** Every KPI value is a finite number or null. */
export const assertFiniteOrNull = (rows: ReadonlyArray<{ readonly kpis: Record<string, unknown> }>) => {
  for (const row of rows) {
    for (const [key, value] of Object.entries(row.kpis)) {
      assert.isTrue(
        value === null || (typeof value === "number" && Number.isFinite(value)),
        `${key} = ${String(value)}`
      )
    }
  }
}
