import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as Plan from "../../engine/Plan.ts"
import { registry } from "../Registry.ts"
import { loadSchedule } from "../Schedule.ts"

/** `seedtest plan [pipeline]`: computed from the pipeline values alone, without a database. */
export const plan = Command.make(
  "plan",
  {
    pipeline: Args.text({ name: "pipeline" }).pipe(
      Args.withDescription("show this pipeline's stage DAG (default: the order of all pipelines)"),
      Args.optional
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print JSON instead of text"))
  },
  ({ json, pipeline }) =>
    Effect.gen(function* () {
      const reg = yield* registry
      if (Option.isSome(pipeline)) {
        const p = yield* reg.get(pipeline.value)
        const result = Plan.ofPipeline(p)
        const upstream = reg.edges.filter((e) => e.to === p.name)
        const text =
          Plan.renderPipeline(result) +
          (upstream.length === 0
            ? ""
            : `\n\nruns after:\n${upstream.map((e) => `  ${e.from} (${e.resources.join(", ")})`).join("\n")}`)
        return yield* Console.log(json ? JSON.stringify({ ...result, after: upstream }, null, 2) : text)
      }
      const schedule = yield* loadSchedule(reg)
      const result = Plan.ofRegistry(reg, schedule.entries, new Date())
      const note =
        schedule.notYetAvailable.length === 0
          ? ""
          : `\n\nscheduled in ${schedule.file} but not available yet: ${schedule.notYetAvailable.join(", ")}`
      yield* Console.log(
        json
          ? JSON.stringify({ ...result, notYetAvailable: schedule.notYetAvailable }, null, 2)
          : Plan.renderRegistry(result) + note
      )
    })
).pipe(
  Command.withDescription(
    "Show the execution order of all pipelines with the resource on each edge and the next fire times, or one pipeline's stage DAG. Needs no database."
  )
)
