import { Duration, Effect, Option } from "effect"
import { fireTimes, type ScheduledPipeline } from "./ScheduledPipeline.ts"
import { SchedulerObserver } from "./SchedulerEvent.ts"
import { SlotStore } from "./SlotStore.ts"

/**
 * The catch-up rule of a starting scheduler: from each pipeline's latest recorded slot (at most `window` back), the
 * newest missed fire is registered to run and older ones are recorded as skipped (backfill runs them); a pipeline
 * never scheduled before starts from now.
 */
export const catchUp = (entries: ReadonlyArray<ScheduledPipeline>, now: Date, window: Duration.DurationInput) =>
  Effect.gen(function* () {
    const slots = yield* SlotStore
    const emit = (yield* SchedulerObserver).onEvent
    const windowStart = new Date(now.getTime() - Duration.toMillis(Duration.decode(window)))
    yield* Effect.forEach(
      entries,
      (entry) =>
        Effect.gen(function* () {
          const from = Option.match(yield* slots.latest(entry.pipeline), {
            onNone: () => now,
            onSome: ({ slot }) => (slot.getTime() < windowStart.getTime() ? windowStart : slot)
          })
          const missed = fireTimes(entry, from, now)
          const [skipped, latest] = [missed.slice(0, -1), missed.at(-1)]
          if (skipped.length > 0) {
            const detail =
              "missed while no scheduler was running (catch-up runs only the latest); use backfill to run it"
            yield* slots.register(
              skipped.map((slot) => ({ pipeline: entry.pipeline, slot, status: "skipped" as const, detail })),
              now
            )
            yield* emit({ _tag: "Missed", pipeline: entry.pipeline, slots: skipped })
          }
          if (latest !== undefined) {
            yield* slots.register([{ pipeline: entry.pipeline, slot: latest, status: "pending", detail: null }], now)
          }
        }),
      { discard: true }
    )
  })
