import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { describe, type RunError, StageFailed } from "./Errors.ts"
import * as Fill from "./Fill.ts"
import * as Param from "./Param.ts"
import * as Pipeline from "./Pipeline.ts"
import { Redactor } from "./Redactor.ts"
import { RunObserver } from "./RunObserver.ts"
import { StageRecord, type Trigger } from "./RunStore.ts"
import { RunStore } from "./RunStore.ts"
import * as Relation from "./Relation.ts"
import { type SinkPreview, type SinkWriter, type SinkWriteResult, type WriteContext, writesRelations } from "./Sink.ts"
import { rowCount, type Stage, type StageContext } from "./Stage.ts"

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

/** A run that committed. */
export interface RunResult {
  readonly runId: string
  readonly pipeline: string
  readonly params: Readonly<Record<string, string>>
  readonly stages: ReadonlyArray<StageRecord>
  readonly sinks: ReadonlyArray<SinkWriteResult>
  readonly millis: number
}

/** What a run would have written. Nothing was written, not even a run record. */
export interface DryRunReport {
  readonly runId: string
  readonly pipeline: string
  readonly params: Readonly<Record<string, string>>
  readonly stages: ReadonlyArray<StageRecord>
  readonly sinks: ReadonlyArray<SinkPreview>
  readonly millis: number
}

/** A fresh run id: sortable by start time, unique across processes. */
export const makeRunId = (now: Date = new Date()): string =>
  `run_${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}_${Math.random().toString(36).slice(2, 8)}`

interface Prepared {
  readonly pipeline: Pipeline.Any
  readonly runId: string
  readonly params: unknown
  readonly encodedParams: Record<string, string>
  /** The missing partitions its readers need that this run computes too (its params are widened to them). */
  readonly filled: Fill.Filled | undefined
}

const prepare = (pipeline: Pipeline.Any, options: RunOptions) =>
  Effect.gen(function*() {
    const valid = yield* Pipeline.validate(pipeline)
    const resolved = yield* Param.resolve(valid.name, valid.params, options.params ?? {})
    const { filled, params } = yield* Fill.widen(valid, resolved)
    return {
      pipeline: valid,
      runId: options.runId ?? makeRunId(),
      params,
      encodedParams: Param.encode(valid.params, params),
      filled
    } satisfies Prepared
  })

interface Tracker {
  readonly records: Map<string, MutableRecord>
}

interface MutableRecord {
  name: string
  kind: Stage["kind"]
  status: StageRecord["status"]
  startedAt: string | null
  millis: number | null
  rows: number | null
  attempts: number
  notes: Record<string, unknown>
  error: string | null
}

const makeTracker = (pipeline: Pipeline.Any): Tracker => ({
  records: new Map(
    pipeline.stages.map((s) => [s.name, {
      name: s.name,
      kind: s.kind,
      status: "not run",
      startedAt: null,
      millis: null,
      rows: null,
      attempts: 0,
      notes: {},
      error: null
    }])
  )
})

const snapshot = (tracker: Tracker): ReadonlyArray<StageRecord> =>
  [...tracker.records.values()].map((r) => new StageRecord({ ...r, notes: { ...r.notes } }))

const TimedOut = Symbol.for("@seedtest/engine/Runner/TimedOut")

const contextFor = (prepared: Prepared, record: MutableRecord, dryRun: boolean): StageContext<unknown> => ({
  runId: prepared.runId,
  pipeline: prepared.pipeline.name,
  params: prepared.params,
  dryRun,
  record: (key, value) => {
    record.notes[key] = value
  }
})

/** What the run fills for its readers: in the notes of the sinks that write it, and as a progress event. */
const announceFill = (prepared: Prepared, tracker: Tracker) =>
  Effect.gen(function*() {
    const filled = prepared.filled
    if (filled === undefined) return
    for (const stage of prepared.pipeline.stages) {
      if (stage.writes.some((w) => w.table === filled.table)) tracker.records.get(stage.name)!.notes.filled = filled
    }
    const observer = yield* RunObserver
    yield* observer.onEvent({
      _tag: "PartitionsFilled",
      runId: prepared.runId,
      table: filled.table,
      message: filled.message
    })
  })

/** Runs one stage: waits for its inputs, applies its timeout per attempt and its retry policy, records it. */
const runStage = (
  prepared: Prepared,
  stage: Stage,
  inputs: Effect.Effect<Record<string, unknown>>,
  record: MutableRecord,
  dryRun: boolean
) =>
  // the span covers the stage's own work, not the wait for its inputs, so a trace shows where time went
  Effect.flatMap(inputs, (values) => stageWork(prepared, stage, values, record, dryRun))

