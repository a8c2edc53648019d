/**
 * The kernel's public modules. The package entry (the root `index.ts`) re-exports these with the table writers, the
 * database layers and the migrations, which sit above the kernel.
 */

export * as Check from "./Check.ts"
export {
  CheckFailed,
  ParamError,
  PipelineDefinitionError,
  type RunError,
  StageFailed,
  UnknownPipeline
} from "./Errors.ts"
export * as Fill from "./Fill.ts"
/** Readers' needs of history, writers' partitions, and the fill of the missing ones (provide `Fill.Readers`). */
export * as Need from "./Need.ts"
export * as Param from "./Param.ts"
export * as Partitions from "./Partitions.ts"
export * as Pipeline from "./Pipeline.ts"
export * as Plan from "./Plan.ts"
export * as Redactor from "./Redactor.ts"
export * as Registry from "./Registry.ts"
export * as Relation from "./Relation.ts"
export * as Resource from "./Resource.ts"
export * as Runner from "./Runner.ts"
export { type RunEvent, RunObserver } from "./RunObserver.ts"
export { RunRecord, RunStore, StageRecord, type Trigger } from "./RunStore.ts"
export type { RelationWriter, SinkChange, SinkPreview, SinkWriteResult, SinkWriter, WriteContext } from "./Sink.ts"
export type { RetryPolicy, Stage, StageContext, StageKind } from "./Stage.ts"
