import { Args, Command, Options } from "@effect/cli"
import { Console, Data, Effect, Option } from "effect"
import { RunStore } from "../../engine/RunStore.ts"
import { DataLayer } from "../Environment.ts"
import { registry, runPipeline } from "../Registry.ts"

/** A backfill that cannot start: bad weeks, or a pipeline without an `asOf` parameter. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly detail: string }> {
  override get message(): string {
    return this.detail
  }
}

const DAY = 86_400_000

const monday = (flag: string, value: string) =>
  Effect.gen(function*() {
    const t = Date.parse(`${value}T00:00:00Z`)
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(t)) {
      return yield* new UsageError({ detail: `${flag} must be a week's Monday as YYYY-MM-DD, got "${value}".` })
    }
    const weekday = (new Date(t).getUTCDay() + 6) % 7 // 0 = Monday
    if (weekday !== 0) {
      const previous = new Date(t - weekday * DAY).toISOString().slice(0, 10)
      return yield* new UsageError({ detail: `${flag} ${value} is not a Monday; weeks start on Monday (did you mean ${previous}?).` })
    }
    return t
  })

/** `seedtest backfill <pipeline> --from <week> --to <week> [--force]`: one run per week, oldest first. */
export const backfill = Command.make(
  "backfill",
  {
    pipeline: Args.text({ name: "pipeline" }).pipe(Args.withDescription("the pipeline to backfill")),
    from: Options.text("from").pipe(Options.withDescription("first week, its Monday (YYYY-MM-DD)")),
    to: Options.text("to").pipe(Options.withDescription("last week, its Monday (YYYY-MM-DD), inclusive")),
    force: Options.boolean("force").pipe(Options.withDescription("also re-run weeks that already have a successful run"))
  },
  ({ force, from, pipeline, to }) =>
    Effect.gen(function*() {
      const p = yield* (yield* registry).get(pipeline)
      if (!("asOf" in (p.params as object))) {
        return yield* new UsageError({ detail: `Pipeline "${p.name}" has no asOf parameter, so it cannot be run for past weeks.` })
      }
      const start = yield* monday("--from", from)
      const end = yield* monday("--to", to)
      if (end < start) return yield* new UsageError({ detail: `--to ${to} is before --from ${from}.` })
      const weeks = Array.from({ length: (end - start) / (7 * DAY) + 1 }, (_, i) => start + i * 7 * DAY)
      return yield* Effect.gen(function*() {
        const store = yield* RunStore
        let ran = 0
        let skipped = 0
        for (const [i, week] of weeks.entries()) {
          // a week's run reads everything up to its Sunday (as_of = week_start + 6 days)
          const asOf = new Date(week + 6 * DAY).toISOString().slice(0, 10)
          const label = `week ${new Date(week).toISOString().slice(0, 10)} (${i + 1}/${weeks.length}, asOf ${asOf})`
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
).pipe(Command.withDescription(
  "Run a pipeline once per week over a range, oldest first, each as of that week's Sunday; weeks with a successful run are skipped unless --force. Stops at the first failure (nothing of that week is written)."
))