const stageWork = (
  prepared: Prepared,
  stage: Stage,
  values: Record<string, unknown>,
  record: MutableRecord,
  dryRun: boolean
) =>
  Effect.gen(function*() {
    const observer = yield* RunObserver
    const started = performance.now()
    record.startedAt = new Date().toISOString()
    yield* observer.onEvent({ _tag: "StageStarted", runId: prepared.runId, stage: stage.name, kind: stage.kind })
    const context = contextFor(prepared, record, dryRun)
    const timeout = stage.timeout
    const once = Effect.suspend(() => {
      record.attempts++
      return stage.run(values, context)
    })
    const attempt = timeout === undefined
      ? once
      : once.pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => TimedOut as unknown }))
    const retry = stage.retry
    const output = yield* (retry === undefined || retry.times <= 0 ? attempt : attempt.pipe(
      Effect.tapError((error) => {
        if (record.attempts > retry.times || !(error === TimedOut || (retry.while?.(error) ?? true))) return Effect.void
        const detail = error === TimedOut ? "timed out" : describe(error)
        // the next try starts with empty notes; what this one recorded stays in the run record, with its error
        const { earlierAttempts, ...notes } = record.notes
        record.notes = {
          earlierAttempts: [...(Array.isArray(earlierAttempts) ? earlierAttempts : []), { attempt: record.attempts, error: detail, notes }]
        }
        return observer.onEvent({ _tag: "StageRetrying", runId: prepared.runId, stage: stage.name, attempt: record.attempts, detail })
      }),
      Effect.retry({
        schedule: Schedule.exponential(retry.base),
        times: retry.times,
        while: (error) => error === TimedOut || (retry.while?.(error) ?? true)
      })
    )).pipe(Effect.catchAllCause((cause) => toStageFailed(prepared, stage, record, cause)))
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
const toStageFailed = (prepared: Prepared, stage: Stage, record: MutableRecord, cause: Cause.Cause<unknown>) =>
  Effect.gen(function*() {
    if (Cause.isInterruptedOnly(cause)) return yield* Effect.failCause(cause as Cause.Cause<never>)
    const observer = yield* RunObserver
    const failure = Cause.failureOption(cause)
    const error = Option.match(failure, {
      onNone: () =>
        new StageFailed({
          reason: "Defect",
          pipeline: prepared.pipeline.name,
          stage: stage.name,
          attempts: record.attempts,
          detail: describe(Cause.squash(cause))
        }),
      onSome: (e) =>
        new StageFailed({
          reason: e === TimedOut ? "Timeout" : "Failure",
          pipeline: prepared.pipeline.name,
          stage: stage.name,
          attempts: record.attempts,
          detail: e === TimedOut
            ? `no result within ${Duration.format(Duration.decode(stage.timeout ?? 0))}`
            : describe(e)
        })
    })
    record.status = "failed"
    record.error = error.message
    yield* observer.onEvent({ _tag: "StageFailed", runId: prepared.runId, stage: stage.name, detail: error.message })
    return yield* Effect.fail(error)
  })

/**
 * Runs every non-sink stage, each as soon as its inputs are ready (independent branches concurrently), and
 * returns their outputs by name. The first failure interrupts the rest.
 */
const computeStages = (prepared: Prepared, tracker: Tracker, dryRun: boolean) =>
  Effect.gen(function*() {
    const stages = prepared.pipeline.stages.filter((s) => s.kind !== "sink")
    const done = new Map<string, Deferred.Deferred<unknown>>()
    for (const stage of stages) done.set(stage.name, yield* Deferred.make<unknown>())
    const inputsOf = (stage: Stage) =>
      Effect.gen(function*() {
        const values: Record<string, unknown> = {}
        for (const name of stage.inputs) values[name] = yield* Deferred.await(done.get(name)!)
        return values
      })
    const outputs = new Map<string, unknown>()
    yield* Effect.forEach(
      Pipeline.topological(stages),
      (stage) =>
        runStage(prepared, stage, inputsOf(stage), tracker.records.get(stage.name)!, dryRun).pipe(
          Effect.tap((output) => {
            outputs.set(stage.name, output)
            return Deferred.succeed(done.get(stage.name)!, output)
          })
        ),
      { concurrency: "unbounded", discard: true }
    )
    return outputs
  })

