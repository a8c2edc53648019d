import { Cause, Clock, Duration, Effect, Exit, Option, Schedule } from "effect"
import { describe } from "./Errors.ts"
import type * as Pipeline from "./Pipeline.ts"
import * as Runner from "./Runner.ts"
import { type ScheduledPipeline, slotParams } from "./ScheduledPipeline.ts"
import { SchedulerObserver } from "./SchedulerEvent.ts"
import { SlotStore } from "./SlotStore.ts"

/** What the run of one claimed slot needs from the scheduler's options. */
export interface SlotRunOptions {
  readonly owner: string
  readonly heartbeat: Duration.DurationInput
  readonly maxAttempts: number
  readonly retryBase: Duration.DurationInput
}

/** A claimed slot: which pipeline, on which schedule entry, at which fire time, as which run and attempt. */
export interface ClaimedSlot {
  readonly pipeline: Pipeline.Any
  readonly entry: ScheduledPipeline
  readonly slot: Date
  readonly runId: string
  readonly attempt: number
}

/** When a failed attempt is retried: `retryBase` after the first, doubling each time; never after the last one. */
export const retryAt = (now: Date, attempt: number, options: SlotRunOptions): Date | null =>
  attempt < options.maxAttempts
    ? new Date(now.getTime() + Duration.toMillis(Duration.decode(options.retryBase)) * 2 ** (attempt - 1))
    : null

const reasonOf = (cause: Cause.Cause<unknown>): string =>
  Cause.isInterruptedOnly(cause)
    ? "interrupted (the scheduler stopped before it finished; nothing was committed)"
    : describe(Option.getOrElse(Cause.failureOption(cause), () => Cause.squash(cause)))

/**
 * Runs a claimed slot: its pipeline with the slot's parameters, a heartbeat on the slot while it runs, and its
 * outcome recorded on the slot (failed ones with the time of their retry). Never fails: the outcome is on the slot.
 */
export const runSlot = (claimed: ClaimedSlot, options: SlotRunOptions) =>
  Effect.gen(function* () {
    const slots = yield* SlotStore
    const emit = (yield* SchedulerObserver).onEvent
    const { attempt, pipeline, runId, slot } = claimed
    const key = { pipeline: pipeline.name, slot }
    // runs even when the run is interrupted at the end of a grace period: the slot becomes retryable
    const finish = (exit: Exit.Exit<unknown, unknown>) =>
      Effect.gen(function* () {
        const now = new Date(yield* Clock.currentTimeMillis)
        const failed = Exit.isFailure(exit)
        const next = failed ? retryAt(now, attempt, options) : null
        const reason = Exit.isFailure(exit) ? reasonOf(exit.cause) : null
        const detail = failed && next === null ? `${reason} (gave up after ${attempt} attempts)` : reason
        const status = failed ? "failed" : "succeeded"
        yield* slots.finish(key, { owner: options.owner, status, now, detail, nextAttemptAt: next })
        yield* emit({ _tag: "Done", pipeline: pipeline.name, slot, runId, status, detail, retryAt: next })
      }).pipe(Effect.ignore)
    return yield* Effect.gen(function* () {
      yield* Effect.flatMap(Clock.currentTimeMillis, (now) => slots.heartbeat(key, options.owner, new Date(now))).pipe(
        Effect.ignore,
        Effect.repeat(Schedule.spaced(options.heartbeat)),
        Effect.delay(options.heartbeat),
        Effect.forkScoped
      )
      yield* Runner.run(pipeline, {
        params: slotParams(pipeline, claimed.entry, slot),
        trigger: "schedule",
        slot: slot.toISOString(),
        runId,
        heartbeat: options.heartbeat
      })
    }).pipe(
      Effect.scoped,
      Effect.asVoid,
      Effect.onExit(finish),
      Effect.ignore,
      // everything the run logs names its pipeline and run
      Effect.annotateLogs({ pipeline: pipeline.name, runId })
    )
  })
