import type { Duration, Effect, Schema } from "effect"
import type { Check } from "./Check.ts"
import type { Need } from "./Need.ts"
import type { Resource } from "./Resource.ts"
import type { SinkWriter } from "./Sink.ts"

/** The four kinds of stage: a SQL read, a pure function, a call to a model service, a write. */
export type StageKind = "source" | "transform" | "model" | "sink"

/** Retry with exponential backoff: `times` retries after the first attempt, starting at `base`, doubling. */
export interface RetryPolicy {
  readonly times: number
  readonly base: Duration.DurationInput
  /** Which failures are worth retrying (default: all failures of the stage's error channel, never defects). */
  readonly while?: (error: unknown) => boolean
}

/** What a stage body sees of its run besides its inputs. */
export interface StageContext<P> {
  readonly runId: string
  readonly pipeline: string
  readonly params: P
  readonly dryRun: boolean
  /**
   * Adds a figure to this stage's entry in the run record (e.g. rows skipped and why). Values must be JSON.
   */
  readonly record: (key: string, value: unknown) => void
}

/**
 * A stage as the runner sees it, with its types erased. Pipelines are built with the typed builder in
 * `Pipeline.ts`, which checks inputs against upstream outputs at compile time.
 */
export interface Stage {
  readonly name: string
  readonly kind: StageKind
  readonly description: string
  readonly inputs: ReadonlyArray<string>
  readonly output: Schema.Schema<any, any, never> | undefined
  readonly reads: ReadonlyArray<Resource>
  readonly writes: ReadonlyArray<Resource>
  /** What its reads need of the history of resources other pipelines write (see `Need`); none when absent. */
  readonly needs?: ReadonlyArray<Need>
  readonly timeout: Duration.DurationInput | undefined
  readonly retry: RetryPolicy | undefined
  /** Computes the output (for sinks: the rows to write) from the upstream outputs. */
  readonly run: (
    inputs: Record<string, unknown>,
    context: StageContext<any>
  ) => Effect.Effect<unknown, unknown, unknown>
  /** Sinks only: how their rows are written. */
  readonly writer: SinkWriter<any, any> | undefined
  /** Sinks only: the data checks on their rows, evaluated before the run commits. */
  readonly checks?: ReadonlyArray<Check> | undefined
}

/** How many rows a stage output holds, for progress and run records. */
export const rowCount = (output: unknown): number | undefined =>
  Array.isArray(output)
    ? output.length
    : typeof output === "object" && output !== null && "rows" in output && Array.isArray(output.rows)
      ? output.rows.length
      : undefined
