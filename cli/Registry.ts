import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Either } from "effect"
import type { RunError } from "../engine/Errors.ts"
import type * as Pipeline from "../engine/Pipeline.ts"
import * as Registry from "../engine/Registry.ts"
import type { RunStore } from "../engine/RunStore.ts"
import * as Runner from "../engine/Runner.ts"
import * as Scheduler from "../engine/Scheduler.ts"
import type { SlotStore } from "../engine/SlotStore.ts"
import { pipelines, type Requirements } from "../pipelines/registry.ts"

/** The project's pipelines as a validated registry (a definition error is a bug: it dies with the message). */
export const registry = Effect.suspend(() =>
  Either.match(Registry.make(pipelines), {
    onLeft: (error) => Effect.die(error),
    onRight: Effect.succeed
  })
)

// The registry holds pipelines of mixed types; their joint requirements are `Requirements`.
/** Runs a registered pipeline. */
export const runPipeline = (pipeline: Pipeline.Any, options: Runner.RunOptions) =>
  Runner.run(pipeline, options) as Effect.Effect<Runner.RunResult, RunError | SqlError, Requirements | SqlClient | RunStore>

/** Dry-runs a registered pipeline. */
export const dryRunPipeline = (pipeline: Pipeline.Any, options: Runner.RunOptions) =>
  Runner.dryRun(pipeline, options) as Effect.Effect<Runner.DryRunReport, RunError | SqlError, Requirements | SqlClient>

/** Runs the scheduler daemon over the registered pipelines. */
export const runScheduler = (...args: Parameters<typeof Scheduler.run>) =>
  Scheduler.run(...args) as Effect.Effect<never, unknown, Requirements | SqlClient | RunStore | SlotStore>
