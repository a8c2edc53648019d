// The entry point of a service outside the repository that installed seedtest-pipelines from its tarball: it runs
// test/library/consumer.ts (copied next to it by package.test.ts) against the embedded database, with plain node.
// Type-checked only there, by the consumer's own tsc: `./consumer.js` exists in that project, not in this folder.
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Database, type RunEvent } from "seedtest-pipelines"
import { pipelines } from "seedtest-pipelines/pipelines"
import { runGreetings } from "./consumer.js"

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS consumer_greeting (name text PRIMARY KEY, length int NOT NULL)`
  const events: Array<RunEvent> = []
  const result = yield* runGreetings(events)
  const stored = yield* sql<{ name: string; length: number }>`SELECT name, length FROM consumer_greeting ORDER BY name`
  const records = yield* sql<{ status: string; trigger: string }>`
    SELECT status, trigger FROM pipeline_run WHERE id = ${result.runId}`
  const succeeded = events.flatMap((e) => (e._tag === "StageSucceeded" ? [e.stage] : []))
  return { stored, records, succeeded, registered: pipelines.map((p) => p.name) }
})

const dataDir = process.argv[2]
if (dataDir === undefined) throw new Error("usage: node out/main.js <data folder>")
Effect.runPromise(program.pipe(Effect.provide(Database.migrated(Database.layerEmbedded(dataDir))))).then(
  (out) => console.log(JSON.stringify(out)),
  (error: unknown) => {
    console.error(String(error))
    process.exit(1)
  }
)
