import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Schema } from "effect"
import { ExitCode, explain } from "../../cli/Failure.ts"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as Resource from "../../engine/Resource.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import type { SinkWriter } from "../../engine/Sink.ts"
import { postgres } from "../support/TestDatabase.ts"

/** A sink whose write loses the connection, as a database that stops mid-commit does. */
const losesConnection: SinkWriter<number, SqlClient.SqlClient> = {
  target: "lost_table",
  writes: Resource.many("lost_table"),
  write: (rows) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT pg_terminate_backend(pg_backend_pid())`).pipe(
      Effect.as({ target: "lost_table", inserted: rows.length, updated: 0, deleted: 0 })
    ),
  preview: () => Effect.die("not previewed in this test")
}

const pipeline = Pipeline.make({
  name: "commit-lost",
  description: "a run whose database goes away at the commit",
  params: {}
})
  .source("numbers", {
    description: "three numbers",
    reads: Resource.many("attempt"),
    output: Schema.Array(Schema.Number),
    run: () => Effect.succeed([1, 2, 3])
  })
  .sink("store", {
    description: "loses the connection",
    inputs: ["numbers"],
    writer: losesConnection,
    rows: ({ numbers }) => numbers
  })

layer(postgres, { timeout: Duration.minutes(2) })("a database lost during the commit", (it) => {
  it.effect("is an environment failure (exit 3) that says nothing was written, not an internal error", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(Runner.run(pipeline, { trigger: "test" }).pipe(Effect.provide(RunStore.Default)))
      assert.isTrue(Exit.isFailure(exit))
      if (!Exit.isFailure(exit)) return
      const error = Cause.failureOption(exit.cause)
      assert.strictEqual(error._tag, "Some")
      assert.deepInclude(error._tag === "Some" ? error.value : undefined, {
        _tag: "StageFailed",
        reason: "DatabaseLost",
        stage: "commit"
      })
      const explained = explain(exit.cause)!
      assert.strictEqual(explained.code, ExitCode.environment)
      assert.include(explained.message, "database connection was lost during the commit")
      assert.include(explained.hint!, "Nothing was written")
      assert.notInclude(explained.message, "internal error")
    })
  )
})
