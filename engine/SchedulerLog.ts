import { Duration, Effect, LogLevel } from "effect"
import type { SchedulerEvent } from "./SchedulerEvent.ts"

const time = (d: Date) => d.toISOString().replace(".000Z", "Z")

/** The sentence a scheduler decision is logged with. */
export const message = (event: SchedulerEvent): string => {
  switch (event._tag) {
    case "Started":
      return `scheduler ${event.owner} started: ${event.pipelines} scheduled pipelines`
    case "Due":
      return `due ${event.pipeline} @ ${time(event.slot)}`
    case "Missed":
      return (
        `missed ${event.pipeline}: ${event.slots.length} slot(s) while no scheduler ran ` +
        `(${event.slots.map(time).join(", ")}); recorded as skipped, the latest runs`
      )
    case "Waiting":
      return `waiting ${event.pipeline} @ ${time(event.slot)} for ${event.upstream.join(", ")}`
    case "Claimed":
      return (
        `claimed ${event.pipeline} @ ${time(event.slot)} (attempt ${event.attempt}, ${event.runId}, ` +
        `${Duration.format(event.lag)} after its due time)`
      )
    case "Done":
      return event.status === "succeeded"
        ? `done ${event.pipeline} @ ${time(event.slot)} succeeded (${event.runId})`
        : `failed ${event.pipeline} @ ${time(event.slot)}: ${event.detail ?? "?"}` +
            (event.retryAt === null ? "" : `; retry at ${time(event.retryAt)}`)
    case "Skipped":
      return `skipped ${event.pipeline} @ ${time(event.slot)}: ${event.detail}`
    case "Stale":
      return (
        `stale ${event.pipeline} @ ${time(event.slot)}: ${event.owner ?? "?"} stopped sending heartbeats; ` +
        "failed, will retry"
      )
    case "Idle":
      return `idle until ${time(event.until)}`
    case "Trouble":
      return `trouble ${event.detail} (failure ${event.failures} in a row); trying again at ${time(event.retryAt)}`
    case "Stopping":
      return event.waitingFor === null
        ? "stopping: no run in progress"
        : `stopping: letting ${event.waitingFor} finish within the grace period`
  }
}

/** How much a decision matters: idle periods are detail, trouble and failures need a person's attention. */
export const level = (event: SchedulerEvent): LogLevel.LogLevel => {
  switch (event._tag) {
    case "Idle":
      return LogLevel.Debug
    case "Trouble":
    case "Stale":
    case "Skipped":
      return LogLevel.Warning
    case "Done":
      return event.status === "succeeded" ? LogLevel.Info : event.retryAt === null ? LogLevel.Error : LogLevel.Warning
    default:
      return LogLevel.Info
  }
}

/** The fields a decision is annotated with, so JSON log lines can be filtered by pipeline, slot or run. */
export const annotations = (event: SchedulerEvent): Record<string, string | number> => {
  const fields: Record<string, string | number> = { event: event._tag }
  if ("pipeline" in event) fields["pipeline"] = event.pipeline
  if ("slot" in event) fields["slot"] = event.slot.toISOString()
  if ("runId" in event) fields["runId"] = event.runId
  if (event._tag === "Claimed") {
    fields["attempt"] = event.attempt
    fields["slotLagSeconds"] = Duration.toMillis(event.lag) / 1000
  }
  if (event._tag === "Done") fields["status"] = event.status
  return fields
}

/**
 * Logs a scheduler decision through effect's Logger: human-readable or JSON lines, whichever logger the program
 * installed (LOG_FORMAT), at the decision's level.
 */
export const log = (event: SchedulerEvent): Effect.Effect<void> =>
  Effect.logWithLevel(level(event), message(event)).pipe(Effect.annotateLogs(annotations(event)))

/** A scheduler observer that logs every decision. */
export const observer = { onEvent: log }
