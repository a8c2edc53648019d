import { Args, Command, Options } from "@effect/cli"
import { Console, Data, Effect, Either, Option } from "effect"
import * as Calendar from "../../engine/Calendar.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { DataLayer } from "../Environment.ts"
import { registry, runPipeline } from "../Registry.ts"

/** A backfill that cannot start: bad weeks, or a pipeline without an `asOf` parameter. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly detail: string }> {
  override get message(): string {
    return this.detail
  }
}

/** A week given on the command line: a real calendar date, and a Monday (weeks start on Monday). */
const monday = (flag: string, value: string) =>
  Either.match(Calendar.parse(value), {
    onLeft: (invalid) =>
      Effect.fail(new UsageError({ detail: `${flag} must be a week's Monday as YYYY-MM-DD: ${invalid.message}.` })),
    onRight: (date) =>
      Calendar.isMonday(date)
        ? Effect.succeed(date)
        : Effect.fail(
            new UsageError({
              detail: `${flag} ${value} is not a Monday; weeks start on Monday (did you mean ${Calendar.mondayOf(date)}?).`
            })
          )
  })

/** `seedtest backfill <pipeline> --from <week> --to <week> [--force]`: one run per week, oldest first. */
export const backfill = Command.make(
  "backfill",
  {
    pipeline: Args.text({ name: "pipeline" }).pipe(Args.withDescription("the pipeline to backfill")),
    from: Options.text("from").pipe(Options.withDescription("first week, its Monday (YYYY-MM-DD)")),
    to: Options.text("to").pipe(Options.withDescription("last week, its Monday (YYYY-MM-DD), inclusive")),
    force: Options.boolean("force").pipe(
      Options.withDescription("also re-run weeks that already have a successful run")
    )
  },
  ({ force, from, pipeline, to }) =>
    Effect.gen(function* () {
      const p = yield* (yield* registry).get(pipeline)
      if (!("asOf" in (p.params as object))) {
        return yield* new UsageError({
          detail: `Pipeline "${p.name}" has no asOf parameter, so it cannot be run for past weeks.`
        })
      }
      const start = yield* monday("--from", from)
      const end = yield* monday("--to", to)
      if (end < start) return yield* new UsageError({ detail: `--to ${to} is before --from ${from}.` })
      const weeks = Calendar.weeksBetween(start, end)
      return yield* Effect.gen(function* () {
        const store = yield* RunStore
        let ran = 0
        let skipped = 0
        for (const [i, week] of weeks.entries()) {
          // a week's run reads everything up to its Sunday (as_of = week_start + 6 days)
          const asOf = Calendar.sundayOf(week)
          const label = `week ${week} (${i + 1}/${weeks.length}, asOf ${asOf})`
          const done = force ? Option.none() : yield* store.succeededWith(p.name, "asOf", asOf)
          if (Option.isSome(done)) {
            skipped++
            yield* Console.error(`· ${label}: already done by ${done.value}; skipped (--force re-runs it)`)
            continue
          }
          yield* Console.error(`▸ ${label}`)
          yield* runPipeline(p, { params: { asOf }, trigger: "backfill" })
          ran++
        }
        yield* Console.log(`backfill of ${p.name}: ${ran} week(s) run, ${skipped} already done`)
      }).pipe(Effect.provide(DataLayer))
    })
).pipe(
  Command.withDescription(
    "Run a pipeline once per week over a range, oldest first, each as of that week's Sunday; weeks with a successful run are skipped unless --force. Stops at the first failure (nothing of that week is written)."
  )
)