/** A sink's rows as its stage computed them: materialised rows, or a relation its writer executes in the database. */
type SinkInput = ReadonlyArray<unknown> | Relation.Relation<unknown>

/**
 * A relation reaching a writer that only takes rows is a wiring bug (the typed builder prevents it; `fromStages` does
 * not): the sink fails as a defect before the transaction opens.
 */
const checkWriterTakes = (prepared: Prepared, sink: Stage) => (input: unknown) =>
  Relation.isRelation(input) && !writesRelations(sink.writer!)
    ? Effect.dieMessage(
      `sink "${sink.name}" of ${prepared.pipeline.name} returned a relation, but the writer of ${sink.writer!.target} does not take relations (it has no writeRelation)`
    )
    : Effect.void

/** The rows of every sink, computed from the stage outputs (pure, before any transaction opens). */
const sinkRows = (prepared: Prepared, tracker: Tracker, outputs: Map<string, unknown>) =>
  Effect.forEach(prepared.pipeline.stages.filter((s) => s.kind === "sink"), (sink) => {
    const record = tracker.records.get(sink.name)!
    const values = Object.fromEntries(sink.inputs.map((name) => [name, outputs.get(name)]))
    const checked: Stage = { ...sink, run: (inputs, context) => Effect.tap(sink.run(inputs, context), checkWriterTakes(prepared, sink)) }
    return runStage(prepared, checked, Effect.succeed(values), record, false).pipe(
      Effect.map((input) => ({ sink, input: input as SinkInput, record }))
    )
  })

/** Writes one sink's input with its writer: rows, or a relation executed in the database. */
const writeSink = (writer: SinkWriter<unknown, unknown>, input: SinkInput, context: WriteContext) =>
  Relation.isRelation(input) && writesRelations(writer)
    ? writer.writeRelation(input, context)
    : writer.write(input as ReadonlyArray<unknown>, context)

/** What a dry run reports for one sink's input. */
const previewSink = (writer: SinkWriter<unknown, unknown>, input: SinkInput, context: WriteContext) =>
  Relation.isRelation(input) && writesRelations(writer)
    ? writer.previewRelation(input, context)
    : writer.preview(input as ReadonlyArray<unknown>, context)

const errorRecord = (error: unknown) => ({
  tag: typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Error",
  reason: typeof error === "object" && error !== null && "reason" in error ? String(error.reason) : null,
  stage: error instanceof StageFailed ? error.stage : null,
  message: describe(error)
})

/**
 * Runs a pipeline for real: computes every stage, then commits all sinks in ONE transaction, so a failure anywhere
 * writes nothing. The run is recorded in `pipeline_run` (running → succeeded | failed) outside that transaction.
 */
