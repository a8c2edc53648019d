import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Duration, Effect, Exit, Fiber, Option, Schedule } from "effect"
import type { CheckResult } from "./Check.ts"
import { describe, type RunError, StageFailed } from "./Errors.ts"
import type * as Pipeline from "./Pipeline.ts"
import { announceFill, logAnnotations, type PreparedRun, prepare, type RunOptions } from "./PreparedRun.ts"
import { type RunEvent, RunObserver } from "./RunObserver.ts"
import { RunStore, type StageRecord } from "./RunStore.ts"
import type { SinkWriteResult } from "./Sink.ts"
import { commitSinks, sinkRows } from "./SinkWriting.ts"
import { computeStages } from "./StageExecution.ts"
import * as StageTracker from "./StageTracker.ts"

export { type DryRunReport, dryRun } from "./DryRun.ts"
export type { RunOptions } from "./PreparedRun.ts"
export { makeRunId } from "./RunId.ts"

/** A run that committed. */
export interface RunResult {
  readonly runId: string
  readonly pipeline: string
  readonly params: Readonly<Record<string, string>>
  readonly stages: ReadonlyArray<StageRecord>
  readonly sinks: ReadonlyArray<SinkWriteResult>
  /** The sinks' data checks: all passed or only warned (a failed `error` check fails the run). */
  readonly checks: ReadonlyArray<CheckResult>
  readonly millis: number
}

/** How a failure is stored in the run record. */
const errorRecord = (error: unknown) => ({
  tag: typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Error",
  reason: typeof error === "object" && error !== null && "reason" in error ? String(error.reason) : null,
  stage: error instanceof StageFailed ? error.stage : null,
  message: describe(error)
})

/** The failure a run ended with, or null when it succeeded (an interruption is one too: nothing was committed). */
const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isSuccess(exit)
    ? null
    : Option.getOrElse(Cause.failureOption(exit.cause), () =>
        Cause.isInterruptedOnly(exit.cause)
          ? { _tag: "Interrupted", message: "the run was interrupted before it committed; nothing was written" }
          : Cause.squash(exit.cause)
      )

/**
 * The observer of a run's stages that also writes each stage's start and end into the run record as they happen, so
 * the console and `runs show` follow a run in progress. A record that cannot be written does not stop the run (the
 * heartbeat and the final record carry on).
 */
const liveRecord = (
  observer: RunObserver["Type"],
  store: RunStore,
  runId: string,
  tracker: StageTracker.StageTracker
): RunObserver["Type"] => ({
  onEvent: (event: RunEvent) =>
    Effect.zipRight(
      observer.onEvent(event),
      event._tag === "StageStarted" || event._tag === "StageSucceeded" || event._tag === "StageFailed"
        ? store.progress(runId, StageTracker.snapshot(tracker)).pipe(Effect.ignore)
        : Effect.void
    )
})

const runPrepared = <R>(prepared: PreparedRun, options: RunOptions) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const observer = yield* RunObserver
    const tracker = StageTracker.make(prepared.pipeline)
    const started = performance.now()
    const sinkResults: Array<SinkWriteResult> = []
    const checks: Array<CheckResult> = []

    yield* store.start({
      id: prepared.runId,
      pipeline: prepared.pipeline.name,
      params: prepared.encodedParams,
      trigger: options.trigger ?? "manual",
      slot: options.slot
    })
    yield* observer.onEvent({
      _tag: "RunStarted",
      runId: prepared.runId,
      pipeline: prepared.pipeline.name,
      dryRun: false,
      stages: prepared.pipeline.stages.length
    })
    yield* announceFill(prepared, tracker)
    const beat = options.heartbeat ?? Duration.seconds(15)
    const heartbeat = yield* store
      .heartbeat(prepared.runId)
      .pipe(Effect.ignore, Effect.repeat(Schedule.spaced(beat)), Effect.delay(beat), Effect.fork)

    const work = Effect.gen(function* () {
      const outputs = yield* computeStages<R>(prepared, tracker, false).pipe(
        Effect.provideService(RunObserver, liveRecord(observer, store, prepared.runId, tracker))
      )
      const sinks = yield* sinkRows(prepared, tracker, outputs)
      yield* observer.onEvent({ _tag: "Committing", runId: prepared.runId, sinks: sinks.length })
      sinkResults.push(...(yield* commitSinks<R>(prepared, sinks, checks)))
    })

    // recorded however the run ends: success, failure, or interruption (a SIGTERM past the grace period)
    const record = <E>(exit: Exit.Exit<void, E>) =>
      Effect.gen(function* () {
        yield* Fiber.interrupt(heartbeat)
        const failure = failureOf(exit)
        yield* store
          .finish(prepared.runId, {
            status: failure === null ? "succeeded" : "failed",
            stages: StageTracker.final(tracker),
            sinks: sinkResults,
            checks,
            error: failure === null ? null : errorRecord(failure)
          })
          .pipe(
            // the run's own outcome matters more than its record; say so rather than hide it
            Effect.catchAll((e) =>
              Effect.logWarning(`run ${prepared.runId}: its record could not be finished: ${describe(e)}`)
            )
          )
        yield* observer.onEvent({
          _tag: "RunFinished",
          runId: prepared.runId,
          status: failure === null ? "succeeded" : "failed",
          millis: performance.now() - started
        })
      })
    yield* work.pipe(Effect.onExit(record))
    return {
      runId: prepared.runId,
      pipeline: prepared.pipeline.name,
      params: prepared.encodedParams,
      stages: StageTracker.final(tracker),
      sinks: sinkResults,
      checks,
      millis: performance.now() - started
    } satisfies RunResult
  })

/**
 * Runs a pipeline for real: computes every stage, then checks and commits all sinks in ONE transaction, so a failure
 * anywhere (or a failed `error` check) writes nothing. The run is recorded in `pipeline_run` (running → succeeded |
 * failed, with its check results) outside that transaction. Every log line of the run carries `runId` and `pipeline`.
 */
export const run = <P extends Pipeline.Any>(
  pipeline: P,
  options: RunOptions = {}
): Effect.Effect<RunResult, RunError | SqlError, Pipeline.Requirements<P> | SqlClient.SqlClient | RunStore> =>
  prepare(pipeline, options).pipe(
    Effect.flatMap((prepared) =>
      runPrepared<Pipeline.Requirements<P>>(prepared, options).pipe(Effect.annotateLogs(logAnnotations(prepared)))
    ),
    Effect.withSpan(`pipeline ${pipeline.name}`, { attributes: { pipeline: pipeline.name } })
  )
