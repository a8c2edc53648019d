import { Data, Duration, Effect, Schedule } from "effect"
import { describe } from "./Errors.ts"
import { RunObserver } from "./RunObserver.ts"
import type { Stage } from "./Stage.ts"
import type { TrackedStage } from "./StageTracker.ts"

/** One attempt of a stage took longer than its `timeout`. Retried like the stage's own failures. */
export class StageTimedOut extends Data.TaggedError("StageTimedOut")<{
  readonly stage: string
  readonly timeout: Duration.Duration
}> {
  override get message(): string {
    return `no result within ${Duration.format(this.timeout)}`
  }
}

/** Whether the stage's retry policy retries this failure (a timeout always is, when the stage retries at all). */
const retries = (stage: Stage, error: unknown): boolean =>
  error instanceof StageTimedOut || (stage.retry?.while?.(error) ?? true)

/**
 * One stage's work under its policy: each attempt limited by `timeout` (a `StageTimedOut` when it runs out), failed
 * attempts retried `retry.times` times with exponential backoff. Counts attempts in the stage's record; a retried
 * attempt's notes move to `earlierAttempts`, with its error.
 */
export const withTimeoutAndRetry = <A, E, R>(
  runId: string,
  stage: Stage,
  record: TrackedStage,
  body: () => Effect.Effect<A, E, R>
): Effect.Effect<A, E | StageTimedOut, R> =>
  Effect.gen(function* () {
    const observer = yield* RunObserver
    const once = Effect.suspend(() => {
      record.attempts++
      return body()
    })
    const timeout = stage.timeout
    const attempt: Effect.Effect<A, E | StageTimedOut, R> =
      timeout === undefined
        ? once
        : once.pipe(
            Effect.timeoutFail({
              duration: timeout,
              onTimeout: () => new StageTimedOut({ stage: stage.name, timeout: Duration.decode(timeout) })
            })
          )
    const retry = stage.retry
    if (retry === undefined || retry.times <= 0) return yield* attempt
    return yield* attempt.pipe(
      Effect.tapError((error) => {
        if (record.attempts > retry.times || !retries(stage, error)) return Effect.void
        const detail = error instanceof StageTimedOut ? "timed out" : describe(error)
        // the next try starts with empty notes; what this one recorded stays in the run record, with its error
        const { earlierAttempts, ...notes } = record.notes
        const earlier = Array.isArray(earlierAttempts) ? earlierAttempts : []
        record.notes = { earlierAttempts: [...earlier, { attempt: record.attempts, error: detail, notes }] }
        return observer.onEvent({ _tag: "StageRetrying", runId, stage: stage.name, attempt: record.attempts, detail })
      }),
      Effect.retry({
        schedule: Schedule.exponential(retry.base),
        times: retry.times,
        while: (error) => retries(stage, error)
      })
    )
  })
