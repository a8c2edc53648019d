import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Ref, TestClock } from "effect"
import * as Registry from "../../engine/Registry.ts"
import * as Database from "../../sources/Database.ts"
import { databases, postgres, TestDatabaseUrl } from "../support/TestDatabase.ts"
import {
  ambient,
  defaultSchedule,
  known,
  liveSleep,
  logOf,
  MONDAY,
  options,
  type Replica,
  reset,
  simulateUntil,
  startReplica
} from "./simulation.ts"
import { stubPipelines } from "./stubPipelines.ts"

for (const [name, db] of databases) {
  layer(db, { timeout: Duration.minutes(3) })(`scheduler on the ${name} database`, (it) => {
    const registry = Either.getOrThrow(Registry.make(stubPipelines()))

    it.scoped("a simulated Monday: every model runs before the report, which sees all of their outputs", () =>
      Effect.gen(function* () {
        yield* reset
        yield* TestClock.setTime(MONDAY)
        const replica = yield* startReplica(yield* ambient, registry, defaultSchedule, options("a"))
        yield* simulateUntil([replica], MONDAY + 86_400_000)
        yield* Fiber.interrupt(replica.fiber)
        const log = yield* logOf
        const at = (h: number, m: number) => new Date(MONDAY + (h * 60 + m) * 60_000).toISOString()
        assert.deepStrictEqual(
          log.map((r) => [r.pipeline, r.at.toISOString()]),
          [
            ["compute-daily-kpis", at(2, 10)],
            ["aggregate-features-daily", at(2, 25)],
            ["fit-bayesian-growth", at(4, 30)],
            // independent of each other, both due at 05:00 (the log lists equal times by name)
            ["fit-survival-churn", at(5, 0)],
            ["forecast-prophet", at(5, 0)],
            ["generate-weekly-report", at(6, 0)]
          ]
        )
        const report = log.find((r) => r.pipeline === "generate-weekly-report")!
        assert.strictEqual(report.as_of, "2026-11-30")
        for (const input of ["compute-daily-kpis", "fit-bayesian-growth", "forecast-prophet", "fit-survival-churn"]) {
          assert.include(report.seen, input)
        }
      })
    )

    it.scoped("a report scheduled before its models waits for them, whatever their clock times", () =>
      Effect.gen(function* () {
        yield* reset
        yield* TestClock.setTime(MONDAY)
        const early = defaultSchedule.map((e) =>
          e.pipeline === "generate-weekly-report" ? { ...e, cron: "0 3 * * 1" } : e
        )
        // survival takes 40 simulated minutes
        const slowRegistry = Either.getOrThrow(
          Registry.make(stubPipelines({ "fit-survival-churn": Duration.minutes(40) }))
        )
        const replica = yield* startReplica(yield* ambient, slowRegistry, early, options("a"))
        yield* simulateUntil([replica], MONDAY + 86_400_000)
        yield* Fiber.interrupt(replica.fiber)
        const log = yield* logOf
        const names = log.map((r) => r.pipeline)
        assert.strictEqual(names.at(-1), "generate-weekly-report")
        assert.strictEqual(log.at(-1)!.at.toISOString(), new Date(MONDAY + (5 * 60 + 40) * 60_000).toISOString())
        const events = yield* Ref.get(replica.events)
        const waited = events.filter((e) => e._tag === "Waiting" && e.pipeline === "generate-weekly-report")
        assert.isAbove(waited.length, 0)
        assert.includeMembers(
          [...new Set(waited.flatMap((e) => (e._tag === "Waiting" ? e.upstream : [])))],
          ["fit-bayesian-growth", "forecast-prophet", "fit-survival-churn"]
        )
      })
    )

    it.scoped(
      "a database that goes away stops nothing: the daemon reports it, backs off, and runs the slot when it is back",
      () =>
        Effect.gen(function* () {
          yield* reset
          const sql = yield* SqlClient.SqlClient
          const at = (h: number, m: number) => MONDAY + (h * 60 + m) * 60_000
          yield* TestClock.setTime(at(2, 0))
          const only = defaultSchedule.filter((e) => e.pipeline === "compute-daily-kpis") // fires at 02:10
          const replica = yield* startReplica(yield* ambient, registry, only, options("a"))
          yield* simulateUntil([replica], at(2, 5))
          // the slot table disappears just before the fire (as a database that is gone would fail every statement)
          yield* sql.unsafe("ALTER TABLE schedule_slot RENAME TO schedule_slot_away")
          yield* simulateUntil([replica], at(2, 13))
          const troubles = (yield* Ref.get(replica.events)).filter((e) => e._tag === "Trouble")
          yield* sql.unsafe("ALTER TABLE schedule_slot_away RENAME TO schedule_slot")
          yield* simulateUntil([replica], at(2, 30))
          assert.isNull(
            yield* Fiber.poll(replica.fiber).pipe(Effect.map((exit) => (exit._tag === "Some" ? exit.value : null))),
            "the daemon is still running"
          )
          yield* Fiber.interrupt(replica.fiber)

          // reported each time, with what failed, backing off 5 s, 10 s, 20 s, … up to a minute
          assert.isAtLeast(troubles.length, 3)
          const first = troubles[0]!
          assert.include(first._tag === "Trouble" ? first.detail : "", "schedule_slot")
          const waits = troubles.map((e) => (e._tag === "Trouble" ? [e.failures, e.retryAt.getTime()] : [0, 0]))
          assert.deepStrictEqual(
            waits.map(([n]) => n),
            troubles.map((_, i) => i + 1)
          )
          // each failure happens when the previous wait ends, so the retry times are spaced by the doubling waits
          const spacing = waits.slice(1).map(([, t], i) => t! - waits[i]![1]!)
          assert.deepStrictEqual(
            spacing,
            spacing.map((_, i) => Math.min(60_000, 10_000 * 2 ** i))
          )
          // the slot ran once, after the database came back
          const log = yield* logOf
          assert.deepStrictEqual(
            log.map((r) => r.pipeline),
            ["compute-daily-kpis"]
          )
          assert.isAbove(log[0]!.at.getTime(), at(2, 13))
          assert.isBelow(log[0]!.at.getTime(), at(2, 15))
        })
    )

    it.scoped("a run whose process died is detected by its stale heartbeat and retried", () =>
      Effect.gen(function* () {
        yield* reset
        const sql = yield* SqlClient.SqlClient
        const slot = new Date(MONDAY + (2 * 60 + 10) * 60_000)
        yield* TestClock.setTime(slot.getTime() + 10 * 60_000)
        // a replica claimed the 02:10 KPI slot and died: its heartbeat stopped at 02:11
        yield* sql`INSERT INTO pipeline_run (id, pipeline, trigger, slot, status, started_at, heartbeat_at)
                   VALUES ('run_ghost', 'compute-daily-kpis', 'schedule', ${slot.toISOString()}, 'running', ${slot}, ${slot})`
        yield* sql`INSERT INTO schedule_slot (pipeline, slot, status, attempts, owner, run_id, heartbeat_at, updated_at)
                   VALUES ('compute-daily-kpis', ${slot}, 'running', 1, 'ghost', 'run_ghost', ${new Date(slot.getTime() + 60_000)}, ${slot})`
        const only = defaultSchedule.filter((e) => e.pipeline === "compute-daily-kpis")
        const replica = yield* startReplica(
          yield* ambient,
          registry,
          only,
          options("b", { retryBase: Duration.minutes(1), staleAfter: Duration.minutes(2) })
        )
        yield* simulateUntil([replica], slot.getTime() + 30 * 60_000)
        yield* Fiber.interrupt(replica.fiber)
        const events = yield* Ref.get(replica.events)
        assert.isTrue(events.some((e) => e._tag === "Stale" && e.owner === "ghost"))
        const claimed = events.find((e) => e._tag === "Claimed")
        assert.strictEqual(claimed?._tag === "Claimed" ? claimed.attempt : 0, 2)
        const [ghost] = yield* sql<{
          status: string
          error: { tag: string }
        }>`SELECT status, error FROM pipeline_run WHERE id = 'run_ghost'`
        assert.strictEqual(ghost!.status, "failed")
        assert.strictEqual(ghost!.error.tag, "ProcessDied")
        const [row] = yield* sql<{
          status: string
          attempts: number
          owner: string
        }>`SELECT status, attempts, owner FROM schedule_slot`
        assert.deepStrictEqual(row, { status: "succeeded", attempts: 2, owner: "b" })
        assert.strictEqual((yield* logOf).length, 1)
      })
    )

    it.scoped(
      "SIGTERM during a run lets it finish within the grace period; past it, the run rolls back and is retried",
      () =>
        Effect.gen(function* () {
          yield* reset
          const sql = yield* SqlClient.SqlClient
          const slow = Either.getOrThrow(Registry.make(stubPipelines({ "compute-daily-kpis": Duration.minutes(10) })))
          const only = defaultSchedule.filter((e) => e.pipeline === "compute-daily-kpis")
          const claimedIn = (replica: Replica) =>
            Effect.gen(function* () {
              for (let i = 0; i < 2000; i++) {
                if ((yield* Ref.get(replica.events)).some((e) => e._tag === "Claimed")) return
                yield* liveSleep(5)
              }
            })
          const fire = MONDAY + (2 * 60 + 10) * 60_000
          const settle = (replica: Replica) => simulateUntil([replica], fire)

          // 1. grace (15 min) longer than the run (10 min): the run finishes and commits
          yield* TestClock.setTime(fire - 60_000)
          const first = yield* startReplica(yield* ambient, slow, only, options("a", { grace: Duration.minutes(15) }))
          yield* settle(first)
          yield* claimedIn(first)
          const stopping = yield* Effect.fork(Fiber.interrupt(first.fiber))
          yield* liveSleep(50)
          yield* TestClock.adjust(Duration.minutes(10))
          yield* Fiber.join(stopping)
          assert.strictEqual((yield* logOf).length, 1)
          const [done] = yield* sql<{ status: string }>`SELECT status FROM schedule_slot`
          assert.strictEqual(done!.status, "succeeded")

          // 2. grace (2 min) shorter than the run: interrupted, nothing written, slot failed and retried later
          yield* reset
          yield* TestClock.setTime(fire + 86_400_000 - 60_000)
          const second = yield* startReplica(
            yield* ambient,
            slow,
            only,
            options("b", { grace: Duration.minutes(2), retryBase: Duration.minutes(1) })
          )
          yield* simulateUntil([second], fire + 86_400_000)
          yield* claimedIn(second)
          const stopping2 = yield* Effect.fork(Fiber.interrupt(second.fiber))
          yield* liveSleep(50)
          yield* TestClock.adjust(Duration.minutes(2))
          yield* Fiber.join(stopping2)
          assert.strictEqual((yield* logOf).length, 0)
          const [failed] = yield* sql<{ status: string; detail: string }>`SELECT status, detail FROM schedule_slot`
          assert.strictEqual(failed!.status, "failed")
          assert.include(failed!.detail, "interrupted")
          const third = yield* startReplica(
            yield* ambient,
            slow,
            only,
            options("c", { retryBase: Duration.minutes(1) })
          )
          const now = yield* TestClock.currentTimeMillis
          yield* simulateUntil([third], now + 30 * 60_000)
          yield* Fiber.interrupt(third.fiber)
          assert.strictEqual((yield* logOf).length, 1)
          const [retried] = yield* sql<{ status: string; attempts: number }>`SELECT status, attempts FROM schedule_slot`
          assert.deepStrictEqual(retried, { status: "succeeded", attempts: 2 })
        })
    )
  })
}

