import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import type { RunEvent } from "seedtest-pipelines"
import { databases } from "../support/TestDatabase.ts"
import { runGreetings } from "./consumer.ts"

const [, embedded] = databases[0]

layer(embedded, { timeout: Duration.minutes(1) })("the public library entry", (it) => {
  it.effect("runs a pipeline declared in a consumer module inside the consumer's runtime and layers", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE consumer_greeting (name text PRIMARY KEY, length int NOT NULL)`
      const events: Array<RunEvent> = []
      const result = yield* runGreetings(events)
      const rows = yield* sql<{
        name: string
        length: number
      }>`SELECT name, length FROM consumer_greeting ORDER BY name`
      // "ada" is shorter than the minLength=4 parameter the consumer passed
      assert.deepStrictEqual(
        rows.map((r) => [r.name, r.length]),
        [
          ["edsger", 6],
          ["grace", 5]
        ]
      )
      const [record] = yield* sql<{
        status: string
        trigger: string
      }>`SELECT status, trigger FROM pipeline_run WHERE id = ${result.runId}`
      assert.deepStrictEqual(record, { status: "succeeded", trigger: "library" })
      assert.deepStrictEqual(
        events.filter((e) => e._tag === "StageSucceeded").map((e) => (e as { stage: string }).stage),
        ["names", "lengths", "store"]
      )
    })
  )
})
