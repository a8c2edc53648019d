import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Logger, Metric, Ref, TestClock } from "effect"
import * as Registry from "../../engine/Registry.ts"
import * as SchedulerLog from "../../engine/SchedulerLog.ts"
import * as RunMetrics from "../../telemetry/RunMetrics.ts"
import { postgres } from "../support/TestDatabase.ts"
import { ambient, defaultSchedule, logOf, MONDAY, options, reset, simulateUntil, startReplica } from "./simulation.ts"
import { stubPipelines } from "./stubPipelines.ts"

interface JsonLine {
  readonly message: unknown
  readonly logLevel: string
  readonly annotations: Record<string, unknown>
}

const at = (h: number, m: number) => MONDAY + (h * 60 + m) * 60_000

/** The slot-lag histogram of one pipeline: how many slots were recorded, and their total lag in seconds. */
const lagOf = (pipeline: string) =>
  Effect.map(Metric.value(RunMetrics.slotLag.pipe(Metric.tagged("pipeline", pipeline))), (state) => ({
    count: state.count,
    sum: state.sum
  }))

layer(postgres, { timeout: Duration.minutes(3) })("scheduler logs and metrics", (it) => {
  it.scoped("each decision is a JSON log line with its pipeline and run, and each run's slot lag is recorded", () =>
    Effect.gen(function* () {
      yield* reset
      yield* TestClock.setTime(at(2, 0))
      // the KPI run takes 30 minutes, so the features slot due at 02:25 can start only at 02:40: 15 minutes late
      const registry = Either.getOrThrow(Registry.make(stubPipelines({ "compute-daily-kpis": Duration.minutes(30) })))
      const schedule = defaultSchedule.filter(
        (e) => e.pipeline === "compute-daily-kpis" || e.pipeline === "aggregate-features-daily"
      )
      assert.deepStrictEqual(schedule.map((e) => e.cron).sort(), ["10 2 * * *", "25 2 * * *"])
      const before = { kpis: yield* lagOf("compute-daily-kpis"), features: yield* lagOf("aggregate-features-daily") }

      // the JSON logger LOG_FORMAT=json installs, its lines collected instead of written to stderr
      const lines: Array<string> = []
      const collect = Logger.make((entry) => void lines.push(Logger.jsonLogger.log(entry)))
      const observer = RunMetrics.observingScheduler(SchedulerLog.observer)
      const replica = yield* startReplica(yield* ambient, registry, schedule, options("a"), observer.onEvent).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, collect))
      )
      yield* simulateUntil([replica], at(3, 0))
      yield* Fiber.interrupt(replica.fiber)

      // the runs happened as the scenario says: the KPI run ends at 02:40, when the features run starts
      const log = yield* logOf
      assert.deepStrictEqual(Object.fromEntries(log.map((r) => [r.pipeline, r.at.toISOString()])), {
        "compute-daily-kpis": new Date(at(2, 40)).toISOString(),
        "aggregate-features-daily": new Date(at(2, 40)).toISOString()
      })

      const parsed = lines.map((line) => JSON.parse(line) as JsonLine)
      const messages = parsed.map((l) => String(l.message))
      assert.include(messages, "scheduler a started: 2 scheduled pipelines")
      assert.include(messages, "due compute-daily-kpis @ 2026-11-30T02:10:00Z")
      assert.include(messages, "stopping: no run in progress")
      // idle periods are debug lines: below the default level
      assert.isFalse(messages.some((m) => m.startsWith("idle")))
      const events = yield* Ref.get(replica.events)
      for (const pipeline of ["compute-daily-kpis", "aggregate-features-daily"]) {
        const claimed = events.find((e) => e._tag === "Claimed" && e.pipeline === pipeline)
        assert.isDefined(claimed)
        const runId = claimed?._tag === "Claimed" ? claimed.runId : ""
        const claimLine = parsed.find(
          (l) => l.annotations["event"] === "Claimed" && l.annotations["pipeline"] === pipeline
        )
        assert.isDefined(claimLine, `a claim line for ${pipeline}`)
        assert.strictEqual(claimLine!.logLevel, "INFO")
        assert.strictEqual(claimLine!.annotations["runId"], runId)
        const done = parsed.find((l) => l.annotations["event"] === "Done" && l.annotations["pipeline"] === pipeline)
        assert.strictEqual(done?.annotations["status"], "succeeded")
        assert.strictEqual(done?.annotations["runId"], runId)
        assert.include(String(done?.message), `done ${pipeline} @`)
      }
      const featuresClaim = parsed.find(
        (l) => l.annotations["event"] === "Claimed" && l.annotations["pipeline"] === "aggregate-features-daily"
      )!
      assert.strictEqual(featuresClaim.annotations["slot"], new Date(at(2, 25)).toISOString())
      assert.strictEqual(featuresClaim.annotations["slotLagSeconds"], 15 * 60)
      assert.include(String(featuresClaim.message), "15m after its due time")

      // the slot-lag metric: one slot each; the KPI run started on time, the features run 15 minutes late
      const after = { kpis: yield* lagOf("compute-daily-kpis"), features: yield* lagOf("aggregate-features-daily") }
      assert.deepStrictEqual(
        { kpis: after.kpis.count - before.kpis.count, features: after.features.count - before.features.count },
        { kpis: 1, features: 1 }
      )
      assert.strictEqual(after.kpis.sum - before.kpis.sum, 0)
      assert.strictEqual(after.features.sum - before.features.sum, 15 * 60)
    })
  )
})
