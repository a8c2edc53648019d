import { Command, Options } from "@effect/cli"
import { Console, DateTime, Effect } from "effect"
import { upcomingFires } from "../../engine/Upcoming.ts"
import { registry } from "../Registry.ts"
import { loadSchedule } from "../Schedule.ts"

/** `seedtest next`: the upcoming fires, in the order they will run (a pipeline after its same-day upstreams). */
export const next = Command.make(
  "next",
  {
    count: Options.integer("count").pipe(Options.withDefault(10), Options.withDescription("how many upcoming runs")),
    json: Options.boolean("json").pipe(Options.withDescription("print JSON instead of text"))
  },
  ({ count, json }) =>
    Effect.gen(function* () {
      const reg = yield* registry
      const { entries } = yield* loadSchedule(reg)
      const upcoming = upcomingFires(reg, entries, yield* DateTime.nowAsDate, count)
      if (json) return yield* Console.log(JSON.stringify(upcoming, null, 2))
      for (const u of upcoming) {
        const wait =
          u.after.length === 0
            ? ""
            : `  after ${u.after.join(", ")}${u.startsAfter > u.fire ? ` (not before ${u.startsAfter.toISOString()})` : ""}`
        yield* Console.log(`${u.fire.toISOString()}  ${u.pipeline}${wait}`)
      }
    })
).pipe(
  Command.withDescription(
    "The next scheduled runs, in the order they will run, with the same-day upstream pipelines each waits for."
  )
)
