// A service outside the repository that installed seedtest-pipelines from its tarball: it declares a pipeline and
// runs it in its own runtime against the embedded database. Copied into a fresh project by package.test.ts.
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Database, Param, Pipeline, Resource, Runner, RunStore, TableWriter } from "seedtest-pipelines"
import { pipelines } from "seedtest-pipelines/pipelines"

interface Square extends Record<string, unknown> {
  readonly n: number
  readonly square: number
}

const squares = Pipeline.make({
  name: "consumer-squares",
  description: "the squares of the stored numbers from `from` on",
  params: { from: Param.int({ description: "smallest number kept", default: 1, min: 1 }) }
})
  .source("numbers", {
    description: "the stored numbers",
    reads: Resource.many("consumer_number"),
    output: Schema.Array(Schema.Number),
    run: ({ params }) =>
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ readonly n: number }>`
        SELECT n FROM consumer_number WHERE n >= ${params.from} ORDER BY n`
      ).pipe(Effect.map((rows) => rows.map((r) => r.n)))
  })
  .transform("squares", {
    description: "each number with its square",
    inputs: ["numbers"],
    run: ({ numbers }) => numbers.map((n) => ({ n, square: n * n }))
  })
  .sink("store", {
    description: "one row per number",
    inputs: ["squares"],
    writer: TableWriter.upsert<Square>({
      table: "consumer_square",
      key: ["n"],
      columns: { n: "int4", square: "int4" },
      writes: Resource.many("consumer_square")
    }),
    rows: ({ squares }) => squares
  })

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS consumer_number (n int PRIMARY KEY)`
  yield* sql`CREATE TABLE IF NOT EXISTS consumer_square (n int PRIMARY KEY, square int NOT NULL)`
  yield* sql`INSERT INTO consumer_number VALUES (1), (2), (3), (4) ON CONFLICT DO NOTHING`
  const result = yield* Runner.run(squares, { params: { from: "2" }, trigger: "library" })
  const stored = yield* sql<{ n: number; square: number }>`SELECT n, square FROM consumer_square ORDER BY n`
  const records = yield* sql<{ status: string; trigger: string }>`
    SELECT status, trigger FROM pipeline_run WHERE id = ${result.runId}`
  return { stored, records, registered: pipelines.map((p) => p.name) }
})

const dataDir = process.argv[2]
if (dataDir === undefined) throw new Error("usage: node out/main.js <data folder>")
const database = Database.migrated(Database.layerEmbedded(dataDir))
Effect.runPromise(program.pipe(Effect.provide(RunStore.Default), Effect.provide(database))).then(
  (out) => console.log(JSON.stringify(out)),
  (error: unknown) => {
    console.error(String(error))
    process.exit(1)
  }
)
