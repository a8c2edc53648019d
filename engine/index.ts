/**
 * The kernel's public modules. The package entry (the root `index.ts`) re-exports these with the table writers, the
 * database layers and the migrations, which sit above the kernel.
 */
export * as Pipeline from "./Pipeline.ts"
export * as Param from "./Param.ts"
export * as Resource from "./Resource.ts"
export * as Relation from "./Relation.ts"
/** Readers' needs of history, writers' partitions, and the fill of the missing ones (provide `Fill.Readers`). */
export * as Need from "./Need.ts"
export * as Partitions from "./Partitions.ts"
export * as Fill from "./Fill.ts"
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
