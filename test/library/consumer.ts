// A separate TypeScript service using seedtest-pipelines as a library: it imports ONLY the public entry.
import { Effect, Layer, Schema } from "effect"
import type { RunEvent } from "seedtest-pipelines"
import { Param, Pipeline, Resource, Runner, RunObserver, RunStore, TableWriter } from "seedtest-pipelines"

/** The consumer's own service, provided by the consumer's own layer. */
export class Greetings extends Effect.Service<Greetings>()("consumer/Greetings", {
  succeed: { names: Effect.succeed(["ada", "grace", "edsger"] as ReadonlyArray<string>) }
}) {}

interface Greeting extends Record<string, unknown> {
  readonly name: string
  readonly length: number
}

/** A pipeline declared outside the project, with a parameter, a model stage needing `Greetings` and a sink. */
export const greetingPipeline = Pipeline.make({
  name: "consumer-greetings",
  description: "names and their lengths",
  params: { minLength: Param.int({ description: "shortest name kept", default: 0, min: 0 }) }
})
  .model("names", {
    description: "names from the consumer's service",
    inputs: [],
    output: Schema.Array(Schema.String),
    run: () => Effect.flatMap(Greetings, (g) => g.names)
  })
  .transform("lengths", {
    description: "name lengths",
    inputs: ["names"],
    run: ({ names }, { params }) =>
      names.filter((n) => n.length >= params.minLength).map((name) => ({ name, length: name.length }))
  })
  .sink("store", {
    description: "one row per name",
    inputs: ["lengths"],
    writer: TableWriter.upsert<Greeting>({
      table: "consumer_greeting",
      key: ["name"],
      columns: { name: "text", length: "int4" },
      writes: Resource.many("consumer_greeting")
    }),
    rows: ({ lengths }) => lengths
  })

/** Runs it with the consumer's layers and an observer collecting events. */
export const runGreetings = (events: Array<RunEvent>) =>
  Runner.run(greetingPipeline, { params: { minLength: "4" }, trigger: "library" }).pipe(
    Effect.provide(
      Layer.mergeAll(
        Greetings.Default,
        RunStore.Default,
        Layer.succeed(RunObserver, { onEvent: (e: RunEvent) => Effect.sync(() => void events.push(e)) })
      )
    )
  )
