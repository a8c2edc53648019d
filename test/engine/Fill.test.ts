import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Option, Schema } from "effect"
import { addDays, daysBetween } from "../../engine/Calendar.ts"
import * as Fill from "../../engine/Fill.ts"
import * as Need from "../../engine/Need.ts"
import * as Param from "../../engine/Param.ts"
import * as Partitions from "../../engine/Partitions.ts"
import * as Pipeline from "../../engine/Pipeline.ts"
import * as Plan from "../../engine/Plan.ts"
import * as Resource from "../../engine/Resource.ts"
import * as Runner from "../../engine/Runner.ts"
import { type RunEvent, RunObserver } from "../../engine/RunObserver.ts"
import { RunStore } from "../../engine/RunStore.ts"
import * as TableWriter from "../../sinks/TableWriter.ts"
import { databases } from "../support/TestDatabase.ts"

describe("Partitions.gap: the partitions a writer's run computes for its readers", () => {
  const window = { first: "2026-11-23", last: "2026-11-30" } // two weeks
  const weeks = (first: string, last: string) => Partitions.range("week", first, last)

  it("fills nothing when every needed week is stored, or when the readers need no more than the run's window", () => {
    const present = new Set(weeks("2026-09-07", "2026-11-16"))
    assert.isUndefined(
      Partitions.gap({ unit: "week", window, needs: [{ pipeline: "r", count: 12 }], present, bound: 26 })
    )
    assert.isUndefined(
      Partitions.gap({ unit: "week", window, needs: [{ pipeline: "r", count: 2 }], present: new Set(), bound: 26 })
    )
    assert.isUndefined(Partitions.gap({ unit: "week", window, needs: [], present: new Set(), bound: 26 }))
  })

  it("fills only the missing weeks of the largest need, and starts the run's window at the oldest of them", () => {
    // 12 weeks ending 2026-11-30 start on 2026-09-14; of the ten before the window, 2026-10-05 … 2026-10-26 are stored
    const present = new Set(weeks("2026-10-05", "2026-10-26"))
    const gap = Partitions.gap({
      unit: "week",
      window,
      needs: [
        { pipeline: "forecast", count: 12 },
        { pipeline: "segments", count: 8 },
        { pipeline: "small", count: 1 }
      ],
      present,
      bound: 26
    })
    assert.isDefined(gap)
    assert.deepStrictEqual(gap!.missing, [
      "2026-09-14",
      "2026-09-21",
      "2026-09-28",
      "2026-11-02",
      "2026-11-09",
      "2026-11-16"
    ])
    assert.deepStrictEqual(gap!.window, { first: "2026-09-14", last: "2026-11-30" })
    assert.deepStrictEqual(
      gap!.readers.map((r) => r.pipeline),
      ["forecast", "segments"]
    )
    assert.strictEqual(gap!.beyondBound, 0)
    assert.include(Partitions.describeGap("weekly_kpi", "week", gap!), "filled 6 missing weeks of weekly_kpi")
    assert.include(Partitions.describeGap("weekly_kpi", "week", gap!), "forecast (needs 12 weeks)")
  })

  it("looks back no further than the bound, and says how much it left out", () => {
    const gap = Partitions.gap({
      unit: "week",
      window,
      needs: [{ pipeline: "r", count: 40 }],
      present: new Set(),
      bound: 26
    })
    assert.isDefined(gap)
    // 26 weeks ending 2026-11-30 (the window's two included): 24 filled, 14 beyond the bound
    assert.strictEqual(gap!.missing.length, 24)
    assert.strictEqual(gap!.missing[0], Partitions.shift("week", "2026-11-30", -25))
    assert.strictEqual(gap!.beyondBound, 14)
    assert.include(Partitions.describeGap("weekly_kpi", "week", gap!), "14 weeks more are beyond the fill bound")
    assert.isUndefined(
      Partitions.gap({ unit: "week", window, needs: [{ pipeline: "r", count: 40 }], present: new Set(), bound: 0 })
    )
  })

  it("does not count partitions before the first input as missing", () => {
    const gap = Partitions.gap({
      unit: "day",
      window: { first: "2026-11-28", last: "2026-11-30" },
      needs: [{ pipeline: "r", count: 10 }],
      present: new Set(),
      bound: 182,
      earliest: "2026-11-25"
    })
    assert.deepStrictEqual(gap?.missing, ["2026-11-25", "2026-11-26", "2026-11-27"])
  })
})

