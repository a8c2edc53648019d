import { Clock, Duration, Effect, Layer, Schedule } from "effect"
import { type RunEvent, RunObserver } from "../engine/RunObserver.ts"

const seconds = (millis: number): string =>
  millis < 1000 ? `${Math.round(millis)} ms` : `${(millis / 1000).toFixed(1)} s`

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
    case "PartitionsFilled":
      return `  ⇡ ${event.message}`
    case "Committing":
      return `  ⇢ committing ${event.sinks} sink${event.sinks === 1 ? "" : "s"} in one transaction`
    case "RunFinished":
      return `${event.status === "succeeded" ? "✓" : "✗"} ${event.status} in ${seconds(event.millis)}`
  }
}

/**
 * Prints progress to stderr (stdout stays clean for `--json`), and every `every` a line naming the stages still
 * running and for how long, so a long R fit never looks like a hang.
 */
export const layer = (
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  every: Duration.DurationInput = Duration.seconds(20)
) =>
  Layer.scoped(
    RunObserver,
    Effect.gen(function* () {
      const running = new Map<string, number>()
      yield* Clock.currentTimeMillis.pipe(
        Effect.map((now) => {
          if (running.size > 0) {
            write(
              `  … still running: ${[...running].map(([stage, since]) => `${stage} (${seconds(now - since)})`).join(", ")}`
            )
          }
        }),
        Effect.repeat(Schedule.spaced(every)),
        Effect.delay(every),
        Effect.forkScoped
      )
      return {
        onEvent: (event: RunEvent) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            if (event._tag === "StageStarted") running.set(event.stage, now)
            if (event._tag === "StageSucceeded" || event._tag === "StageFailed") running.delete(event.stage)
            if (event._tag === "RunFinished") running.clear()
            const line = formatEvent(event)
            if (line !== undefined) write(line)
          })
      }
    })
  )