export const run = <P extends Pipeline.Any>(
  pipeline: P,
  options: RunOptions = {}
): Effect.Effect<RunResult, RunError | SqlError, Pipeline.Requirements<P> | SqlClient.SqlClient | RunStore> =>
  Effect.gen(function*() {
    const prepared = yield* prepare(pipeline, options)
    const sql = yield* SqlClient.SqlClient
    const store = yield* RunStore
    const observer = yield* RunObserver
    const redactor = yield* Redactor
    const tracker = makeTracker(prepared.pipeline)
    const started = performance.now()
    const sinkResults: Array<SinkWriteResult> = []

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
    const heartbeat = yield* store.heartbeat(prepared.runId).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(options.heartbeat ?? Duration.seconds(15))),
      Effect.delay(options.heartbeat ?? Duration.seconds(15)),
      Effect.fork
    )

    const body = Effect.gen(function*() {
      const outputs = yield* computeStages(prepared, tracker, false)
      const sinks = yield* sinkRows(prepared, tracker, outputs)
      yield* observer.onEvent({ _tag: "Committing", runId: prepared.runId, sinks: sinks.length })
      const context = { runId: prepared.runId, pipeline: prepared.pipeline.name }
      const written = yield* sql.withTransaction(
        Effect.forEach(sinks, ({ input, record, sink }) =>
          writeSink(sink.writer!, input, context).pipe(
            // the sink's time includes its write; a relation's rows are only known once the database wrote them
            Effect.timed,
            Effect.map(([elapsed, result]) => {
              record.millis = (record.millis ?? 0) + Duration.toMillis(elapsed)
              if (Relation.isRelation(input)) record.rows = result.inserted + result.updated
              return result
            }),
            Effect.mapError((e) => {
              record.status = "failed"
              record.error = describe(e)
              return new StageFailed({
                reason: "WriteFailed",
                pipeline: prepared.pipeline.name,
                stage: sink.name,
                attempts: 1,
                detail: redactor.scrub(describe(e))
              })
            })
          ))
      ).pipe(
        Effect.catchTag("SqlError", (e) =>
          new StageFailed({
            reason: "WriteFailed",
            pipeline: prepared.pipeline.name,
            stage: "commit",
            attempts: 1,
            detail: redactor.scrub(describe(e))
          })),
        // @effect/sql makes a failed COMMIT or ROLLBACK a defect; here it means the connection went away mid-commit,
        // which is the environment's failure, not a bug
        Effect.catchSomeDefect((defect) =>
          defect instanceof SqlError
            ? Option.some(
              new StageFailed({
                reason: "DatabaseLost",
                pipeline: prepared.pipeline.name,
                stage: "commit",
                attempts: 1,
                detail: redactor.scrub(describe(defect))
              })
            )
            : Option.none()
        )
      )
      sinkResults.push(...written)
    })

    // recorded however the run ends: success, failure, or interruption (a SIGTERM past the grace period)
    const record = (exit: Exit.Exit<unknown, unknown>) =>
      Effect.gen(function*() {
        yield* Fiber.interrupt(heartbeat)
        const failure = Exit.isFailure(exit)
          ? Option.getOrElse(
            Cause.failureOption(exit.cause) as Option.Option<unknown>,
            () =>
              Cause.isInterruptedOnly(exit.cause)
                ? { _tag: "Interrupted", message: "the run was interrupted before it committed; nothing was written" }
                : Cause.squash(exit.cause)
          )
          : null
        yield* store.finish(prepared.runId, {
          status: failure === null ? "succeeded" : "failed",
          stages: snapshot(tracker),
          sinks: sinkResults,
          error: failure === null ? null : errorRecord(failure)
        }).pipe(
          // the run's own outcome matters more than its record; say so rather than hide it
          Effect.catchAll((e) => Effect.logWarning(`run ${prepared.runId}: its record could not be finished: ${describe(e)}`))
        )
        yield* observer.onEvent({
          _tag: "RunFinished",
          runId: prepared.runId,
          status: failure === null ? "succeeded" : "failed",
          millis: performance.now() - started
        })
      })
    yield* body.pipe(Effect.onExit(record))
    const millis = performance.now() - started
    return {
      runId: prepared.runId,
      pipeline: prepared.pipeline.name,
      params: prepared.encodedParams,
      stages: snapshot(tracker),
      sinks: sinkResults,
      millis
    } satisfies RunResult
  }).pipe(Effect.withSpan(`pipeline ${pipeline.name}`, { attributes: { pipeline: pipeline.name } })) as any

/**
 * Runs a pipeline with the same reads and model calls but writes nothing: each sink's writer reports what it would
 * insert, update or leave unchanged compared with what is stored. No run record is written.
 */
export const dryRun = <P extends Pipeline.Any>(
  pipeline: P,
  options: RunOptions = {}
): Effect.Effect<DryRunReport, RunError | SqlError, Pipeline.Requirements<P> | SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const prepared = yield* prepare(pipeline, options)
    const observer = yield* RunObserver
    const tracker = makeTracker(prepared.pipeline)
    const started = performance.now()
    yield* observer.onEvent({
      _tag: "RunStarted",
      runId: prepared.runId,
      pipeline: prepared.pipeline.name,
      dryRun: true,
      stages: prepared.pipeline.stages.length
    })
    yield* announceFill(prepared, tracker)
    const body = Effect.gen(function*() {
      const outputs = yield* computeStages(prepared, tracker, true)
      const sinks = yield* sinkRows(prepared, tracker, outputs)
      const context = { runId: prepared.runId, pipeline: prepared.pipeline.name }
      return yield* Effect.forEach(sinks, ({ input, sink }) => previewSink(sink.writer!, input, context))
    })
    const exit = yield* Effect.exit(body)
    const millis = performance.now() - started
    yield* observer.onEvent({
      _tag: "RunFinished",
      runId: prepared.runId,
      status: Exit.isSuccess(exit) ? "succeeded" : "failed",
      millis
    })
    const previews = yield* exit
    return {
      runId: prepared.runId,
      pipeline: prepared.pipeline.name,
      params: prepared.encodedParams,
      stages: snapshot(tracker),
      sinks: previews,
      millis
    } satisfies DryRunReport
  }).pipe(Effect.withSpan(`dry-run ${pipeline.name}`, { attributes: { pipeline: pipeline.name } })) as any
