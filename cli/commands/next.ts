import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import * as Scheduler from "../../engine/Scheduler.ts"
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
    Effect.gen(function*() {
      const reg = yield* registry
      const { entries } = yield* loadSchedule(reg)
      const now = new Date()
      const enabled = entries.filter((e) => e.enabled)
      const horizon = new Date(now.getTime() + 400 * 86_400_000)
      const fires = enabled.flatMap((entry) => {
        const result: Array<{ pipeline: string; fire: Date }> = []
        let at: Date | null = Scheduler.nextFire(entry, now)
        while (at !== null && result.length < count && at < horizon) {
          result.push({ pipeline: entry.pipeline, fire: at })
          at = Scheduler.nextFire(entry, at)
        }
        return result
      })
      const rank = new Map(reg.order.map((n, i) => [n, i] as const))
      // a fire starts once the same-day fires of its upstream pipelines are done
      const upcoming = fires.map(({ fire, pipeline }) => {
        const after = Scheduler.sameDayUpstreamFires(reg, enabled, pipeline, fire)
        const startsAfter = new Date(Math.max(fire.getTime(), ...after.map((a) => a.fire.getTime())))
        return { pipeline, fire, startsAfter, after: [...new Set(after.map((a) => a.pipeline))] }
      })
        .sort((a, b) => a.startsAfter.getTime() - b.startsAfter.getTime() || rank.get(a.pipeline)! - rank.get(b.pipeline)!)
        .slice(0, count)
      if (json) return yield* Console.log(JSON.stringify(upcoming, null, 2))
      for (const u of upcoming) {
        const wait = u.after.length === 0 ? "" : `  after ${u.after.join(", ")}${u.startsAfter > u.fire ? ` (not before ${u.startsAfter.toISOString()})` : ""}`
        yield* Console.log(`${u.fire.toISOString()}  ${u.pipeline}${wait}`)
      }
    })
).pipe(Command.withDescription("The next scheduled runs, in the order they will run, with the same-day upstream pipelines each waits for."))
