/**
 * seedtest-pipelines as a library: declare pipelines and run them inside your own Effect runtime with your own
 * layers. Provide a `SqlClient` (any `@effect/sql` Postgres client, or `Database.layer`), `RunStore.Default` for run
 * history (after `Migrations.run`), and whatever your stages require.
 */
export * as Pipeline from "./Pipeline.ts"
export * as Param from "./Param.ts"
export * as Resource from "./Resource.ts"
export * as Relation from "./Relation.ts"
export * as Check from "./Check.ts"
export * as Runner from "./Runner.ts"
export * as Registry from "./Registry.ts"
export * as Plan from "./Plan.ts"
export * as Redactor from "./Redactor.ts"
export { RunObserver, type RunEvent } from "./RunObserver.ts"
export { RunStore, RunRecord, StageRecord, type Trigger } from "./RunStore.ts"
export { CheckFailed, PipelineDefinitionError, ParamError, StageFailed, UnknownPipeline, type RunError } from "./Errors.ts"
export type { Stage, StageContext, StageKind, RetryPolicy } from "./Stage.ts"
export type { RelationWriter, SinkWriter, SinkPreview, SinkWriteResult, SinkChange, WriteContext } from "./Sink.ts"
/** Generic set-based table writers (upsert with jsonb merge, append) for your own sinks. */
export * as TableWriter from "../sinks/TableWriter.ts"
/** The database layers: PostgreSQL from a URL, or the embedded PGlite. */
export * as Database from "../sources/Database.ts"
/** The migrations that create `pipeline_run` and the model tables. */
export * as Migrations from "../db/Migrations.ts"
