import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import {
  ConfigProvider,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Option,
  Ref,
  Schema,
  TestClock
} from "effect"
import * as Param from "../../engine/Param.ts"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as RedactorModule from "../../engine/Redactor.ts"
import { Redactor } from "../../engine/Redactor.ts"
import * as Relation from "../../engine/Relation.ts"
import * as Resource from "../../engine/Resource.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import type { SinkWriter } from "../../engine/Sink.ts"
import * as TableWriter from "../../sinks/TableWriter.ts"
import { databases } from "../support/TestDatabase.ts"

class Boom extends Schema.TaggedError<Boom>()("Boom", { n: Schema.Number }) {}

interface Item extends Record<string, unknown> {
  readonly id: string
  readonly value: number
  readonly doc: Record<string, unknown>
}

const items = TableWriter.upsert<Item>({
  table: "kernel_item",
  key: ["id"],
  columns: { id: "text", value: "float8", doc: "jsonb" },
  merge: ["doc"]
})

interface Audit extends Record<string, unknown> {
  readonly run_id: string
  readonly note: string
}

const audit = TableWriter.append<Audit>({ table: "kernel_audit", columns: { run_id: "text", note: "text" } })

const setup = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS kernel_item (id text PRIMARY KEY, value float8 NOT NULL CHECK (value >= 0), doc jsonb NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS kernel_audit (run_id text NOT NULL, note text NOT NULL)`
  yield* sql`TRUNCATE kernel_item, kernel_audit, pipeline_run`
})

const counts = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ items: number; audits: number }>`
    SELECT (SELECT count(*) FROM kernel_item) AS items, (SELECT count(*) FROM kernel_audit) AS audits`
  return row!
})

const params = { scale: Param.number({ env: "KERNEL_SCALE", description: "multiplier", default: 1, min: 0 }) }

/** source → two independent transforms → model → two sinks */
const itemsPipeline = (options: { readonly failAudit?: boolean; readonly failModel?: boolean } = {}) =>
  Pipeline.make({ name: "kernel-items", description: "test pipeline", params })
    .source("numbers", {
      description: "three numbers",
      reads: Resource.many("numbers"),
      output: Schema.Array(Schema.Number),
      run: () => Effect.succeed([1, 2, 3])
    })
    .transform("doubled", {
      description: "times two",
      inputs: ["numbers"],
      run: ({ numbers }, { params }) => numbers.map((n) => n * 2 * params.scale)
    })
    .transform("labels", {
      description: "names",
      inputs: ["numbers"],
      run: ({ numbers }) => numbers.map((n) => `item-${n}`)
    })
    .model("scored", {
      description: "pairs them",
      inputs: ["doubled", "labels"],
      output: Schema.Array(Schema.Struct({ id: Schema.String, value: Schema.Number })),
      run: ({ doubled, labels }) =>
        options.failModel
          ? Effect.fail(new Boom({ n: 1 }))
          : Effect.succeed(labels.map((id, i) => ({ id, value: doubled[i]! })))
    })
    .sink("writeItems", {
      description: "items",
      inputs: ["scored"],
      writer: items,
      rows: ({ scored }) => scored.map((s) => ({ ...s, doc: { fresh: s.value } }))
    })
    .sink("writeAudit", {
      description: "audit",
      inputs: ["scored"],
      writer: audit,
      // a negative value violates kernel_item's CHECK — but here we break the audit insert with a null note
      rows: ({ scored }, { runId }) =>
        scored.map((s) => ({ run_id: runId, note: options.failAudit ? (null as unknown as string) : s.id }))
    })

const ItemRow = Schema.Struct({
  id: Schema.String,
  value: Schema.Number,
  doc: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})

/**
 * A relation source (rows computed by the database) → a relation sink (INSERT … SELECT), next to an ordinary sink of
 * materialised rows. `from` replaces the relation's table (to break it); `negative` makes the last row violate the
 * table's CHECK.
 */
const relationPipeline = (options: { readonly from?: string; readonly negative?: boolean } = {}) =>
  Pipeline.make({ name: "kernel-relation", description: "test pipeline", params })
    .relation("computed", {
      description: "three items computed in SQL",
      reads: Resource.many("numbers"),
      run: ({ params }) =>
        Effect.map(SqlClient.SqlClient, (sql) =>
          Relation.make({
            query:
              options.from !== undefined
                ? sql`SELECT id, value, doc FROM ${sql(options.from)}
                    WHERE ${params.scale}::float8 > 0 AND ${options.negative === true}`
                : sql`SELECT 'rel-' || n AS id,
                           (CASE WHEN ${options.negative === true} AND n = 3 THEN -1 ELSE n END)
                             * ${params.scale}::float8 AS value,
                           jsonb_build_object('fresh', n * ${params.scale}::float8) AS doc
                    FROM generate_series(1, 3) AS n`,
            row: ItemRow,
            settings: { jit: "off" }
          })
        )
    })
    .source("notes", {
      description: "one audit note",
      reads: [],
      output: Schema.Array(Schema.String),
      run: () => Effect.succeed(["relation run"])
    })
    .sink("writeAudit", {
      description: "audit",
      inputs: ["notes"],
      writer: audit,
      rows: ({ notes }, { runId }) => notes.map((note) => ({ run_id: runId, note }))
    })
    .sink("writeItems", {
      description: "items, straight from the relation",
      inputs: ["computed"],
      writer: items,
      relation: ({ computed }) => computed
    })

const runtimeFor = (db: Layer.Layer<any, unknown>) => Layer.provideMerge(RunStore.Default, db)

for (const [name, db] of databases) {
  layer(runtimeFor(db), { timeout: Duration.minutes(2) })(`Runner on the ${name} database`, (it) => {
    it.effect("runs stages after their inputs and commits every sink", () =>
      Effect.gen(function* () {
        yield* setup
        const result = yield* Runner.run(itemsPipeline(), { params: { scale: "2" } })
        assert.deepStrictEqual(
          result.sinks.map((s) => [s.target, s.inserted]),
          [
            ["kernel_item", 3],
            ["kernel_audit", 3]
          ]
        )
        const started = new Map(result.stages.map((s) => [s.name, s.startedAt!]))
        assert.isTrue(started.get("scored")! >= started.get("doubled")!)
        assert.isTrue(started.get("doubled")! >= started.get("numbers")!)
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ id: string; value: number }>`SELECT id, value FROM kernel_item ORDER BY id`
        assert.deepStrictEqual(
          rows.map((r) => [r.id, r.value]),
          [
            ["item-1", 4],
            ["item-2", 8],
            ["item-3", 12]
          ]
        )
      })
    )

    it.effect("records every real run in pipeline_run with stage timings and row counts", () =>
      Effect.gen(function* () {
        yield* setup
        const ok = yield* Runner.run(itemsPipeline(), { trigger: "test" })
        const failed = yield* Runner.run(itemsPipeline({ failModel: true })).pipe(Effect.flip)
        assert.strictEqual(failed._tag, "StageFailed")
        const store = yield* RunStore
        const okRecord = (yield* store.get(ok.runId)).pipe((o) =>
          o._tag === "Some" ? o.value : assert.fail("no record")
        )
        assert.strictEqual(okRecord.status, "succeeded")
        assert.strictEqual(okRecord.trigger, "test")
        assert.deepStrictEqual(okRecord.params, { scale: "1" })
        assert.strictEqual(okRecord.stages.find((s) => s.name === "numbers")?.rows, 3)
        assert.isTrue(okRecord.stages.every((s) => s.status === "succeeded" && s.millis !== null))
        assert.isNotNull(okRecord.finishedAt)
        const history = yield* store.list({ limit: 10 })
        assert.strictEqual(history.length, 2)
        const failedRecord = history.find((r) => r.id !== ok.runId)!
        assert.strictEqual(failedRecord.status, "failed")
        assert.strictEqual(failedRecord.error?.stage, "scored")
        assert.strictEqual(failedRecord.stages.find((s) => s.name === "writeItems")?.status, "not run")
      })
    )

    it.effect("a failing model stage writes nothing", () =>
      Effect.gen(function* () {
        yield* setup
        const error = yield* Runner.run(itemsPipeline({ failModel: true })).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StageFailed")
        assert.deepStrictEqual(yield* counts, { items: 0, audits: 0 })
      })
    )

    it.effect("a failure in the last sink rolls back the sinks before it", () =>
      Effect.gen(function* () {
        yield* setup
        const error = yield* Runner.run(itemsPipeline({ failAudit: true })).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StageFailed")
        if (error._tag === "StageFailed") {
          assert.strictEqual(error.reason, "WriteFailed")
          assert.strictEqual(error.stage, "writeAudit")
        }
        assert.deepStrictEqual(yield* counts, { items: 0, audits: 0 })
      })
    )

    it.effect("dry-run reports inserts, updates and unchanged rows and writes nothing", () =>
      Effect.gen(function* () {
        yield* setup
        const sql = yield* SqlClient.SqlClient
        // item-1 stored with the same value and doc (unchanged), item-2 with another value (update), item-3 absent
        yield* sql`INSERT INTO kernel_item VALUES ('item-1', 2, '{"fresh": 2}'), ('item-2', 99, '{"owned": "other"}')`
        const before = yield* counts
        const report = yield* Runner.dryRun(itemsPipeline())
        assert.deepStrictEqual(yield* counts, before)
        const runs = yield* sql<{ n: number }>`SELECT count(*) AS n FROM pipeline_run`
        assert.strictEqual(runs[0]!.n, 0)
        const itemPreview = report.sinks.find((s) => s.target === "kernel_item")!
        assert.deepStrictEqual(
          [itemPreview.rows, itemPreview.inserts, itemPreview.updates, itemPreview.unchanged],
          [3, 1, 1, 1]
        )
        const change = itemPreview.changes.find((c) => (c.key as { id: string }).id === "item-2")!
        // the merge keeps the key owned by another writer
        assert.deepStrictEqual(change.after, { value: 4, doc: { owned: "other", fresh: 4 } })
        assert.deepStrictEqual(change.before, { value: 99, doc: { owned: "other" } })
        const auditPreview = report.sinks.find((s) => s.target === "kernel_audit")!
        assert.strictEqual(auditPreview.inserts, 3)
      })
    )

    it.effect("never stores a secret that leaked into an error message", () =>
      Effect.gen(function* () {
        yield* setup
        const secret = "tok-3c1f9a77e2"
        const leaky = Pipeline.make({ name: "leaky", description: "", params: {} }).model("call", {
          description: "an R call whose error quotes its token",
          inputs: [],
          output: Schema.Number,
          run: () => Effect.fail(new Error(`401 from r-brms with header X-Internal-Token: ${secret}`))
        })
        const error = yield* Runner.run(leaky).pipe(
          Effect.provideService(Redactor, RedactorModule.make([secret])),
          Effect.flip
        )
        assert.strictEqual(error._tag, "StageFailed")
        const sql = yield* SqlClient.SqlClient
        const [row] = yield* sql<{ record: string }>`SELECT row_to_json(pipeline_run)::text AS record FROM pipeline_run`
        assert.notInclude(row!.record, secret)
        assert.include(row!.record, "<redacted>")
      })
    )

    it.effect("a relation sink writes its rows in the database and counts them in the run record", () =>
      Effect.gen(function* () {
        yield* setup
        const result = yield* Runner.run(relationPipeline(), { params: { scale: "2" } })
        assert.deepStrictEqual(
          result.sinks.map((s) => [s.target, s.inserted, s.updated]),
          [
            ["kernel_audit", 1, 0],
            ["kernel_item", 3, 0]
          ]
        )
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{
          id: string
          value: number
          doc: unknown
        }>`SELECT id, value, doc FROM kernel_item ORDER BY id`
        assert.deepStrictEqual(
          rows.map((r) => [r.id, r.value, r.doc]),
          [
            ["rel-1", 2, { fresh: 2 }],
            ["rel-2", 4, { fresh: 4 }],
            ["rel-3", 6, { fresh: 6 }]
          ]
        )
        const stored = Option.getOrThrow(yield* (yield* RunStore).get(result.runId))
        const source = stored.stages.find((s) => s.name === "computed")!
        // the planner's estimate of generate_series(1, 3), checked before any transaction opened
        assert.isNumber(source.notes["plannedRows"])
        assert.strictEqual(stored.stages.find((s) => s.name === "writeItems")!.rows, 3)
        // the relation is still a relation when it reaches the sink: no rows were materialised in Node
        assert.isNull(source.rows)
        // re-running updates the same keys instead of adding rows
        const again = yield* Runner.run(relationPipeline(), { params: { scale: "3" } })
        assert.deepStrictEqual([again.sinks[1]!.inserted, again.sinks[1]!.updated], [0, 3])
        assert.deepStrictEqual((yield* counts).items, 3)
      })
    )

    it.effect("a relation dry run compares in the database, samples decoded rows and writes nothing", () =>
      Effect.gen(function* () {
        yield* setup
        const sql = yield* SqlClient.SqlClient
        // rel-1 stored as the relation computes it (unchanged), rel-2 with another value (update), rel-3 absent
        yield* sql`INSERT INTO kernel_item VALUES ('rel-1', 1, '{"fresh": 1}'), ('rel-2', 99, '{"owned": "other"}')`
        const before = yield* counts
        const report = yield* Runner.dryRun(relationPipeline())
        assert.deepStrictEqual(yield* counts, before)
        const preview = report.sinks.find((s) => s.target === "kernel_item")!
        assert.deepStrictEqual([preview.rows, preview.inserts, preview.updates, preview.unchanged], [3, 1, 1, 1])
        const change = preview.changes.find((c) => (c.key as { id: string }).id === "rel-2")!
        assert.deepStrictEqual(change.before, { value: 99, doc: { owned: "other" } })
        assert.deepStrictEqual(change.after, { value: 2, doc: { owned: "other", fresh: 2 } })
        assert.isUndefined(preview.changes.find((c) => (c.key as { id: string }).id === "rel-1"))
        assert.deepStrictEqual(
          [...preview.sample].sort((a, b) => (a as { id: string }).id.localeCompare((b as { id: string }).id)),
          [
            { id: "rel-1", value: 1, doc: { fresh: 1 } },
            { id: "rel-2", value: 2, doc: { fresh: 2 } },
            { id: "rel-3", value: 3, doc: { fresh: 3 } }
          ]
        )
      })
    )

    it.effect("a relation that breaks the table rolls back every sink of the run", () =>
      Effect.gen(function* () {
        yield* setup
        const error = yield* Runner.run(relationPipeline({ negative: true })).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StageFailed")
        if (error._tag === "StageFailed") {
          assert.strictEqual(error.reason, "WriteFailed")
          assert.strictEqual(error.stage, "writeItems")
        }
        // the audit sink committed first in the same transaction, and is rolled back with it
        assert.deepStrictEqual(yield* counts, { items: 0, audits: 0 })
      })
    )

    it.effect("a relation whose SQL does not plan fails at its source stage, before any write", () =>
      Effect.gen(function* () {
        yield* setup
        const error = yield* Runner.run(relationPipeline({ from: "no_such_table" })).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StageFailed")
        if (error._tag === "StageFailed") {
          assert.strictEqual(error.stage, "computed")
          assert.include(error.message, "no_such_table")
        }
        assert.deepStrictEqual(yield* counts, { items: 0, audits: 0 })
      })
    )

    it.effect("a relation handed to a writer that only takes rows fails before the transaction", () =>
      Effect.gen(function* () {
        yield* setup
        const plain: SinkWriter<Item, SqlClient.SqlClient> = {
          target: items.target,
          writes: items.writes,
          write: items.write,
          preview: items.preview
        }
        const stages = relationPipeline().stages.map((s) => (s.name === "writeItems" ? { ...s, writer: plain } : s))
        const pipeline = Either.getOrThrow(Pipeline.fromStages({ name: "mismatched", description: "", params }, stages))
        const error = yield* Runner.run(pipeline).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StageFailed")
        if (error._tag === "StageFailed") {
          assert.strictEqual(error.stage, "writeItems")
          assert.strictEqual(error.reason, "Defect")
          assert.include(error.message, "does not take relations")
        }
        assert.deepStrictEqual(yield* counts, { items: 0, audits: 0 })
      })
    )

    it.effect("jsonb merge keeps keys written by other pipelines", () =>
      Effect.gen(function* () {
        yield* setup
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO kernel_item VALUES ('item-1', 0, '{"S": 0.4, "fresh": 0}')`
        const result = yield* Runner.run(itemsPipeline())
        assert.deepStrictEqual(result.sinks[0], { target: "kernel_item", inserted: 2, updated: 1, deleted: 0 })
        const [row] = yield* sql<{ doc: Record<string, unknown> }>`SELECT doc FROM kernel_item WHERE id = 'item-1'`
        assert.deepStrictEqual(row!.doc, { S: 0.4, fresh: 2 })
      })
    )

    it.effect("a run in progress shows each stage's start, end and rows in its record as they happen", () =>
      Effect.gen(function* () {
        yield* setup
        const started = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const watched = Pipeline.make({ name: "kernel-live", description: "test pipeline", params: {} })
          .transform("first", { description: "fast", inputs: [], run: () => [1, 2, 3] })
          .model("slow", {
            description: "waits until the test lets it go",
            inputs: ["first"],
            output: Schema.Number,
            run: ({ first }) =>
              Deferred.succeed(started, undefined).pipe(
                Effect.zipRight(Deferred.await(release)),
                Effect.as(first.length)
              )
          })
        const running = yield* Effect.fork(Runner.run(watched, { runId: "run_live_1" }))
        yield* Deferred.await(started)
        const store = yield* RunStore
        const during = Option.getOrThrow(yield* store.get("run_live_1"))
        assert.strictEqual(during.status, "running")
        const first = during.stages.find((s) => s.name === "first")!
        const slow = during.stages.find((s) => s.name === "slow")!
        assert.deepStrictEqual([first.status, first.rows], ["succeeded", 3])
        assert.isNotNull(first.millis)
        assert.strictEqual(slow.status, "running")
        assert.isNotNull(slow.startedAt)
        assert.isNull(slow.millis)

        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(running)
        const after = Option.getOrThrow(yield* store.get("run_live_1"))
        assert.deepStrictEqual(
          after.stages.map((s) => [s.name, s.status]),
          [
            ["first", "succeeded"],
            ["slow", "succeeded"]
          ]
        )
      })
    )

    it.effect("a stage cut short by a failing sibling is recorded as not run once the run has ended", () =>
      Effect.gen(function* () {
        yield* setup
        const started = yield* Deferred.make<void>()
        const never = yield* Deferred.make<void>()
        const broken = Pipeline.make({ name: "kernel-cut", description: "test pipeline", params: {} })
          .model("waiting", {
            description: "never finishes by itself",
            inputs: [],
            output: Schema.Number,
            run: () => Deferred.succeed(started, undefined).pipe(Effect.zipRight(Deferred.await(never)), Effect.as(1))
          })
          .model("failing", {
            description: "fails once its sibling is under way",
            inputs: [],
            output: Schema.Number,
            run: () => Deferred.await(started).pipe(Effect.zipRight(Effect.fail(new Boom({ n: 1 }))))
          })
        const error = yield* Effect.flip(Runner.run(broken, { runId: "run_cut_1" }))
        assert.strictEqual(error._tag, "StageFailed")
        const after = Option.getOrThrow(yield* (yield* RunStore).get("run_cut_1"))
        const waiting = after.stages.find((s) => s.name === "waiting")!
        assert.strictEqual(after.stages.find((s) => s.name === "failing")!.status, "failed")
        assert.strictEqual(waiting.status, "not run")
        assert.isNotNull(waiting.startedAt)
      })
    )
  })
}

