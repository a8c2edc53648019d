import * as fs from "node:fs"
import * as os from "node:os"
import { Command, Options } from "@effect/cli"
import { DateTime, Duration, Effect, Layer, Logger, LogLevel, Option, Schedule } from "effect"
import * as Scheduler from "../../engine/Scheduler.ts"
import { SchedulerObserver } from "../../engine/SchedulerEvent.ts"
import * as SchedulerLog from "../../engine/SchedulerLog.ts"
import { SlotStore } from "../../engine/SlotStore.ts"
import * as RunMetrics from "../../telemetry/RunMetrics.ts"
import { DataLayer } from "../Environment.ts"
import { registry, runScheduler } from "../Registry.ts"
import { loadSchedule } from "../Schedule.ts"

/**
 * Touches `file` now and every 10 s while the daemon lives: its probes (deploy/) read it. It exists once the schedule
 * is loaded and the database is open (readiness), and stays fresh while the process is alive (liveness). Beating from
 * its own fiber, not from the scheduler's passes, because a pass waits for the run it started, which may take an hour.
 */
const healthBeat = (file: string) =>
  Effect.flatMap(DateTime.nowAsDate, (now) => Effect.try(() => fs.writeFileSync(file, `${now.toISOString()}\n`))).pipe(
    Effect.catchAll((e) => Effect.logWarning(`could not write the health file ${file}: ${String(e.error)}`)),
    Effect.repeat(Schedule.spaced(Duration.seconds(10))),
    Effect.fork
  )

/** `seedtest scheduler`: the long-running daemon operators run (one or more replicas on one database). */
export const scheduler = Command.make(
  "scheduler",
  {
    owner: Options.text("owner").pipe(
      Options.optional,
      Options.withDescription("this replica's name (default host:pid)")
    ),
    grace: Options.integer("grace").pipe(
      Options.withDefault(Duration.toSeconds(Scheduler.defaults.grace)),
      Options.withDescription("seconds a run may take to finish after SIGTERM before it is interrupted and rolled back")
    ),
    poll: Options.integer("poll").pipe(
      Options.withDefault(Duration.toSeconds(Scheduler.defaults.pollInterval)),
      Options.withDescription("seconds between checks for retries, other replicas' progress and dead runs")
    ),
    verbose: Options.boolean("verbose").pipe(Options.withDescription("also log idle periods")),
    healthFile: Options.text("health-file").pipe(
      Options.optional,
      Options.withDescription("a file touched every 10 s once the daemon is up, for liveness and readiness probes")
    )
  },
  ({ grace, healthFile, owner, poll, verbose }) =>
    Effect.gen(function* () {
      const reg = yield* registry
      const schedule = yield* loadSchedule(reg)
      if (schedule.notYetAvailable.length > 0) {
        yield* Effect.logWarning(
          `not scheduling pipelines that are not available yet: ${schedule.notYetAvailable.join(", ")}`
        )
      }
      if (Option.isSome(healthFile)) yield* healthBeat(healthFile.value)
      yield* runScheduler(reg, schedule.entries, {
        ...Scheduler.defaults,
        owner: Option.getOrElse(owner, () => `${os.hostname()}:${process.pid}`),
        grace: Duration.seconds(grace),
        pollInterval: Duration.seconds(poll)
      }).pipe(
        // each decision is a log line (JSON with LOG_FORMAT=json); idle periods are debug lines, shown with --verbose
        Effect.provideService(SchedulerObserver, RunMetrics.observingScheduler(SchedulerLog.observer)),
        Logger.withMinimumLogLevel(verbose ? LogLevel.Debug : LogLevel.Info)
      )
    }).pipe(Effect.provide(SlotStore.Default.pipe(Layer.provideMerge(DataLayer))))
).pipe(
  Command.withDescription(
    "Run the scheduler daemon: fires each pipeline on its cron (config/schedule.json or SEEDTEST_SCHEDULE_FILE), after the pipelines it reads from that are due the same day; each slot runs once across replicas; SIGTERM lets the current run finish within --grace."
  )
)
