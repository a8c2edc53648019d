import { Clock, Effect } from "effect"
import type { Registry } from "../engine/Registry.ts"
import type { ScheduledPipeline } from "../engine/ScheduledPipeline.ts"
import { type UpcomingFire, upcomingFires } from "../engine/Upcoming.ts"

/** How many upcoming fires the console keeps: the schedule page shows 20; the graph takes each pipeline's first. */
const COUNT = 40
/** The pages show fire times to the minute, so the list is recomputed at most this often (it costs 100–300 ms). */
const FRESH_MS = 30_000

const cache = new WeakMap<
  Registry,
  {
    readonly at: number
    readonly schedule: ReadonlyArray<ScheduledPipeline>
    readonly fires: ReadonlyArray<UpcomingFire>
  }
>()

/**
 * The upcoming fires (what `seedtest next` computes), from a cache refreshed every 30 s or when the first cached
 * fire has passed, so a page never waits for the same-day ordering of every fire.
 */
export const cachedUpcoming = (registry: Registry, schedule: ReadonlyArray<ScheduledPipeline>) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const hit = cache.get(registry)
    if (
      hit !== undefined &&
      hit.schedule === schedule &&
      now - hit.at < FRESH_MS &&
      (hit.fires[0]?.fire.getTime() ?? Infinity) > now
    ) {
      return hit.fires
    }
    const fires = upcomingFires(registry, schedule, new Date(now), COUNT)
    cache.set(registry, { at: now, schedule, fires })
    return fires
  })
