import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as Plan from "../../engine/Plan.ts"
import { defaultSchedule } from "../../config/schedule.ts"
import { registry } from "../Registry.ts"

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
    Effect.gen(function*() {
      const reg = yield* registry
      if (Option.isSome(pipeline)) {
        const p = yield* reg.get(pipeline.value)
        const result = Plan.ofPipeline(p)
        const upstream = reg.edges.filter((e) => e.to === p.name)
        const text = Plan.renderPipeline(result) +
          (upstream.length === 0 ? "" : `\n\nruns after:\n${upstream.map((e) => `  ${e.from} (${e.resources.join(", ")})`).join("\n")}`)
        return yield* Console.log(json ? JSON.stringify({ ...result, after: upstream }, null, 2) : text)
      }
      const result = Plan.ofRegistry(reg, defaultSchedule, new Date())
      yield* Console.log(json ? JSON.stringify(result, null, 2) : Plan.renderRegistry(result))
    })
).pipe(Command.withDescription(
  "Show the execution order of all pipelines with the resource on each edge and the next fire times, or one pipeline's stage DAG. Needs no database."
))