const noDb = <A, E>(effect: Effect.Effect<A, E, any>) => effect as Effect.Effect<A, E, never>

describe("Runner without sinks", () => {
  const sleeper = (name: string, seconds: number) => Pipeline.transformStage(name, [], () => seconds)
  const sleepy = (name: string, inputs: ReadonlyArray<string>, seconds: number) => ({
    ...sleeper(name, seconds),
    kind: "model" as const,
    inputs,
    run: () => Effect.as(Effect.sleep(Duration.seconds(seconds)), name)
  })

  it.effect("runs independent branches concurrently", () =>
    Effect.gen(function* () {
      const pipeline = Either.getOrThrow(
        Pipeline.fromStages({ name: "branches", description: "", params: {} }, [
          sleepy("left", [], 10),
          sleepy("right", [], 10),
          sleepy("join", ["left", "right"], 1)
        ])
      )
      const fiber = yield* Effect.fork(noDb(Runner.dryRun(pipeline)))
      yield* TestClock.adjust(Duration.seconds(10))
      yield* TestClock.adjust(Duration.seconds(1))
      // serial execution would need 21 seconds of the test clock
      const exit = yield* Fiber.poll(fiber)
      assert.isTrue(exit._tag === "Some" && Exit.isSuccess(exit.value))
    })
  )

  it.effect("fails a stage that exceeds its timeout", () =>
    Effect.gen(function* () {
      const pipeline = Either.getOrThrow(
        Pipeline.fromStages({ name: "slow", description: "", params: {} }, [
          { ...sleepy("slow", [], 60), timeout: Duration.seconds(5) }
        ])
      )
      const fiber = yield* Effect.fork(Effect.flip(noDb(Runner.dryRun(pipeline))))
      yield* TestClock.adjust(Duration.seconds(5))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "StageFailed")
      if (error._tag === "StageFailed") assert.strictEqual(error.reason, "Timeout")
    })
  )

  it.effect("retries with backoff and succeeds when a later attempt does", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make(0)
      const flaky = Pipeline.make({ name: "flaky", description: "", params: {} }).model("call", {
        description: "fails twice",
        inputs: [],
        output: Schema.Number,
        retry: { times: 3, base: Duration.seconds(1) },
        run: (_, { record }) =>
          Ref.updateAndGet(calls, (n) => n + 1).pipe(
            Effect.tap((n) => record("try", n)),
            Effect.flatMap((n) => (n < 3 ? Effect.fail(new Boom({ n })) : Effect.succeed(n)))
          )
      })
      const fiber = yield* Effect.fork(noDb(Runner.dryRun(flaky)))
      yield* TestClock.adjust(Duration.seconds(1)) // first backoff
      yield* TestClock.adjust(Duration.seconds(2)) // second backoff, doubled
      const report = yield* Fiber.join(fiber)
      assert.strictEqual(yield* Ref.get(calls), 3)
      assert.strictEqual(report.stages[0]!.attempts, 3)
      // the last try's notes are the stage's; each failed try keeps its own, with its error
      const notes = report.stages[0]!.notes
      assert.strictEqual(notes["try"], 3)
      const earlier = notes["earlierAttempts"] as ReadonlyArray<{
        attempt: number
        error: string
        notes: Record<string, unknown>
      }>
      assert.deepStrictEqual(
        earlier.map((e) => [e.attempt, e.notes["try"]]),
        [
          [1, 1],
          [2, 2]
        ]
      )
      assert.include(earlier[0]!.error, "Boom")
    })
  )

  it.effect("gives up after the retries it was allowed, with the stage's error", () =>
    Effect.gen(function* () {
      const failing = Pipeline.make({ name: "failing", description: "", params: {} }).model("call", {
        description: "always fails",
        inputs: [],
        output: Schema.Number,
        retry: { times: 2, base: Duration.millis(10), while: (e) => e instanceof Boom },
        run: () => Effect.fail(new Boom({ n: 7 }))
      })
      const fiber = yield* Effect.fork(Effect.flip(noDb(Runner.dryRun(failing))))
      yield* TestClock.adjust(Duration.seconds(1))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "StageFailed")
      if (error._tag === "StageFailed") {
        assert.strictEqual(error.reason, "Failure")
        assert.strictEqual(error.attempts, 3)
        assert.include(error.message, "Boom")
      }
    })
  )

  it.effect("gives every stage its own span, named after it, under the run's span", () =>
    Effect.gen(function* () {
      const spanOf = (stage: string) =>
        Effect.map(Effect.currentSpan, (span) => ({
          stage,
          span: span.name,
          parent: span.parent._tag === "Some" && span.parent.value._tag === "Span" ? span.parent.value.name : null,
          attribute: span.attributes.get("stage")
        }))
      const seen: Array<unknown> = []
      const collect = Pipeline.make({ name: "traced", description: "", params: {} })
        .model("a", {
          description: "",
          inputs: [],
          output: Schema.Unknown,
          run: () => Effect.tap(spanOf("a"), (s) => void seen.push(s))
        })
        .model("b", {
          description: "",
          inputs: ["a"],
          output: Schema.Unknown,
          run: () => Effect.tap(spanOf("b"), (s) => void seen.push(s))
        })
      yield* noDb(Runner.dryRun(collect))
      assert.deepStrictEqual(seen, [
        { stage: "a", span: "stage a", parent: "dry-run traced", attribute: "a" },
        { stage: "b", span: "stage b", parent: "dry-run traced", attribute: "b" }
      ])
    })
  )

  it("rejects cycles, unknown inputs and duplicate stages when the pipeline is built", () => {
    const definition = { name: "broken", description: "", params: {} }
    const t = Pipeline.transformStage
    const cycle = Pipeline.fromStages(definition, [
      t("a", ["c"], () => 1),
      t("b", ["a"], () => 1),
      t("c", ["b"], () => 1)
    ])
    assert.isTrue(Either.isLeft(cycle) && cycle.left.reason === "Cycle")
    assert.include(Either.isLeft(cycle) ? cycle.left.message : "", "a → b → c → a")
    const unknown = Pipeline.fromStages(definition, [t("a", ["missing"], () => 1)])
    assert.isTrue(Either.isLeft(unknown) && unknown.left.reason === "UnknownInput")
    assert.include(Either.isLeft(unknown) ? unknown.left.message : "", "missing")
    const duplicate = Pipeline.fromStages(definition, [t("a", [], () => 1), t("a", [], () => 2)])
    assert.isTrue(Either.isLeft(duplicate) && duplicate.left.reason === "DuplicateStage")
  })

  it("catches a stage consuming the wrong type at compile time", () => {
    const base = Pipeline.make({ name: "typed", description: "", params: {} }).transform("count", {
      description: "",
      inputs: [],
      run: () => 3
    })
    base.transform("ok", {
      description: "",
      inputs: ["count"],
      run: ({ count }: { readonly count: number }) => count + 1
    })
    // biome-ignore format: the type error must stay on the line below its @ts-expect-error
    // @ts-expect-error — "count" is a number, not a string
    base.transform("bad", { description: "", inputs: ["count"], run: ({ count }: { readonly count: string }) => count.length })
    // @ts-expect-error — no stage named "missing"
    base.transform("unknown", { description: "", inputs: ["missing"], run: () => 1 })
    // @ts-expect-error — the name is taken
    base.transform("count", { description: "", inputs: [], run: () => 1 })
    assert.strictEqual(base.stages.length, 1)
  })

  it.effect("reads parameters from --param, then the environment, then defaults, and rejects bad ones", () =>
    Effect.gen(function* () {
      const fields = {
        weeks: Param.int({ env: "LOOKBACK_WEEKS", description: "", default: 12, min: 1 }),
        bayes: Param.boolean({ env: "METRICS_USE_BAYESIAN", description: "", default: false })
      }
      const fromEnv = yield* Param.resolve("p", fields, {}).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["LOOKBACK_WEEKS", "8"]])))
      )
      assert.deepStrictEqual(fromEnv, { weeks: 8, bayes: false })
      const overridden = yield* Param.resolve("p", fields, { weeks: "4", bayes: "true" }).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["LOOKBACK_WEEKS", "8"]])))
      )
      assert.deepStrictEqual(overridden, { weeks: 4, bayes: true })
      const unknown = yield* Effect.flip(Param.resolve("p", fields, { week: "4" }))
      assert.strictEqual(unknown.reason, "UnknownParam")
      assert.include(unknown.message, "weeks")
      const malformed = yield* Effect.flip(Param.resolve("p", fields, { weeks: "twelve" }))
      assert.strictEqual(malformed.reason, "InvalidValue")
      const belowMin = yield* Effect.flip(Param.resolve("p", fields, { weeks: "0" }))
      assert.strictEqual(belowMin.reason, "InvalidValue")
      const badEnv = yield* Effect.flip(
        Param.resolve("p", fields, {}).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["METRICS_USE_BAYESIAN", "maybe"]])))
        )
      )
      assert.include(badEnv.message, "METRICS_USE_BAYESIAN")
    })
  )
})