layer(postgres, { timeout: Duration.minutes(5) })("two scheduler replicas on one PostgreSQL", (it) => {
  it.scoped("run every slot of a simulated week exactly once", () =>
    Effect.gen(function* () {
      yield* reset
      // each replica gets its own connection pool to the same database, as two processes would
      const url = yield* TestDatabaseUrl
      const registry = Either.getOrThrow(Registry.make(stubPipelines()))
      yield* TestClock.setTime(MONDAY)
      const a = yield* startReplica(Database.layerUrl(url), registry, defaultSchedule, options("a"))
      const b = yield* startReplica(Database.layerUrl(url), registry, defaultSchedule, options("b"))
      yield* simulateUntil([a, b], MONDAY + 7 * 86_400_000)
      yield* Fiber.interrupt(a.fiber)
      yield* Fiber.interrupt(b.fiber)
      const sql = yield* SqlClient.SqlClient
      const runs = yield* sql<{ pipeline: string; slot: string; n: number }>`
        SELECT pipeline, slot, count(*) AS n FROM pipeline_run GROUP BY pipeline, slot ORDER BY pipeline, slot`
      // Mon 30 Nov – Sun 6 Dec 2026: 7 daily KPI, features and survival runs; growth, forecast and report on
      // Monday; segments on 1 December
      const perPipeline = (name: string) => runs.filter((r) => r.pipeline === name).length
      assert.deepStrictEqual(
        known.map((p) => [p, perPipeline(p)]),
        [
          ["compute-daily-kpis", 7],
          ["aggregate-features-daily", 7],
          ["fit-bayesian-growth", 1],
          ["forecast-prophet", 1],
          ["fit-survival-churn", 7],
          ["cluster-segments", 1],
          ["generate-weekly-report", 1]
        ]
      )
      assert.isTrue(runs.every((r) => r.n === 1))
      assert.strictEqual((yield* logOf).length, 25)
      const owners = yield* sql<{ owner: string }>`SELECT DISTINCT owner FROM schedule_slot ORDER BY owner`
      assert.isAbove(owners.length, 0)
    })
  )
})
