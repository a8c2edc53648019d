import { Context, Data, type Effect, type Option, type Redacted } from "effect"
import type * as Pipeline from "../engine/Pipeline.ts"
import type { Registry } from "../engine/Registry.ts"
import type { DryRunReport, RunResult } from "../engine/Runner.ts"
import type { ScheduledPipeline } from "../engine/ScheduledPipeline.ts"

/** How the console runs a pipeline: the host provides the runner with its own layers (the CLI, or a library user). */
export interface ConsoleRunner {
  readonly run: (
    pipeline: Pipeline.Any,
    params: Readonly<Record<string, string>>,
    runId: string
  ) => Effect.Effect<RunResult, ConsoleRunFailed>
  readonly dryRun: (
    pipeline: Pipeline.Any,
    params: Readonly<Record<string, string>>
  ) => Effect.Effect<DryRunReport, ConsoleRunFailed>
}

/** A run or dry run started from the console failed; `message` is already scrubbed of secrets by the host. */
export class ConsoleRunFailed extends Data.TaggedError("ConsoleRunFailed")<{
  readonly pipeline: string
  readonly message: string
}> {}

/** What the console shows and may do. */
export interface ConsoleOptions {
  readonly registry: Registry
  readonly schedule: ReadonlyArray<ScheduledPipeline>
  /** The folder whose `<week_start>/` subfolders hold the reports the report pipeline wrote. */
  readonly reportsRoot: string
  /** SEEDTEST_UI_TOKEN: none = a read-only console (no run, no dry run). */
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly runner: ConsoleRunner
  /** Protects state-changing forms: a per-process secret embedded in each form and checked on submit. */
  readonly csrfSecret: string
}

/** The console's options, for the pages. */
export class Console extends Context.Tag("@seedtest/console/Console")<Console, ConsoleOptions>() {}
