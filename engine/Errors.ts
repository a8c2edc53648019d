import { Schema } from "effect"

/**
 * A pipeline definition that cannot run: reported when the pipeline (or the registry of pipelines) is built.
 */
export class PipelineDefinitionError extends Schema.TaggedError<PipelineDefinitionError>(
  "@seedtest/engine/PipelineDefinitionError"
)("PipelineDefinitionError", {
  reason: Schema.Literal(
    "DuplicateStage",
    "UnknownInput",
    "Cycle",
    "WriterConflict",
    "DuplicatePipeline",
    "InvalidSink",
    "InvalidNeed"
  ),
  pipeline: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Pipeline "${this.pipeline}" is not valid (${this.reason}): ${this.detail}`
  }
}

/** A parameter that is unknown to the pipeline or whose value does not decode. */
export class ParamError extends Schema.TaggedError<ParamError>("@seedtest/engine/ParamError")("ParamError", {
  reason: Schema.Literal("UnknownParam", "InvalidValue"),
  pipeline: Schema.String,
  param: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.reason === "UnknownParam"
      ? `Pipeline "${this.pipeline}" has no parameter "${this.param}". ${this.detail}`
      : `Parameter "${this.param}" of pipeline "${this.pipeline}" is invalid: ${this.detail}`
  }
}

/** No pipeline of that name in the registry. */
export class UnknownPipeline extends Schema.TaggedError<UnknownPipeline>("@seedtest/engine/UnknownPipeline")(
  "UnknownPipeline",
  { name: Schema.String, known: Schema.Array(Schema.String) }
) {
  override get message(): string {
    return `There is no pipeline named "${this.name}"; known pipelines: ${this.known.join(", ")}.`
  }
}

/**
 * A stage of a run failed: its own typed error after the retries it was allowed (`Failure`), its time limit
 * (`Timeout`), a bug (`Defect`), or — for sinks — the write transaction (`WriteFailed`), or the database connection
 * lost while committing it (`DatabaseLost`: the commit or rollback itself could not run).
 */
export class StageFailed extends Schema.TaggedError<StageFailed>("@seedtest/engine/StageFailed")("StageFailed", {
  reason: Schema.Literal("Failure", "Timeout", "Defect", "WriteFailed", "DatabaseLost"),
  pipeline: Schema.String,
  stage: Schema.String,
  attempts: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    const tries = this.attempts > 1 ? ` after ${this.attempts} attempts` : ""
    const what = {
      Failure: "failed",
      Timeout: "timed out",
      Defect: "crashed",
      WriteFailed: "could not be written (nothing was committed)",
      DatabaseLost: "lost the database while committing (the transaction was not confirmed)"
    }[this.reason]
    return `Stage "${this.stage}" of pipeline "${this.pipeline}" ${what}${tries}: ${this.detail}`
  }
}

/**
 * A data check of severity `error` found rows that break it: the run was rolled back, nothing was written. The data
 * (or the model that produced it) is at fault, not the code or the environment.
 */
export class CheckFailed extends Schema.TaggedError<CheckFailed>("@seedtest/engine/CheckFailed")("CheckFailed", {
  pipeline: Schema.String,
  sink: Schema.String,
  check: Schema.String,
  failing: Schema.Number,
  rows: Schema.Number,
  samples: Schema.Array(Schema.Unknown)
}) {
  override get message(): string {
    const sample = this.samples.length === 0 ? "" : `; e.g. ${JSON.stringify(this.samples[0])}`.slice(0, 300)
    return (
      `Check "${this.check}" on sink "${this.sink}" of pipeline "${this.pipeline}" failed for ` +
      `${this.failing} of ${this.rows} row(s), so nothing was written${sample}`
    )
  }
}

/** Every error a run can end with. */
export type RunError = StageFailed | CheckFailed | ParamError | PipelineDefinitionError

/** Errors whose message is generic, so that what went wrong is in their cause. */
const genericMessage = new Set(["SqlError", "MigrationError"])

/** The human message of any failure value, for records and logs. */
export const describe = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message
    const tag = (error as { _tag?: unknown })._tag
    const reason = (error as { reason?: unknown }).reason
    const label = typeof tag === "string" ? (typeof reason === "string" ? `${tag} (${reason})` : tag) : undefined
    // errors without a message of their own print their fields as JSON: keep the tag in front of them
    if (typeof message === "string" && message.length > 0) {
      const own = label !== undefined && message.startsWith("{") ? `${label}: ${message}` : message
      // a SqlError says only "Failed to execute statement"; what Postgres said is in its cause. Errors with a message
      // of their own already say what matters of their cause ("…in use by another process", not "…: locked")
      const cause = genericMessage.has(String(tag)) ? (error as { cause?: unknown }).cause : undefined
      const causeMessage =
        typeof cause === "object" && cause !== null ? (cause as { message?: unknown }).message : undefined
      return typeof causeMessage === "string" && causeMessage.length > 0 && !own.includes(causeMessage)
        ? `${own}: ${causeMessage}`
        : own
    }
    if (label !== undefined) return label
  }
  return String(error)
}
