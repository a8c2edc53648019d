import { Command, Options } from "@effect/cli"
import { Duration, Effect, Layer, Option, Schedule } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as Scheduler from "../../engine/Scheduler.ts"
import { SlotStore } from "../../engine/SlotStore.ts"
import { DataLayer } from "../Environment.ts"
import { registry, runScheduler } from "../Registry.ts"
import { loadSchedule } from "../Schedule.ts"

const time = (d: Date) => d.toISOString().replace(".000Z", "Z")

/** One log line per scheduler decision. */
export const formatSchedulerEvent = (event: Scheduler.SchedulerEvent): string => {
  switch (event._tag) {
    case "Started":
      return `scheduler ${event.owner} started: ${event.pipelines} scheduled pipelines`
    case "Due":
      return `due       ${event.pipeline} @ ${time(event.slot)}`
    case "Missed":
      return `missed    ${event.pipeline}: ${event.slots.length} slot(s) while no scheduler ran (${event.slots.map(time).join(", ")}); recorded as skipped, the latest runs`
    case "Waiting":
      return `waiting   ${event.pipeline} @ ${time(event.slot)} for ${event.upstream.join(", ")}`
    case "Claimed":
      return `claimed   ${event.pipeline} @ ${time(event.slot)} (attempt ${event.attempt}, ${event.runId})`
    case "Done":
      return event.status === "succeeded"
        ? `done      ${event.pipeline} @ ${time(event.slot)} succeeded (${event.runId})`
        : `failed    ${event.pipeline} @ ${time(event.slot)}: ${event.detail ?? "?"}${event.retryAt === null ? "" : `; retry at ${time(event.retryAt)}`}`
    case "Skipped":
      return `skipped   ${event.pipeline} @ ${time(event.slot)}: ${event.detail}`
    case "Stale":
      return `stale     ${event.pipeline} @ ${time(event.slot)}: ${event.owner ?? "?"} stopped sending heartbeats; failed, will retry`
    case "Idle":
      return `idle      until ${time(event.until)}`
    case "Trouble":
      return `trouble   ${event.detail} (failure ${event.failures} in a row); trying again at ${time(event.retryAt)}`
    case "Stopping":
      return event.waitingFor === null ? "stopping: no run in progress" : `stopping: letting ${event.waitingFor} finish within the grace period`
  }
}

/**
 * Touches `file` now and every 10 s while the daemon lives: its probes (deploy/) read it. It exists once the schedule
 * is loaded and the database is open (readiness), and stays fresh while the process is alive (liveness). Beating from
 * its own fiber, not from the scheduler's passes, because a pass waits for the run it started, which may take an hour.
 */
const healthBeat = (file: string) =>
  Effect.try(() => fs.writeFileSync(file, `${new Date().toISOString()}\n`)).pipe(
    Effect.catchAll((e) => Effect.logWarning(`could not write the health file ${file}: ${String(e.error)}`)),
    Effect.repeat(Schedule.spaced(Duration.seconds(10))),
    Effect.fork
  )

/** `seedtest scheduler`: the long-running daemon operators run (one or more replicas on one database). */
export const scheduler = Command.make(
  "scheduler",
  {
    owner: Options.text("owner").pipe(Options.optional, Options.withDescription("this replica's name (default host:pid)")),
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
    Effect.gen(function*() {
      const reg = yield* registry
      const schedule = yield* loadSchedule(reg)
      if (schedule.notYetAvailable.length > 0) {
        yield* Effect.logWarning(`not scheduling pipelines that are not available yet: ${schedule.notYetAvailable.join(", ")}`)
      }
      const log = (line: string) => Effect.sync(() => process.stderr.write(`${new Date().toISOString()} ${line}\n`))
      if (Option.isSome(healthFile)) yield* healthBeat(healthFile.value)
      yield* runScheduler(reg, schedule.entries, {
        ...Scheduler.defaults,
        owner: Option.getOrElse(owner, () => `${os.hostname()}:${process.pid}`),
        grace: Duration.seconds(grace),
        pollInterval: Duration.seconds(poll)
      }).pipe(
        Effect.provideService(Scheduler.SchedulerObserver, {
          onEvent: (event) => (event._tag === "Idle" && !verbose ? Effect.void : log(formatSchedulerEvent(event)))
        })
      )
    }).pipe(Effect.provide(SlotStore.Default.pipe(Layer.provideMerge(DataLayer))))
).pipe(Command.withDescription(
  "Run the scheduler daemon: fires each pipeline on its cron (config/schedule.json or SEEDTEST_SCHEDULE_FILE), after the pipelines it reads from that are due the same day; each slot runs once across replicas; SIGTERM lets the current run finish within --grace."
))
