import { Effect, Either } from "effect"
import * as Schedule from "../config/schedule.ts"
import * as Param from "../engine/Param.ts"
import type { Registry } from "../engine/Registry.ts"

/** The model pipelines of mission.md; a schedule may name one that has not landed yet without being wrong. */
const planned = [
  "compute-daily-kpis",
  "aggregate-features-daily",
  "fit-bayesian-growth",
  "forecast-prophet",
  "fit-survival-churn",
  "cluster-segments",
  "generate-weekly-report"
]

/**
 * The schedule file (SEEDTEST_SCHEDULE_FILE or config/schedule.json), validated against the registry. Entries of
 * planned pipelines that are not registered yet are set aside and named, not run; any other unknown name is an error.
 * Each entry's `params` are decoded here, like its cron expression, so a bad value fails the load, not the slot.
 */
export const loadSchedule = (registry: Registry) =>
  Effect.gen(function* () {
    const file = yield* Schedule.scheduleFile
    const registered = registry.pipelines.map((p) => p.name)
    const entries = yield* Schedule.load(file, [...new Set([...registered, ...planned])])
    for (const [i, entry] of entries.entries()) {
      const pipeline = registry.pipelines.find((p) => p.name === entry.pipeline)
      if (pipeline === undefined) continue
      const checked = Param.check(pipeline.name, pipeline.params, entry.params, "schedule value")
      if (Either.isLeft(checked)) {
        return yield* new Schedule.ScheduleFileError({
          reason: "InvalidEntry",
          file,
          entry: `#${i + 1} (${entry.pipeline})`,
          detail: `params: ${checked.left.message}`
        })
      }
    }
    for (const warning of Schedule.warnings(entries)) yield* Effect.logWarning(warning)
    return {
      file,
      entries: entries.filter((e) => registered.includes(e.pipeline)),
      notYetAvailable: entries.filter((e) => !registered.includes(e.pipeline)).map((e) => e.pipeline)
    }
  })
