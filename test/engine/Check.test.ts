import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import { Cause, Duration, Effect, Either, Layer, Option, Schema } from "effect"
import { ExitCode, explain } from "../../cli/Failure.ts"
import * as Check from "../../engine/Check.ts"
import { CheckFailed } from "../../engine/Errors.ts"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as Relation from "../../engine/Relation.ts"
import * as Resource from "../../engine/Resource.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import * as TableWriter from "../../sinks/TableWriter.ts"
import { databases } from "../support/TestDatabase.ts"

interface Score extends Record<string, unknown> {
  readonly user_id: string
  readonly week: string
  readonly scores: { readonly P: number | null; readonly sigma: number }
}

const scores = TableWriter.upsert<Score>({
  table: "check_score",
  key: ["user_id", "week"],
  columns: { user_id: "text", week: "text", scores: "jsonb" },
  merge: ["scores"]
})

const setup = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS check_score (user_id text, week text, scores jsonb NOT NULL,
                                                    PRIMARY KEY (user_id, week))`
  yield* sql`TRUNCATE check_score, pipeline_run`
})

const stored = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM check_score`
)

/** The users sent to a "model", the rows it answered with, and the checks on the sink that writes them. */
const scoring = (options: {
  readonly sent: ReadonlyArray<string>
  readonly answer: ReadonlyArray<Score>
  readonly checks: ReadonlyArray<Check.Check<Score>>
}) =>
  Pipeline.make({ name: "check-scores", description: "test pipeline", params: {} })
    .source("users", {
      description: "the users sent",
      reads: Resource.many("users"),
      output: Schema.Array(Schema.String),
      run: () => Effect.succeed(options.sent)
    })
    .model("model", {
      description: "answers per user",
      inputs: ["users"],
      output: Schema.Array(Schema.Unknown),
      run: () => Effect.succeed(options.answer)
    })
    .sink("writeScores", {
      description: "scores",
      inputs: ["users", "model"],
      writer: scores,
      rows: ({ model }) => model as ReadonlyArray<Score>,
      checks: options.checks
    })

const row = (user_id: string, P: number | null, week = "2026-11-23"): Score => ({
  user_id,
  week,
  scores: { P, sigma: 0.1 }
})

const probability = Check.inRange<Score>("scores.P", 0, 1)
const noNaN = Check.notNaN<Score>("scores.P")
const onePerKey = Check.uniqueKey<Score>(["user_id", "week"])
const sentOnly = Check.subsetOf<Score, ReadonlyArray<string>>("user_id", "users", (users) => users)
const all = [probability, noNaN, onePerKey, sentOnly]

const recordOf = (runId: string) =>
  Effect.flatMap(RunStore, (store) => store.get(runId)).pipe(Effect.map(Option.getOrThrow))

const lastRun = Effect.flatMap(RunStore, (store) => store.list({ limit: 1 })).pipe(Effect.map((runs) => runs[0]!))

const runtimeFor = (db: Layer.Layer<any, unknown>) => Layer.provideMerge(RunStore.Default, db)

