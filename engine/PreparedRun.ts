import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { type Duration, Effect } from "effect"
import type { ParamError, PipelineDefinitionError } from "./Errors.ts"
import * as Fill from "./Fill.ts"
import * as Param from "./Param.ts"
import * as Pipeline from "./Pipeline.ts"
import { makeRunId } from "./RunId.ts"
import { RunObserver } from "./RunObserver.ts"
import type { Trigger } from "./RunStore.ts"
import type { StageContext } from "./Stage.ts"
import type { StageTracker, TrackedStage } from "./StageTracker.ts"

/** How to start a run. */
export interface RunOptions {
  /** Parameter overrides by name, as strings (`--param key=value`); the rest come from the environment or defaults. */
  readonly params?: Readonly<Record<string, string>>
  readonly trigger?: Trigger
  /** The scheduler's slot this run fills (e.g. `2026-11-23T04:30Z`). */
  readonly slot?: string
  readonly runId?: string
  /** How often a running run says it is alive. */
  readonly heartbeat?: Duration.DurationInput
}

/** A validated pipeline with its run id and decoded parameters: what every stage of one run shares. */
export interface PreparedRun {
  readonly pipeline: Pipeline.Any
  readonly runId: string
  readonly params: unknown
  readonly encodedParams: Readonly<Record<string, string>>
  /** The missing partitions its readers need that this run computes too (its params are widened to them). */
  readonly filled: Fill.Filled | undefined
}

/**
 * Validates the pipeline and resolves its parameters (overrides, then environment, then defaults), widened to the
 * partitions its readers need that are missing (`Fill.widen`).
 */
export const prepare = (
  pipeline: Pipeline.Any,
  options: RunOptions
): Effect.Effect<PreparedRun, ParamError | PipelineDefinitionError | SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const valid = yield* Pipeline.validate(pipeline)
    const resolved = yield* Param.resolve(valid.name, valid.params, options.params ?? {})
    const { filled, params } = yield* Fill.widen(valid, resolved)
    return {
      pipeline: valid,
      runId: options.runId ?? makeRunId(),
      params,
      encodedParams: Param.encode(valid.params, params),
      filled
    }
  })

/** What a stage body sees of its run; `record` adds notes to the stage's entry in the run record. */
export const stageContext = (prepared: PreparedRun, record: TrackedStage, dryRun: boolean): StageContext<unknown> => ({
  runId: prepared.runId,
  pipeline: prepared.pipeline.name,
  params: prepared.params,
  dryRun,
  record: (key, value) => {
    record.notes[key] = value
  }
})

/** The log annotations of every line a run writes, so JSON logs can be filtered by run and pipeline. */
export const logAnnotations = (prepared: PreparedRun) => ({ runId: prepared.runId, pipeline: prepared.pipeline.name })

/** What the run fills for its readers: in the notes of the sinks that write it, and as a progress event. */
export const announceFill = (prepared: PreparedRun, tracker: StageTracker) =>
  Effect.gen(function* () {
    const filled = prepared.filled
    if (filled === undefined) return
    for (const stage of prepared.pipeline.stages) {
      if (stage.writes.some((w) => w.table === filled.table)) tracker.of(stage.name).notes.filled = filled
    }
    const observer = yield* RunObserver
    yield* observer.onEvent({
      _tag: "PartitionsFilled",
      runId: prepared.runId,
      table: filled.table,
      message: filled.message
    })
  })
