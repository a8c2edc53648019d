import { Cause, Deferred, Effect, Option } from "effect"
import { describe, StageFailed } from "./Errors.ts"
import * as Pipeline from "./Pipeline.ts"
import { type PreparedRun, stageContext } from "./PreparedRun.ts"
import { StageTimedOut, withTimeoutAndRetry } from "./Retry.ts"
import { RunObserver } from "./RunObserver.ts"
import { rowCount, type Stage } from "./Stage.ts"
import type { StageTracker, TrackedStage } from "./StageTracker.ts"

/**
 * A stage's body with its requirements restored. `Stage` erases them so that stages of different kinds fit one list;
 * the typed builder recorded them in the pipeline's `R`, which the runner's signature carries as `R` here.
 */
export const body = <R>(stage: Stage) =>
  stage.run as (
    inputs: Record<string, unknown>,
    context: ReturnType<typeof stageContext>
  ) => Effect.Effect<unknown, unknown, R>

/**
 * Runs one stage on its inputs under its timeout and retry policy, recording it (status, time, rows, attempts) and
 * telling the observer. Any failure becomes a `StageFailed`; interruptions stay interruptions.
 */
export const runStage = <A, R>(
  prepared: PreparedRun,
  stage: Stage,
  record: TrackedStage,
  work: () => Effect.Effect<A, unknown, R>
): Effect.Effect<A, StageFailed, R> =>
  Effect.gen(function* () {
    const observer = yield* RunObserver
    const started = performance.now()
    record.startedAt = new Date().toISOString()
    record.status = "running"
    yield* observer.onEvent({ _tag: "StageStarted", runId: prepared.runId, stage: stage.name, kind: stage.kind })
    const output = yield* withTimeoutAndRetry(prepared.runId, stage, record, work).pipe(
      Effect.catchAllCause((cause) => toStageFailed(prepared, stage, record, cause))
    )
    record.millis = performance.now() - started
    record.rows = rowCount(output) ?? null
    record.status = "succeeded"
    yield* observer.onEvent({
      _tag: "StageSucceeded",
      runId: prepared.runId,
      stage: stage.name,
      kind: stage.kind,
      millis: record.millis,
      rows: record.rows ?? undefined
    })
    return output
  }).pipe(
    Effect.withSpan(`stage ${stage.name}`, {
      attributes: { pipeline: prepared.pipeline.name, stage: stage.name, kind: stage.kind, runId: prepared.runId }
    })
  )

/** Turns the cause of a stage's failure into a StageFailed (interruptions stay interruptions). */
const toStageFailed = (prepared: PreparedRun, stage: Stage, record: TrackedStage, cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    if (Cause.isInterruptedOnly(cause)) return yield* Effect.failCause(Cause.map(cause, () => undefined as never))
    const observer = yield* RunObserver
    const common = { pipeline: prepared.pipeline.name, stage: stage.name, attempts: record.attempts }
    const error = Option.match(Cause.failureOption(cause), {
      onNone: () => new StageFailed({ ...common, reason: "Defect", detail: describe(Cause.squash(cause)) }),
      onSome: (e) =>
        new StageFailed({ ...common, reason: e instanceof StageTimedOut ? "Timeout" : "Failure", detail: describe(e) })
    })
    record.status = "failed"
    record.error = error.message
    yield* observer.onEvent({ _tag: "StageFailed", runId: prepared.runId, stage: stage.name, detail: error.message })
    return yield* Effect.fail(error)
  })

/**
 * Runs every non-sink stage, each as soon as its inputs are ready (independent branches concurrently), and returns
 * their outputs by name. The first failure interrupts the rest.
 */
export const computeStages = <R>(
  prepared: PreparedRun,
  tracker: StageTracker,
  dryRun: boolean
): Effect.Effect<ReadonlyMap<string, unknown>, StageFailed, R> =>
  Effect.gen(function* () {
    const stages = prepared.pipeline.stages.filter((s) => s.kind !== "sink")
    const done = new Map<string, Deferred.Deferred<unknown>>()
    for (const stage of stages) done.set(stage.name, yield* Deferred.make<unknown>())
    const inputsOf = (stage: Stage) =>
      Effect.gen(function* () {
        const values: Record<string, unknown> = {}
        for (const name of stage.inputs) values[name] = yield* Deferred.await(done.get(name)!)
        return values
      })
    const outputs = new Map<string, unknown>()
    yield* Effect.forEach(
      Pipeline.topological(stages),
      (stage) => {
        const record = tracker.of(stage.name)
        // the span covers the stage's own work, not the wait for its inputs, so a trace shows where time went
        return inputsOf(stage).pipe(
          Effect.flatMap((values) =>
            runStage(prepared, stage, record, () => body<R>(stage)(values, stageContext(prepared, record, dryRun)))
          ),
          Effect.tap((output) => {
            outputs.set(stage.name, output)
            return Deferred.succeed(done.get(stage.name)!, output)
          })
        )
      },
      { concurrency: "unbounded", discard: true }
    )
    return outputs
  })
