/**
 * From a cron fire to the first stage starting (issue 6; target < 100 ms, Dagster's measured run launch is 3–10 s).
 * A trivial pipeline is scheduled every 2 seconds; the scheduler runs with the real clock against PostgreSQL
 * (TEST_DATABASE_URL) or, without it, the embedded database. Run: `npx tsx bench/scheduler.ts [fires=10]`.
 */
import { Duration, Effect, Either, Fiber, Layer, Redacted, Schema } from "effect"
import * as Param from "../engine/Param.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Registry from "../engine/Registry.ts"
import { RunObserver } from "../engine/RunObserver.ts"
import { RunStore } from "../engine/RunStore.ts"
import * as Scheduler from "../engine/Scheduler.ts"
import { SchedulerObserver } from "../engine/SchedulerEvent.ts"
import { SlotStore } from "../engine/SlotStore.ts"
import * as Database from "../sources/Database.ts"

const FIRES = Number(process.argv[2] ?? 10)

const tick = Pipeline.make({
  name: "tick",
  description: "trivial",
  params: { asOf: Param.date({ description: "", default: "2000-01-01" }) }
}).source("now", { description: "", reads: [], output: Schema.Number, run: () => Effect.sync(() => Date.now()) })

const url = process.env.TEST_DATABASE_URL
const db = url === undefined ? Database.layerEmbedded(undefined) : Database.layerUrl(Redacted.make(url))

const main = Effect.gen(function* () {
  const registry = Either.getOrThrow(Registry.make([tick]))
  const latencies: Array<number> = []
  const slots = new Map<string, number>()
  const fiber = yield* Scheduler.run(
    registry,
    [{ pipeline: "tick", cron: "*/2 * * * * *", timezone: "UTC", params: {}, enabled: true }],
    {
      ...Scheduler.defaults,
      owner: "bench"
    }
  ).pipe(
    Effect.provideService(SchedulerObserver, {
      onEvent: (e) =>
        Effect.sync(() => {
          if (e._tag === "Claimed") slots.set(e.runId, e.slot.getTime())
        })
    }),
    Effect.provideService(RunObserver, {
      onEvent: (e) =>
        Effect.sync(() => {
          if (e._tag === "StageStarted") {
            const fire = slots.get(e.runId)
            if (fire !== undefined) latencies.push(Date.now() - fire)
          }
        })
    }),
    Effect.fork
  )
  while (latencies.length < FIRES) yield* Effect.sleep(Duration.millis(200))
  yield* Fiber.interrupt(fiber)
  const sorted = [...latencies].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]!
  console.log(
    `cron fire → first stage started, ${FIRES} fires on ${url === undefined ? "the embedded database" : "PostgreSQL"}:`
  )
  console.log(
    `  median ${median} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms (target < 100 ms; Dagster run launch 3–10 s → ratio ≈ ${Math.round(3000 / Math.max(1, median))}× faster than its best case)`
  )
}).pipe(
  Effect.provide(Layer.mergeAll(SlotStore.Default, RunStore.Default).pipe(Layer.provideMerge(Database.migrated(db)))),
  Effect.scoped
)

Effect.runPromise(main as Effect.Effect<void, unknown, never>).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
