import { Effect } from "effect"
import * as Schedule from "../config/schedule.ts"
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
 */
export const loadSchedule = (registry: Registry) =>
  Effect.gen(function*() {
    const file = yield* Schedule.scheduleFile
    const registered = registry.pipelines.map((p) => p.name)
    const entries = yield* Schedule.load(file, [...new Set([...registered, ...planned])])
    return {
      file,
      entries: entries.filter((e) => registered.includes(e.pipeline)),
      notYetAvailable: entries.filter((e) => !registered.includes(e.pipeline)).map((e) => e.pipeline)
    }
  })
