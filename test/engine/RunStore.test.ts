import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { RunStore } from "../../engine/RunStore.ts"
import { databases } from "../support/TestDatabase.ts"

for (const [name, database] of databases) {
  describe(name, () => {
    layer(database, { timeout: Duration.minutes(2) })("the run history of a process that opens the database", (it) => {
      it.effect("finishes as failed the manual runs whose process stopped its heartbeat, and only those", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          // a manual run killed 10 minutes ago, one still beating, and a dead scheduled one (the scheduler's to reap)
          yield* sql`INSERT INTO pipeline_run (id, pipeline, params, trigger, slot, status, host, heartbeat_at) VALUES
            ('run_dead', 'p', '{}'::jsonb, 'manual', NULL, 'running', 'box:4242', now() - interval '10 minutes'),
            ('run_alive', 'p', '{}'::jsonb, 'manual', NULL, 'running', 'box:4243', now() - interval '5 seconds'),
            ('run_slotted', 'p', '{}'::jsonb, 'schedule', '2026-11-23T02:10Z', 'running', 'box:4244', now() - interval '10 minutes')`
          // opening the run history is what any process does first (the CLI builds RunStore with the database)
          yield* Layer.build(RunStore.Default).pipe(Effect.scoped)
          const rows = yield* sql<{
            id: string
            status: string
            finished: boolean
            error: { tag: string; message: string } | null
          }>`
            SELECT id, status, finished_at IS NOT NULL AS finished, error FROM pipeline_run ORDER BY id`
          const byId = Object.fromEntries(rows.map((r) => [r.id, r]))
          assert.strictEqual(byId.run_dead!.status, "failed")
          assert.isTrue(byId.run_dead!.finished)
          assert.strictEqual(byId.run_dead!.error!.tag, "ProcessDied")
          assert.include(byId.run_dead!.error!.message, "box:4242")
          assert.strictEqual(byId.run_alive!.status, "running")
          assert.strictEqual(byId.run_slotted!.status, "running")
        })
      )
    })
  })
}
