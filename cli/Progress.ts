import { Effect, Layer } from "effect"
import { type RunEvent, RunObserver } from "../engine/RunObserver.ts"

const seconds = (millis: number): string => (millis < 1000 ? `${Math.round(millis)} ms` : `${(millis / 1000).toFixed(1)} s`)

/** One line per run event, for people watching a run. */
export const formatEvent = (event: RunEvent): string | undefined => {
  switch (event._tag) {
    case "RunStarted":
      return `▸ ${event.dryRun ? "dry run" : "run"} ${event.runId} (${event.stages} stages)`
    case "StageStarted":
      return `  … ${event.kind.padEnd(9)} ${event.stage}`
    case "StageRetrying":
      return `  ↻ ${event.stage}: attempt ${event.attempt} failed (${event.detail}); retrying`
    case "StageSucceeded":
      return `  ✓ ${event.kind.padEnd(9)} ${event.stage}  ${seconds(event.millis)}${event.rows === undefined ? "" : `  ${event.rows.toLocaleString("en")} rows`}`
    case "StageFailed":
      return `  ✗ ${event.stage}: ${event.detail}`
    case "Committing":
      return `  ⇢ committing ${event.sinks} sink${event.sinks === 1 ? "" : "s"} in one transaction`
    case "RunFinished":
      return `${event.status === "succeeded" ? "✓" : "✗"} ${event.status} in ${seconds(event.millis)}`
  }
}

/** Prints progress to stderr (stdout stays clean for `--json`). */
export const layer = (write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) =>
  Layer.succeed(RunObserver, {
    onEvent: (event) =>
      Effect.sync(() => {
        const line = formatEvent(event)
        if (line !== undefined) write(line)
      })
  })
