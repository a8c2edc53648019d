import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit } from "effect"
import type { CheckResult } from "./Check.ts"
import type { RunError } from "./Errors.ts"
import type * as Pipeline from "./Pipeline.ts"
import { announceFill, logAnnotations, type PreparedRun, prepare, type RunOptions } from "./PreparedRun.ts"
import { RunObserver } from "./RunObserver.ts"
import type { StageRecord } from "./RunStore.ts"
import type { SinkPreview } from "./Sink.ts"
import * as SinkChecks from "./SinkChecks.ts"
import { previewSink, sinkRows } from "./SinkWriting.ts"
import { computeStages } from "./StageExecution.ts"
import * as StageTracker from "./StageTracker.ts"

/** What a run would have written. Nothing was written, not even a run record. */
export interface DryRunReport {
  readonly runId: string
  readonly pipeline: string
  readonly params: Readonly<Record<string, string>>
  readonly stages: ReadonlyArray<StageRecord>
  readonly sinks: ReadonlyArray<SinkPreview>
  /** The sinks' data checks, evaluated on the rows the run would write (a failed `error` check would stop it). */
  readonly checks: ReadonlyArray<CheckResult>
  readonly millis: number
}

const dryRunPrepared = <R>(prepared: PreparedRun) =>
  Effect.gen(function* () {
    const observer = yield* RunObserver
    const sql = yield* SqlClient.SqlClient
    const tracker = StageTracker.make(prepared.pipeline)
    const started = performance.now()
    yield* observer.onEvent({
      _tag: "RunStarted",
      runId: prepared.runId,
      pipeline: prepared.pipeline.name,
      dryRun: true,
      stages: prepared.pipeline.stages.length
    })
    yield* announceFill(prepared, tracker)
    const work = Effect.gen(function* () {
      const outputs = yield* computeStages<R>(prepared, tracker, true)
      const sinks = yield* sinkRows(prepared, tracker, outputs)
      const context = { runId: prepared.runId, pipeline: prepared.pipeline.name }
      const previews = yield* Effect.forEach(sinks, ({ input, sink }) => previewSink<R>(sink, input, context))
      const checked = sinks.filter(({ sink }) => SinkChecks.checksOf(sink).length > 0)
      // the checks need a transaction for their temporary table; it holds nothing else and ends at once
      const checks =
        checked.length === 0
          ? []
          : yield* sql.withTransaction(
              Effect.forEach(checked, ({ input, inputs, sink }) =>
                SinkChecks.evaluate(prepared.pipeline.name, sink, input, inputs)
              )
            )
      return { previews, checks: checks.flat() }
    })
    const exit = yield* Effect.exit(work)
    const millis = performance.now() - started
    yield* observer.onEvent({
      _tag: "RunFinished",
      runId: prepared.runId,
      status: Exit.isSuccess(exit) ? "succeeded" : "failed",
      millis
    })
    const { checks, previews } = yield* exit
    return {
      runId: prepared.runId,
      pipeline: prepared.pipeline.name,
      params: prepared.encodedParams,
      stages: StageTracker.final(tracker),
      sinks: previews,
      checks,
      millis
    } satisfies DryRunReport
  })

/**
 * Runs a pipeline with the same reads and model calls but writes nothing: each sink's writer reports what it would
 * insert, update or leave unchanged compared with what is stored, and each sink's checks are evaluated on the rows it
 * would write. No run record is written.
 */
export const dryRun = <P extends Pipeline.Any>(
  pipeline: P,
  options: RunOptions = {}
): Effect.Effect<DryRunReport, RunError | SqlError, Pipeline.Requirements<P> | SqlClient.SqlClient> =>
  prepare(pipeline, options).pipe(
    Effect.flatMap((prepared) =>
      dryRunPrepared<Pipeline.Requirements<P>>(prepared).pipe(Effect.annotateLogs(logAnnotations(prepared)))
    ),
    Effect.withSpan(`dry-run ${pipeline.name}`, { attributes: { pipeline: pipeline.name } })
  )
