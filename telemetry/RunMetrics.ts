import { Duration, Effect, Layer, Metric, MetricBoundaries } from "effect"
import { type RunEvent, RunObserver } from "../engine/RunObserver.ts"
import type { SchedulerEvent } from "../engine/SchedulerEvent.ts"

/** How long runs take, per pipeline and outcome (seconds). */
export const runDuration = Metric.histogram(
  "seedtest_run_duration_seconds",
  MetricBoundaries.exponential({ start: 0.25, factor: 2, count: 14 }),
  "wall time of a pipeline run, from start to commit or failure"
)

/** Runs that failed, per pipeline. */
export const runFailures = Metric.counter("seedtest_run_failures_total", {
  description: "pipeline runs that ended failed",
  incremental: true
})

/** Rows handed to sinks, per pipeline and sink stage. */
export const rowsWritten = Metric.counter("seedtest_rows_written_total", {
  description: "rows the sink stages of runs wrote",
  incremental: true
})

/**
 * How late scheduled runs start, per pipeline (seconds): from a slot's due time to the start of its run — waiting for
 * the upstream pipelines of the same day, for the run before it, or for a retry.
 */
export const slotLag = Metric.histogram(
  "seedtest_slot_lag_seconds",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "seconds between a scheduled slot's due time and the start of its run"
)

/** What a run's events add to the metrics; `pipelines` remembers which pipeline each run id belongs to. */
const record = (pipelines: Map<string, string>, event: RunEvent): Effect.Effect<void> => {
  switch (event._tag) {
    case "RunStarted":
      return Effect.sync(() => void (!event.dryRun && pipelines.set(event.runId, event.pipeline)))
    case "StageSucceeded": {
      const pipeline = pipelines.get(event.runId)
      return pipeline === undefined || event.kind !== "sink" || event.rows === undefined
        ? Effect.void
        : Metric.incrementBy(
            rowsWritten.pipe(Metric.tagged("pipeline", pipeline), Metric.tagged("stage", event.stage)),
            event.rows
          )
    }
    case "RunFinished": {
      const pipeline = pipelines.get(event.runId)
      if (pipeline === undefined) return Effect.void
      pipelines.delete(event.runId)
      const tagged = <M extends Metric.Metric<any, any, any>>(m: M) => m.pipe(Metric.tagged("pipeline", pipeline)) as M
      return Effect.zipRight(
        Metric.update(tagged(runDuration).pipe(Metric.tagged("status", event.status)), event.millis / 1000),
        event.status === "failed" ? Metric.increment(tagged(runFailures)) : Effect.void
      )
    }
    default:
      return Effect.void
  }
}

/**
 * A run observer that also records run metrics (duration, failures, rows written), around the observer `inner`
 * provides (the CLI's progress lines). Dry runs are not counted. The metrics leave the process only when the OTLP
 * exporter is on (telemetry/Telemetry.ts).
 */
export const observing = <E, R>(inner: Layer.Layer<RunObserver, E, R>): Layer.Layer<RunObserver, E, R> =>
  Layer.effect(
    RunObserver,
    Effect.map(RunObserver, (observer) => {
      const pipelines = new Map<string, string>()
      return { onEvent: (event: RunEvent) => Effect.zipRight(observer.onEvent(event), record(pipelines, event)) }
    })
  ).pipe(Layer.provide(inner))

/** The slot lag the scheduler measured when it claimed a slot. */
export const recordSlotLag = (event: SchedulerEvent): Effect.Effect<void> =>
  event._tag === "Claimed"
    ? Metric.update(slotLag.pipe(Metric.tagged("pipeline", event.pipeline)), Duration.toMillis(event.lag) / 1000)
    : Effect.void

/** A scheduler observer that also records the slot lag, around `inner` (the CLI's log lines). */
export const observingScheduler = (inner: {
  readonly onEvent: (event: SchedulerEvent) => Effect.Effect<void>
}): { readonly onEvent: (event: SchedulerEvent) => Effect.Effect<void> } => ({
  onEvent: (event) => Effect.zipRight(inner.onEvent(event), recordSlotLag(event))
})
