import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as Resource from "../../engine/Resource.ts"
import { registry } from "../Registry.ts"

/** `seedtest list`: every pipeline with its description and what it reads and writes. */
export const list = Command.make(
  "list",
  { json: Options.boolean("json").pipe(Options.withDescription("print JSON instead of text")) },
  ({ json }) =>
    Effect.gen(function* () {
      const { order, pipelines } = yield* registry
      const rows = order
        .map((name) => pipelines.find((p) => p.name === name)!)
        .map((p) => ({
          name: p.name,
          description: p.description,
          reads: Pipeline.reads(p).map(Resource.format),
          writes: Pipeline.writes(p).map(Resource.format)
        }))
      if (json) return yield* Console.log(JSON.stringify(rows, null, 2))
      if (rows.length === 0) return yield* Console.log("no pipelines are registered yet")
      for (const r of rows) {
        yield* Console.log(
          `${r.name}\n  ${r.description}\n  reads:  ${r.reads.join(", ") || "—"}\n  writes: ${r.writes.join(", ") || "—"}\n`
        )
      }
    })
).pipe(Command.withDescription("List the pipelines, in dependency order, with what each reads and writes."))
