import { SqlClient } from "@effect/sql"
import { Chunk, Duration, Effect, Either, type Fiber, Layer, Ref, TestClock } from "effect"
import * as Schedule from "../../config/schedule.ts"
import type * as Registry from "../../engine/Registry.ts"
import { RunStore } from "../../engine/RunStore.ts"
import type { ScheduledPipeline } from "../../engine/ScheduledPipeline.ts"
import * as Scheduler from "../../engine/Scheduler.ts"
import { type SchedulerEvent, SchedulerObserver } from "../../engine/SchedulerEvent.ts"
import { SlotStore } from "../../engine/SlotStore.ts"
import { createLog, missionResources } from "./stubPipelines.ts"

// Running scheduler replicas against a real database on a simulated clock: what the scheduler suites share.

export const MONDAY = Date.parse("2026-11-30T00:00:00Z") // a Monday
export const known = missionResources.map((p) => p.name)
export const defaultSchedule = Either.getOrThrow(
  Effect.runSync(Effect.either(Schedule.load(Schedule.defaultFile, known)))
)

export const options = (
  owner: string,
  overrides: Partial<Scheduler.SchedulerOptions> = {}
): Scheduler.SchedulerOptions => ({
  ...Scheduler.defaults,
  owner,
  pollInterval: Duration.hours(1),
  // coarse heartbeats keep the number of simulated wake-ups small
  heartbeat: Duration.minutes(5),
  staleAfter: Duration.minutes(15),
  ...overrides
})

export const liveSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

export interface Replica {
  readonly events: Ref.Ref<ReadonlyArray<SchedulerEvent>>
  readonly fiber: Fiber.RuntimeFiber<never, unknown>
}

/** Starts one scheduler replica with its own connection pool and stores; its decisions are collected. */
export const startReplica = (
  db: Layer.Layer<SqlClient.SqlClient, unknown>,
  registry: Registry.Registry,
  schedule: ReadonlyArray<ScheduledPipeline>,
  opts: Scheduler.SchedulerOptions,
  observe: (event: SchedulerEvent) => Effect.Effect<void> = () => Effect.void
) =>
  Effect.gen(function* () {
    const events = yield* Ref.make<ReadonlyArray<SchedulerEvent>>([])
    const stores = Layer.mergeAll(SlotStore.Default, RunStore.Default)
    const services = yield* Layer.build(stores.pipe(Layer.provideMerge(db)))
    const fiber = yield* Scheduler.run(registry, schedule, opts).pipe(
      Effect.provide(services),
      Effect.provideService(SchedulerObserver, {
        onEvent: (e) =>
          Effect.zipRight(
            Ref.update(events, (all) => [...all, e]),
            observe(e)
          )
      }),
      Effect.fork
    )
    return { events, fiber } satisfies Replica
  })

/** Whether a replica is asleep: its last decision is Idle until a time after now. */
export const asleepUntil = (replica: Replica, now: number) =>
  Effect.map(Ref.get(replica.events), (events) => {
    const last = events.at(-1)
    return last?._tag === "Idle" && last.until.getTime() > now ? last.until.getTime() : undefined
  })

/**
 * Advances the test clock from wake-up to wake-up until `end`, letting the replicas' real I/O settle between. When
 * every replica sleeps until its next decision, the clock jumps to the earliest; when one is inside a run that waits
 * on the clock (a slow stage), and nothing has happened for a while, the clock jumps to the earliest pending sleep.
 */
export const simulateUntil = (replicas: ReadonlyArray<Replica>, end: number) =>
  Effect.gen(function* () {
    const eventCount = Effect.map(
      Effect.forEach(replicas, (r) => Ref.get(r.events)),
      (all) => all.reduce((n, e) => n + e.length, 0)
    )
    for (;;) {
      const now = yield* TestClock.currentTimeMillis
      if (now >= end) return
      let next: number | undefined
      let seen = yield* eventCount
      let quietSince = Date.now()
      while (next === undefined) {
        const wakes = yield* Effect.forEach(replicas, (r) => asleepUntil(r, now))
        if (wakes.every((w) => w !== undefined)) {
          next = Math.min(...wakes.map((w) => w!))
          break
        }
        yield* liveSleep(5)
        const count = yield* eventCount
        if (count !== seen) {
          seen = count
          quietSince = Date.now()
        } else if (Date.now() - quietSince > 150) {
          const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((t) => t > now)
          if (sleeps.length > 0) next = Math.min(...sleeps)
          quietSince = Date.now()
        }
      }
      yield* TestClock.setTime(Math.min(end, next))
    }
  })

export const logOf = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ pipeline: string; as_of: string; at: Date; seen: ReadonlyArray<string> }>`
    SELECT pipeline, as_of, at, seen FROM sched_log ORDER BY at, pipeline`
)

/** The test's own connection, shared by a single replica. */
export const ambient = Effect.map(SqlClient.SqlClient, (sql) => Layer.succeed(SqlClient.SqlClient, sql))

export const reset = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* createLog
  yield* sql`TRUNCATE sched_log, schedule_slot, pipeline_run`
})
