import { Effect } from "effect"
import * as Calendar from "../engine/Calendar.ts"
import { type SeedResult, seedCohort } from "./Loader.ts"

/** The flags of `seedtest seed`, decoded. */
export interface SeedFlags {
  /** `--students` (default 200). */
  readonly students: number
  /** `--weeks` (default 16). */
  readonly weeks: number
  /** `--seed` (default 42): the same seed gives the same cohort. */
  readonly seed: number
  /** `--end-date YYYY-MM-DD` (default: yesterday, UTC, so the last day is complete). */
  readonly endDate: string | undefined
}

/** The defaults of the flags. */
export const defaultSeedFlags: SeedFlags = { students: 200, weeks: 16, seed: 42, endDate: undefined }

/** A few lines for the terminal: what was generated, how fast, and the planted truths to look for. */
export const seedSummary = (result: SeedResult): string =>
  [
    `Seeded ${result.students.toLocaleString("en")} students × ${result.weeks} weeks (seed ${result.seed}), ${result.startDate} to ${result.endDate}:`,
    `  ${result.attempts.toLocaleString("en")} attempts and ${result.sessions.toLocaleString("en")} sessions in ${(result.millis / 1000).toFixed(1)} s (${Math.round(result.attemptsPerSecond).toLocaleString("en")} attempts/s)`,
    `  planted: archetypes per student in cohort_truth (improver, struggler, fast, hint_leaner, churner with churn_after (fading over the 3 weeks before), regular);`,
    `  a cohort-wide accuracy drop in the week of ${result.anomalyWeekStart} (cohort_meta)`
  ].join("\n")

/** The `seed` command: generates the cohort into the demo tables (refusing host tables) and logs a summary. */
export const seedCommand = Effect.fn("Cohort.seedCommand")(function* (flags: SeedFlags) {
  const endDate = flags.endDate ?? Calendar.addDays(yield* Calendar.today(), -1)
  const result = yield* seedCohort({ students: flags.students, weeks: flags.weeks, seed: flags.seed, endDate })
  yield* Effect.log(seedSummary(result))
  return result
})