// a toy writer of one row per day (`fill_day`) over its lookback, and a toy reader that needs `window` days of it
const writerParams = {
  asOf: Param.date({ description: "last day", default: "2026-11-30" }),
  lookbackDays: Param.int({ description: "days before asOf", default: 2, min: 0 })
}

const dayWriter = TableWriter.upsert<{ day: string; run_id: string }>({
  table: "fill_day",
  key: ["day"],
  columns: { day: "date", run_id: "text" }
})

const writer = Pipeline.make({
  name: "fill-writer",
  description: "one row per day",
  params: writerParams,
  partitions: {
    table: "fill_day",
    column: "day",
    unit: "day",
    since: { table: "fill_input", column: "at" },
    window: ({ asOf, lookbackDays }) => ({ first: addDays(asOf, -lookbackDays), last: asOf }),
    startingAt: (params, first) => ({ ...params, lookbackDays: daysBetween(first, params.asOf) })
  }
})
  .source("days", {
    description: "the days of the window",
    reads: Resource.many("fill_input"),
    output: Schema.Array(Schema.String),
    run: ({ params }) =>
      Effect.succeed(Partitions.range("day", addDays(params.asOf, -params.lookbackDays), params.asOf))
  })
  .sink("writeDays", {
    description: "one row per day",
    inputs: ["days"],
    writer: dayWriter,
    rows: ({ days }, { runId }) => days.map((day) => ({ day, run_id: runId }))
  })

const reader = Pipeline.make({
  name: "fill-reader",
  description: "reads days",
  params: { window: Param.int({ env: "FILL_READER_DAYS", description: "days read", default: 10, min: 1 }) }
}).source("read", {
  description: "reads fill_day",
  reads: Resource.many("fill_day"),
  needs: [Need.days("fill_day", (p) => p.window)],
  output: Schema.Array(Schema.String),
  run: () => Effect.succeed([])
})

