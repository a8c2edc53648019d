import type { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, Schema } from "effect"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as Resource from "../../engine/Resource.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { embedded } from "../support/TestDatabase.ts"

/** Two independent branches that log, so annotations must reach concurrently running stage fibers too. */
const chatty = Pipeline.make({ name: "kernel-logs", description: "test pipeline", params: {} })
  .source("numbers", {
    description: "three numbers",
    reads: Resource.many("numbers"),
    output: Schema.Array(Schema.Number),
    run: () => Effect.as(Effect.logInfo("reading numbers"), [1, 2, 3])
  })
  .model("left", {
    description: "logs",
    inputs: ["numbers"],
    output: Schema.Number,
    run: ({ numbers }) => Effect.as(Effect.logWarning("left branch"), numbers.length)
  })
  .model("right", {
    description: "logs",
    inputs: ["numbers"],
    output: Schema.Number,
    run: ({ numbers }) => Effect.as(Effect.logInfo("right branch"), numbers.length)
  })

/** The lines the JSON logger (LOG_FORMAT=json) would print, parsed. */
const capture = () => {
  const lines: Array<Record<string, unknown>> = []
  const logger = Logger.map(Logger.jsonLogger, (line) => {
    lines.push(JSON.parse(line))
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

layer(Layer.provideMerge(RunStore.Default, embedded), { timeout: Duration.minutes(2) })("Run logs", (it) => {
  it.effect("every log line of a run and of a dry run carries runId and pipeline annotations", () =>
    Effect.gen(function* () {
      for (const mode of ["run", "dryRun"] as const) {
        const { layer: logs, lines } = capture()
        const runId = `run_logs_${mode}`
        const started: Effect.Effect<{ readonly runId: string }, unknown, RunStore | SqlClient.SqlClient> =
          mode === "run" ? Runner.run(chatty, { runId }) : Runner.dryRun(chatty, { runId })
        const result = yield* Effect.provide(started, logs)
        assert.strictEqual(result.runId, runId)
        const messages = lines.map((l) => String(l.message)).sort()
        assert.deepStrictEqual(messages, ["left branch", "reading numbers", "right branch"], mode)
        for (const line of lines) {
          const what = `${mode}: ${String(line.message)}`
          assert.deepStrictEqual(line.annotations, { runId, pipeline: "kernel-logs" }, what)
        }
      }
    })
  )
})
