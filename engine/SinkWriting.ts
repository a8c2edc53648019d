import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Option } from "effect"
import type { CheckResult } from "./Check.ts"
import { CheckFailed, describe, StageFailed } from "./Errors.ts"
import type { PreparedRun } from "./PreparedRun.ts"
import { stageContext } from "./PreparedRun.ts"
import { Redactor } from "./Redactor.ts"
import * as Relation from "./Relation.ts"
import type { SinkWriteResult, SinkWriter, WriteContext } from "./Sink.ts"
import { writesRelations } from "./Sink.ts"
import type { SinkInput } from "./SinkChecks.ts"
import * as SinkChecks from "./SinkChecks.ts"
import type { Stage } from "./Stage.ts"
import { body, runStage } from "./StageExecution.ts"
import type { StageTracker, TrackedStage } from "./StageTracker.ts"

/** One sink with the rows it is about to write and the upstream outputs it consumed. */
export interface PendingSink {
  readonly sink: Stage
  readonly input: SinkInput
  readonly inputs: Readonly<Record<string, unknown>>
  readonly record: TrackedStage
}

/** A sink's writer with its requirements restored (see `StageExecution.body`). */
const writerOf = <R>(sink: Stage) => sink.writer as SinkWriter<unknown, R>

/**
 * A relation reaching a writer that only takes rows is a wiring bug (the typed builder prevents it; `fromStages` does
 * not): the sink fails as a defect before the transaction opens.
 */
const checkWriterTakes = (prepared: PreparedRun, sink: Stage) => (input: unknown) =>
  Relation.isRelation(input) && !writesRelations(sink.writer!)
    ? Effect.dieMessage(
        `sink "${sink.name}" of ${prepared.pipeline.name} returned a relation, but the writer of ${
          sink.writer!.target
        } does not take relations (it has no writeRelation)`
      )
    : Effect.void

/** The rows of every sink, computed from the stage outputs (pure, before any transaction opens). */
export const sinkRows = (
  prepared: PreparedRun,
  tracker: StageTracker,
  outputs: ReadonlyMap<string, unknown>
): Effect.Effect<ReadonlyArray<PendingSink>, StageFailed> =>
  Effect.forEach(
    prepared.pipeline.stages.filter((s) => s.kind === "sink"),
    (sink) => {
      const record = tracker.of(sink.name)
      const inputs = Object.fromEntries(sink.inputs.map((name) => [name, outputs.get(name)]))
      const rows = () =>
        Effect.tap(body<never>(sink)(inputs, stageContext(prepared, record, false)), checkWriterTakes(prepared, sink))
      return runStage(prepared, sink, record, rows).pipe(
        Effect.map((input) => ({ sink, input: input as SinkInput, inputs, record }))
      )
    }
  )

/** Writes one sink's input with its writer: rows, or a relation executed in the database. */
const writeSink = <R>(writer: SinkWriter<unknown, R>, input: SinkInput, context: WriteContext) =>
  Relation.isRelation(input) && writesRelations(writer)
    ? writer.writeRelation(input, context)
    : writer.write(input as ReadonlyArray<unknown>, context)

/** What a dry run reports for one sink's input. */
export const previewSink = <R>(sink: Stage, input: SinkInput, context: WriteContext) => {
  const writer = writerOf<R>(sink)
  return Relation.isRelation(input) && writesRelations(writer)
    ? writer.previewRelation(input, context)
    : writer.preview(input as ReadonlyArray<unknown>, context)
}

/**
 * Evaluates a sink's checks (results appended to `results` as they come, so a rolled-back run still records them)
 * and fails with `CheckFailed` on the first failed check of severity `error`.
 */
export const runChecks = (prepared: PreparedRun, pending: PendingSink, results: Array<CheckResult>) =>
  Effect.gen(function* () {
    const evaluated = yield* SinkChecks.evaluate(prepared.pipeline.name, pending.sink, pending.input, pending.inputs)
    results.push(...evaluated)
    const failed = evaluated.find((r) => r.status === "failed" && r.severity === "error")
    if (failed !== undefined) {
      return yield* new CheckFailed({
        pipeline: prepared.pipeline.name,
        sink: failed.sink,
        check: failed.check,
        failing: failed.failing,
        rows: failed.rows,
        samples: failed.samples
      })
    }
  })

/**
 * Checks and writes every sink in ONE transaction: a failed check of severity `error` or a failed write rolls all of
 * them back. Check results go into `checks` even when the transaction rolls back.
 */
export const commitSinks = <R>(
  prepared: PreparedRun,
  sinks: ReadonlyArray<PendingSink>,
  checks: Array<CheckResult>
): Effect.Effect<ReadonlyArray<SinkWriteResult>, StageFailed | CheckFailed, R | SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const redactor = yield* Redactor
    const context = { runId: prepared.runId, pipeline: prepared.pipeline.name }
    const writeFailed = (stage: string, reason: "WriteFailed" | "DatabaseLost", error: unknown) =>
      new StageFailed({
        reason,
        pipeline: prepared.pipeline.name,
        stage,
        attempts: 1,
        detail: redactor.scrub(describe(error))
      })
    return yield* sql
      .withTransaction(
        Effect.forEach(sinks, (pending) => {
          const { input, record, sink } = pending
          return runChecks(prepared, pending, checks).pipe(
            Effect.zipRight(writeSink(writerOf<R>(sink), input, context)),
            // the sink's time includes its checks and write; a relation's rows are known once the database wrote them
            Effect.timed,
            Effect.map(([elapsed, result]) => {
              record.millis = (record.millis ?? 0) + Duration.toMillis(elapsed)
              if (Relation.isRelation(input)) record.rows = result.inserted + result.updated
              return result
            }),
            Effect.mapError((e) => {
              record.status = "failed"
              record.error = describe(e)
              return e instanceof CheckFailed ? e : writeFailed(sink.name, "WriteFailed", e)
            })
          )
        })
      )
      .pipe(
        Effect.catchTag("SqlError", (e) => writeFailed("commit", "WriteFailed", e)),
        // @effect/sql makes a failed COMMIT or ROLLBACK a defect; here it means the connection went away mid-commit,
        // which is the environment's failure, not a bug
        Effect.catchSomeDefect((defect) =>
          defect instanceof SqlError ? Option.some(writeFailed("commit", "DatabaseLost", defect)) : Option.none()
        )
      )
  })