const setup = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS fill_input (at timestamptz NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS fill_day (day date PRIMARY KEY, run_id text NOT NULL)`
  yield* sql`TRUNCATE fill_input, fill_day`
  // input from 2026-11-01 on
  yield* sql`INSERT INTO fill_input VALUES ('2026-11-01T08:00:00Z'), ('2026-11-29T08:00:00Z')`
})

const storedDays = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{
    day: string
    run_id: string
  }>`SELECT to_char(day, 'YYYY-MM-DD') AS day, run_id FROM fill_day ORDER BY day`
  return rows
})

const withReaders = Effect.provideService(Fill.Readers, { pipelines: [writer, reader] })

const recordingObserver = (events: Array<RunEvent>) =>
  Effect.provideService(RunObserver, { onEvent: (e: RunEvent) => Effect.sync(() => void events.push(e)) })

for (const [name, db] of databases) {
  layer(Layer.provideMerge(RunStore.Default, db), { timeout: 120_000 })(`Fill on ${name}`, (it) => {
    it.effect(
      "a writer's run computes the missing days its readers need, records them, and fills nothing the next time",
      () =>
        Effect.gen(function* () {
          yield* setup
          const sql = yield* SqlClient.SqlClient
          // one day in the reader's reach is already stored: it is not counted as missing
          yield* sql`INSERT INTO fill_day VALUES ('2026-11-24', 'earlier')`
          const events: Array<RunEvent> = []
          const first = yield* Runner.run(writer).pipe(withReaders, recordingObserver(events))
          const days = yield* storedDays
          // the reader needs 10 days ending 2026-11-30: 2026-11-21 … 2026-11-30
          assert.deepStrictEqual(
            days.map((d) => d.day),
            Partitions.range("day", "2026-11-21", "2026-11-30")
          )
          const filled = first.stages.find((s) => s.name === "writeDays")!.notes.filled as Fill.Filled
          assert.deepStrictEqual(filled.missing, [
            "2026-11-21",
            "2026-11-22",
            "2026-11-23",
            "2026-11-25",
            "2026-11-26",
            "2026-11-27"
          ])
          assert.deepStrictEqual(filled.readers, [{ pipeline: "fill-reader", count: 10 }])
          assert.strictEqual(first.params.lookbackDays, "9")
          const event = events.find((e) => e._tag === "PartitionsFilled")
          assert.isDefined(event)
          assert.include(
            event!._tag === "PartitionsFilled" ? event!.message : "",
            "filled 6 missing days of fill_day for fill-reader (needs 10 days)"
          )
          const stored = Option.getOrThrow(yield* (yield* RunStore).get(first.runId))
          assert.deepStrictEqual(
            (stored.stages.find((s) => s.name === "writeDays")!.notes.filled as Fill.Filled).missing,
            filled.missing
          )

          const second = yield* Runner.run(writer).pipe(withReaders)
          assert.isUndefined(second.stages.find((s) => s.name === "writeDays")!.notes.filled)
          assert.strictEqual(second.params.lookbackDays, "2")
        })
    )

    it.effect(
      "is bounded by SEEDTEST_FILL_MAX_WEEKS, starts at the first input, and does nothing without readers",
      () =>
        Effect.gen(function* () {
          yield* setup
          const withBound = (weeks: string) =>
            Effect.withConfigProvider(
              ConfigProvider.fromMap(
                new Map([
                  ["SEEDTEST_FILL_MAX_WEEKS", weeks],
                  ["FILL_READER_DAYS", "60"]
                ])
              )
            )
          const alone = yield* Runner.run(writer).pipe(withBound("26"))
          assert.isUndefined(alone.stages.find((s) => s.name === "writeDays")!.notes.filled)
          assert.strictEqual((yield* storedDays).length, 3)

          const bounded = yield* Runner.run(writer).pipe(withReaders, withBound("1"))
          const filled = bounded.stages.find((s) => s.name === "writeDays")!.notes.filled as Fill.Filled
          // one week = 7 days ending 2026-11-30; 53 of the 60 needed are beyond the bound
          assert.deepStrictEqual(filled.missing, ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"])
          assert.strictEqual(filled.beyondBound, 53)

          const deep = yield* Runner.run(writer).pipe(withReaders, withBound("26"))
          const all = deep.stages.find((s) => s.name === "writeDays")!.notes.filled as Fill.Filled
          // 60 days back would reach October; the input starts 2026-11-01
          assert.strictEqual(all.missing[0], "2026-11-01")
          assert.strictEqual((yield* storedDays)[0]!.day, "2026-11-01")

          const refused = yield* Effect.either(Runner.run(writer).pipe(withReaders, withBound("-1")))
          assert.isTrue(Either.isLeft(refused))
          if (Either.isLeft(refused)) assert.include(refused.left.message, "SEEDTEST_FILL_MAX_WEEKS")
        })
    )

    it.effect("a dry run reports the fill it would make and writes nothing", () =>
      Effect.gen(function* () {
        yield* setup
        const report = yield* Runner.dryRun(writer).pipe(withReaders)
        const filled = report.stages.find((s) => s.name === "writeDays")!.notes.filled as Fill.Filled
        assert.strictEqual(filled.missing.length, 7)
        assert.strictEqual(report.sinks[0]!.rows, 10)
        assert.strictEqual((yield* storedDays).length, 0)
      })
    )
  })
}

describe("needs in the pipeline definition and the plan", () => {
  it("shows each read's need in plan, with the reader's defaults, and the writer's partitions", () => {
    const readerPlan = Plan.ofPipeline(reader)
    assert.deepStrictEqual(readerPlan.levels[0]![0]!.needs, ["10 days of fill_day"])
    assert.include(Plan.renderPipeline(readerPlan), "needs 10 days of fill_day")
    assert.include(
      Plan.renderPipeline(Plan.ofPipeline(writer)),
      "fills:  the missing days of fill_day its readers need"
    )
  })

  it("refuses a need of something the stage does not read", () => {
    const bad = Pipeline.make({ name: "bad", description: "", params: {} }).source("read", {
      description: "",
      reads: Resource.many("attempt"),
      needs: [Need.weeks("weekly_kpi", () => 3)],
      output: Schema.Array(Schema.String),
      run: () => Effect.succeed([])
    })
    const result = Pipeline.validate(bad)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "InvalidNeed")
  })
})