for (const [name, db] of databases) {
  layer(runtimeFor(db), { timeout: Duration.minutes(2) })(`Data checks on the ${name} database`, (it) => {
    it.effect("rows that pass every check commit, and the run record lists each check as passed", () =>
      Effect.gen(function* () {
        yield* setup
        const result = yield* Runner.run(
          scoring({ sent: ["a", "b"], answer: [row("a", 0), row("b", 1)], checks: all }),
          { trigger: "test" }
        )
        assert.deepStrictEqual(
          result.checks.map((c) => [c.check, c.status]),
          all.map((c) => [c.name, "passed"])
        )
        assert.strictEqual((yield* stored)[0]!.n, 2)
        const record = yield* recordOf(result.runId)
        assert.deepStrictEqual(
          record.checks.map((c) => [c.check, c.status, c.rows]),
          all.map((c) => [c.name, "passed", 2])
        )
      })
    )

    it.effect("a probability of 1.0000000000000002 fails an error check: nothing written, the record names it", () =>
      Effect.gen(function* () {
        yield* setup
        const exit = yield* Runner.run(
          scoring({
            sent: ["a", "b", "c"],
            answer: [row("a", 0.5), row("b", 1.0000000000000002), row("c", -4.4e-16)],
            checks: all
          })
        ).pipe(Effect.exit)
        assert.isTrue(exit._tag === "Failure")
        const error = Cause.failureOption((exit as { cause: Cause.Cause<unknown> }).cause).pipe(Option.getOrThrow)
        assert.instanceOf(error, CheckFailed)
        assert.strictEqual(explain((exit as { cause: Cause.Cause<unknown> }).cause)?.code, ExitCode.userError)
        assert.strictEqual((yield* stored)[0]!.n, 0, "nothing was written")
        const record = yield* lastRun
        assert.strictEqual(record.status, "failed")
        assert.strictEqual(record.error?.tag, "CheckFailed")
        assert.include(record.error!.message, probability.name)
        const failed = record.checks.find((c) => c.check === probability.name)!
        assert.strictEqual(failed.status, "failed")
        assert.strictEqual(failed.failing, 2)
        const sampledUsers = failed.samples.map((s) => (s as Score).user_id).sort()
        assert.deepStrictEqual(sampledUsers, ["b", "c"])
        assert.strictEqual(record.stages.find((s) => s.name === "writeScores")?.status, "failed")
      })
    )

    it.effect("NaN, a duplicate key and a user that was never sent each fail their check", () =>
      Effect.gen(function* () {
        yield* setup
        const cases: ReadonlyArray<readonly [Check.Check<Score>, ReadonlyArray<Score>]> = [
          [noNaN, [row("a", Number.NaN), row("b", 0.2)]],
          [onePerKey, [row("a", 0.1), row("a", 0.2), row("b", 0.3)]],
          [sentOnly, [row("a", 0.1), row("z", 0.2)]]
        ]
        for (const [check, answer] of cases) {
          const error = yield* Runner.run(scoring({ sent: ["a", "b"], answer, checks: [check] })).pipe(Effect.flip)
          assert.strictEqual(error._tag, "CheckFailed", check.name)
          if (error._tag === "CheckFailed") {
            assert.strictEqual(error.check, check.name)
            assert.strictEqual(error.failing, 1, check.name)
            assert.strictEqual(error.samples.length, 1)
          }
          assert.strictEqual((yield* stored)[0]!.n, 0, `${check.name}: nothing written`)
        }
        const record = yield* lastRun
        assert.deepStrictEqual(record.checks[0]!.samples, [row("z", 0.2)])
      })
    )

    it.effect("a warn check that fails commits the run and records the warning with samples", () =>
      Effect.gen(function* () {
        yield* setup
        const soft = Check.inRange<Score>("scores.P", 0, 0.5, { severity: "warn" })
        const answer = [row("a", 0.2), row("b", 0.9)]
        const result = yield* Runner.run(scoring({ sent: ["a", "b"], answer, checks: [soft] }))
        assert.strictEqual((yield* stored)[0]!.n, 2)
        const record = yield* recordOf(result.runId)
        assert.strictEqual(record.status, "succeeded")
        assert.deepStrictEqual(
          record.checks.map((c) => ({ check: c.check, severity: c.severity, status: c.status, samples: c.samples })),
          [{ check: soft.name, severity: "warn", status: "failed", samples: [row("b", 0.9)] }]
        )
      })
    )

    it.effect("the row count is compared with the previous successful run's", () =>
      Effect.gen(function* () {
        yield* setup
        const band = Check.rowCountNearPrevious<Score>(2)
        const users = ["a", "b", "c", "d", "e", "f"]
        const first = yield* Runner.run(scoring({ sent: users, answer: users.map((u) => row(u, 0.5)), checks: [band] }))
        assert.strictEqual(first.checks[0]!.status, "passed", "no previous run: passes")
        const rowsOf = (n: number) => users.slice(0, n).map((u) => row(u, 0.5))
        const second = yield* Runner.run(scoring({ sent: users, answer: rowsOf(2), checks: [band] }))
        assert.strictEqual(second.checks[0]!.status, "failed", "2 rows after 6 is outside ×2")
        assert.deepStrictEqual(second.checks[0]!.samples, [{ rows: 2, previousRows: 6 }])
        const third = yield* Runner.run(scoring({ sent: users, answer: rowsOf(3), checks: [band] }))
        assert.strictEqual(third.checks[0]!.status, "passed", "3 rows after 2 is within ×2")
      })
    )

    it.effect("a dry run evaluates the checks on the rows it would write, and writes nothing", () =>
      Effect.gen(function* () {
        yield* setup
        const report = yield* Runner.dryRun(scoring({ sent: ["a"], answer: [row("a", 2)], checks: all }))
        assert.deepStrictEqual(
          report.checks.map((c) => [c.check, c.status]),
          [
            [probability.name, "failed"],
            [noNaN.name, "passed"],
            [onePerKey.name, "passed"],
            [sentOnly.name, "passed"]
          ]
        )
        assert.strictEqual((yield* stored)[0]!.n, 0)
        const store = yield* RunStore
        assert.strictEqual((yield* store.list({ limit: 5 })).length, 0, "no run record")
      })
    )

    it.effect("checks on a relation sink run in SQL on the rows the relation yields", () =>
      Effect.gen(function* () {
        yield* setup
        const relationScoring = (top: number) =>
          Pipeline.make({ name: "check-relation", description: "test pipeline", params: {} })
            .relation("computed", {
              description: "scores computed in SQL",
              reads: [],
              run: () =>
                Effect.map(SqlClient.SqlClient, (sql) =>
                  Relation.make({
                    query: sql`SELECT 'u' || n AS user_id, '2026-11-23' AS week,
                                      jsonb_build_object('P', n / ${top}::float8, 'sigma', 0.1) AS scores
                               FROM generate_series(1, 4) AS n`,
                    row: Schema.Struct({
                      user_id: Schema.String,
                      week: Schema.String,
                      scores: Schema.Struct({ P: Schema.NullOr(Schema.Number), sigma: Schema.Number })
                    })
                  })
                )
            })
            .sink("writeScores", {
              description: "scores",
              inputs: ["computed"],
              writer: scores,
              relation: ({ computed }) => computed,
              checks: [probability, onePerKey]
            })
        const ok = yield* Runner.run(relationScoring(4))
        assert.deepStrictEqual(
          ok.checks.map((c) => c.status),
          ["passed", "passed"]
        )
        assert.strictEqual((yield* stored)[0]!.n, 4)
        yield* setup
        const error = yield* Runner.run(relationScoring(2)).pipe(Effect.flip)
        assert.strictEqual(error._tag, "CheckFailed")
        if (error._tag === "CheckFailed") assert.strictEqual(error.failing, 2, "P = 1.5 and 2")
        assert.strictEqual((yield* stored)[0]!.n, 0)
      })
    )
  })
}

describe("Check declarations", () => {
  it("a subset check against an input the sink does not consume is a definition error", () => {
    const stray = Check.subsetOf<Score, ReadonlyArray<string>>("user_id", "elsewhere", (users) => users)
    const result = Pipeline.validate(scoring({ sent: [], answer: [], checks: [stray] }))
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.include(result.left.detail, `"elsewhere"`)
  })
})
