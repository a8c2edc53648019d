import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"

/** A (pipeline, fire time) the scheduler has seen, as stored in `schedule_slot`. */
export const Slot = Schema.Struct({
  pipeline: Schema.String,
  slot: Schema.DateFromSelf,
  status: Schema.Literal("pending", "running", "succeeded", "failed", "skipped"),
  attempts: Schema.Number,
  owner: Schema.NullOr(Schema.String),
  run_id: Schema.NullOr(Schema.String),
  next_attempt_at: Schema.NullOr(Schema.DateFromSelf),
  heartbeat_at: Schema.NullOr(Schema.DateFromSelf),
  detail: Schema.NullOr(Schema.String)
})
export type Slot = typeof Slot.Type

const Key = Schema.Struct({ pipeline: Schema.String, slot: Schema.DateFromSelf })

/**
 * The scheduler's claims in `schedule_slot`. Every time is passed in (the scheduler's Clock), never the database's
 * `now()`, so a simulated week under TestClock and a real one behave alike.
 */
export class SlotStore extends Effect.Service<SlotStore>()("@seedtest/engine/SlotStore", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const parseDie = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.catchIf(
          (e): e is Extract<E, { _tag: "ParseError" }> => (e as { _tag?: string })._tag === "ParseError",
          Effect.die
        )
      )

    const findOpen = SqlSchema.findAll({
      Request: Schema.Struct({ now: Schema.DateFromSelf, maxAttempts: Schema.Number }),
      Result: Slot,
      execute: ({ maxAttempts, now }) =>
        sql`SELECT pipeline, slot, status, attempts, owner, run_id, next_attempt_at, heartbeat_at, detail
            FROM schedule_slot
            WHERE (status = 'pending' OR (status = 'failed' AND attempts < ${maxAttempts}))
              AND (next_attempt_at IS NULL OR next_attempt_at <= ${now})
            ORDER BY slot, pipeline`
    })
    const findInRange = SqlSchema.findAll({
      Request: Schema.Struct({ pipeline: Schema.String, from: Schema.DateFromSelf, to: Schema.DateFromSelf }),
      Result: Slot,
      execute: ({ from, pipeline, to }) =>
        sql`SELECT pipeline, slot, status, attempts, owner, run_id, next_attempt_at, heartbeat_at, detail
            FROM schedule_slot WHERE pipeline = ${pipeline} AND slot >= ${from} AND slot < ${to} ORDER BY slot`
    })
    const findLatest = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ slot: Schema.DateFromSelf }),
      execute: (pipeline) =>
        sql`SELECT max(slot) AS slot FROM schedule_slot WHERE pipeline = ${pipeline} HAVING max(slot) IS NOT NULL`
    })
    const nextRetry = SqlSchema.findOne({
      Request: Schema.Number,
      Result: Schema.Struct({ at: Schema.DateFromSelf }),
      execute: (maxAttempts) =>
        sql`SELECT min(next_attempt_at) AS at FROM schedule_slot
            WHERE status = 'failed' AND attempts < ${maxAttempts} HAVING min(next_attempt_at) IS NOT NULL`
    })

    return {
      /** Records fire times (idempotent across replicas: the first writer of a slot wins). */
      register: Effect.fn("SlotStore.register")(function* (
        slots: ReadonlyArray<{
          readonly pipeline: string
          readonly slot: Date
          readonly status: "pending" | "skipped"
          readonly detail: string | null
        }>,
        now: Date
      ) {
        for (const s of slots) {
          yield* sql`INSERT INTO schedule_slot (pipeline, slot, status, updated_at, detail)
                     VALUES (${s.pipeline}, ${s.slot}, ${s.status}, ${now}, ${s.detail})
                     ON CONFLICT (pipeline, slot) DO NOTHING`
        }
      }),
      /** The latest slot recorded for a pipeline (where catch-up starts). */
      latest: (pipeline: string) => parseDie(findLatest(pipeline)),
      /** Slots that may run now: pending, or failed with attempts left and their backoff over. */
      open: (now: Date, maxAttempts: number) => parseDie(findOpen({ now, maxAttempts })),
      /** A pipeline's slots in [from, to). */
      inRange: (pipeline: string, from: Date, to: Date) => parseDie(findInRange({ pipeline, from, to })),
      /** The earliest retry time of a failed slot with attempts left. */
      nextRetry: (maxAttempts: number) => parseDie(nextRetry(maxAttempts)),
      /**
       * Takes a slot for `owner`. Only one replica can win: the row is updated only while it is still claimable,
       * and Postgres serialises the competing UPDATEs on the row lock.
       */
      claim: Effect.fn("SlotStore.claim")(function* (
        key: typeof Key.Type,
        claim: { readonly owner: string; readonly runId: string; readonly now: Date; readonly maxAttempts: number }
      ) {
        const rows = yield* sql<{ attempts: number }>`
          UPDATE schedule_slot
          SET status = 'running', owner = ${claim.owner}, run_id = ${claim.runId}, attempts = attempts + 1,
              heartbeat_at = ${claim.now}, updated_at = ${claim.now}, detail = NULL
          WHERE pipeline = ${key.pipeline} AND slot = ${key.slot}
            AND (status = 'pending' OR (status = 'failed' AND attempts < ${claim.maxAttempts}))
            AND (next_attempt_at IS NULL OR next_attempt_at <= ${claim.now})
          RETURNING attempts`
        return rows[0]?.attempts
      }),
      /** Says the claimed slot's run is alive. */
      heartbeat: (key: typeof Key.Type, owner: string, now: Date) =>
        sql`UPDATE schedule_slot SET heartbeat_at = ${now}
            WHERE pipeline = ${key.pipeline} AND slot = ${key.slot} AND owner = ${owner} AND status = 'running'`.pipe(
          Effect.asVoid
        ),
      /** Ends a claimed slot. A failure may be retried at `nextAttemptAt`. */
      finish: Effect.fn("SlotStore.finish")(function* (
        key: typeof Key.Type,
        end: {
          readonly owner: string
          readonly status: "succeeded" | "failed" | "skipped"
          readonly now: Date
          readonly detail: string | null
          readonly nextAttemptAt: Date | null
        }
      ) {
        yield* sql`UPDATE schedule_slot
                   SET status = ${end.status}, updated_at = ${end.now}, detail = ${end.detail}, next_attempt_at = ${end.nextAttemptAt}
                   WHERE pipeline = ${key.pipeline} AND slot = ${key.slot}`
      }),
      /** Fails running slots whose heartbeat stopped (their process died), and their run records. */
      failStale: Effect.fn("SlotStore.failStale")(function* (staleBefore: Date, now: Date, nextAttemptAt: Date) {
        const stale = yield* sql<{ pipeline: string; slot: Date; owner: string | null; run_id: string | null }>`
          UPDATE schedule_slot
          SET status = 'failed', updated_at = ${now}, next_attempt_at = ${nextAttemptAt},
              detail = 'no heartbeat from ' || coalesce(owner, '?') || ' since ' || to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '; its process died'
          WHERE status = 'running' AND heartbeat_at < ${staleBefore}
          RETURNING pipeline, slot, owner, run_id`
        for (const s of stale) {
          if (s.run_id !== null) {
            yield* sql`UPDATE pipeline_run
                       SET status = 'failed', finished_at = ${now},
                           error = ${JSON.stringify({ tag: "ProcessDied", reason: null, stage: null, message: `the process running it (${s.owner ?? "?"}) stopped sending heartbeats` })}::jsonb
                       WHERE id = ${s.run_id} AND status = 'running'`
          }
        }
        return stale
      })
    }
  })
}) {}
