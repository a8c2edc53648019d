import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Either } from "effect"
import * as Registry from "../engine/Registry.ts"
import * as Runner from "../engine/Runner.ts"
import type { RunStore } from "../engine/RunStore.ts"
import * as Scheduler from "../engine/Scheduler.ts"
import type { SlotStore } from "../engine/SlotStore.ts"
import { pipelines, type Registered, type Requirements } from "../pipelines/registry.ts"

/** The project's pipelines as a validated registry (a definition error is a bug: it dies with the message). */
export const registry = Effect.suspend(() =>
  Either.match(Registry.make(pipelines), {
    onLeft: (error) => Effect.die(error),
    onRight: Effect.succeed
  })
)

/** Runs a registered pipeline (its requirements are those of every registered pipeline, `Requirements`). */
export const runPipeline = (pipeline: Registered, options: Runner.RunOptions) => Runner.run(pipeline, options)

/** Dry-runs a registered pipeline. */
export const dryRunPipeline = (pipeline: Registered, options: Runner.RunOptions) => Runner.dryRun(pipeline, options)

/** Runs the scheduler daemon over the registered pipelines. */
export const runScheduler = (...args: Parameters<typeof Scheduler.run>) =>
  Scheduler.run(...args) as Effect.Effect<never, unknown, Requirements | SqlClient | RunStore | SlotStore>
