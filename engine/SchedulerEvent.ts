import { Context, type Duration, Effect } from "effect"

/** A decision of the scheduler, one log line each. */
export type SchedulerEvent =
  | { readonly _tag: "Started"; readonly owner: string; readonly pipelines: number }
  | { readonly _tag: "Due"; readonly pipeline: string; readonly slot: Date }
  | { readonly _tag: "Missed"; readonly pipeline: string; readonly slots: ReadonlyArray<Date> }
  | {
      readonly _tag: "Waiting"
      readonly pipeline: string
      readonly slot: Date
      readonly upstream: ReadonlyArray<string>
    }
  | {
      readonly _tag: "Claimed"
      readonly pipeline: string
      readonly slot: Date
      readonly attempt: number
      readonly runId: string
      /** From the slot's due time to the start of this run: waiting for upstream pipelines, earlier runs, retries. */
      readonly lag: Duration.Duration
    }
  | {
      readonly _tag: "Done"
      readonly pipeline: string
      readonly slot: Date
      readonly runId: string
      readonly status: "succeeded" | "failed"
      readonly detail: string | null
      readonly retryAt: Date | null
    }
  | { readonly _tag: "Skipped"; readonly pipeline: string; readonly slot: Date; readonly detail: string }
  | { readonly _tag: "Stale"; readonly pipeline: string; readonly slot: Date; readonly owner: string | null }
  | { readonly _tag: "Idle"; readonly until: Date }
  | { readonly _tag: "Stopping"; readonly waitingFor: string | null }
  /** The scheduler's own bookkeeping failed (typically the database went away); it tries again at `retryAt`. */
  | { readonly _tag: "Trouble"; readonly detail: string; readonly failures: number; readonly retryAt: Date }

/** Receives scheduler decisions (the CLI logs them and records the slot lag). The default drops them. */
export class SchedulerObserver extends Context.Reference<SchedulerObserver>()("@seedtest/engine/SchedulerObserver", {
  defaultValue: () => ({ onEvent: (_event: SchedulerEvent): Effect.Effect<void> => Effect.void })
}) {}
