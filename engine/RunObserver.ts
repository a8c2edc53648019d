import { Context, Effect } from "effect"
import type { StageKind } from "./Stage.ts"

/** Something that happened during a run, in the order it happened. */
export type RunEvent =
  | {
      readonly _tag: "RunStarted"
      readonly runId: string
      readonly pipeline: string
      readonly dryRun: boolean
      readonly stages: number
    }
  | { readonly _tag: "StageStarted"; readonly runId: string; readonly stage: string; readonly kind: StageKind }
  | {
      readonly _tag: "StageRetrying"
      readonly runId: string
      readonly stage: string
      readonly attempt: number
      readonly detail: string
    }
  | {
      readonly _tag: "StageSucceeded"
      readonly runId: string
      readonly stage: string
      readonly kind: StageKind
      readonly millis: number
      readonly rows: number | undefined
    }
  | { readonly _tag: "StageFailed"; readonly runId: string; readonly stage: string; readonly detail: string }
  | { readonly _tag: "PartitionsFilled"; readonly runId: string; readonly table: string; readonly message: string }
  | { readonly _tag: "Committing"; readonly runId: string; readonly sinks: number }
  | {
      readonly _tag: "RunFinished"
      readonly runId: string
      readonly status: "succeeded" | "failed"
      readonly millis: number
    }

/**
 * Receives run events as they happen (the CLI prints progress from them). The default ignores them, so a library
 * user who provides nothing pays nothing.
 */
export class RunObserver extends Context.Reference<RunObserver>()("@seedtest/engine/RunObserver", {
  defaultValue: () => ({ onEvent: (_event: RunEvent): Effect.Effect<void> => Effect.void })
}) {}
