import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { defaultSeedFlags, seedCommand, seedSummary } from "../../cohort/SeedCommand.ts"
import { DataLayer } from "../Environment.ts"

/** `seedtest seed`: a deterministic synthetic cohort with planted truths, bulk loaded into the demo tables. */
export const seed = Command.make(
  "seed",
  {
    students: Options.integer("students").pipe(
      Options.withDefault(defaultSeedFlags.students),
      Options.withDescription("how many students")
    ),
    weeks: Options.integer("weeks").pipe(
      Options.withDefault(defaultSeedFlags.weeks),
      Options.withDescription("how many weeks of activity")
    ),
    seed: Options.integer("seed").pipe(
      Options.withDefault(defaultSeedFlags.seed),
      Options.withDescription("random seed: the same seed gives the same cohort")
    ),
    endDate: Options.text("end-date").pipe(
      Options.optional,
      Options.withDescription("last day of activity, YYYY-MM-DD (default: yesterday, UTC)")
    )
  },
  ({ endDate, seed, students, weeks }) =>
    Effect.gen(function* () {
      const result = yield* seedCommand({ students, weeks, seed, endDate: Option.getOrUndefined(endDate) })
      yield* Console.log(seedSummary(result))
    }).pipe(Effect.provide(DataLayer))
).pipe(
  Command.withDescription(
    "Generate a synthetic exam-prep cohort (students, sessions, attempts with planted improvers, strugglers, fast students, hint users, churners and one anomalous week) into the demo `attempt` and `session` tables. Refuses to touch a host database's own tables."
  )
)
