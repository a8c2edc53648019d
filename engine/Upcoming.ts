import type { Registry } from "./Registry.ts"
import * as ScheduledPipeline from "./ScheduledPipeline.ts"

/** A scheduled fire and when it can start: not before the same-day fires of the pipelines it reads from. */
export interface UpcomingFire {
  readonly pipeline: string
  readonly fire: Date
  readonly startsAfter: Date
  readonly after: ReadonlyArray<string>
}

/**
 * The next `count` fires of the enabled schedules after `now`, in the order they will run (what `seedtest next`
 * prints and the console's schedule page shows): a fire starts once the same-day fires of its upstreams are done.
 */
export const upcomingFires = (
  registry: Registry,
  schedule: ReadonlyArray<ScheduledPipeline.ScheduledPipeline>,
  now: Date,
  count: number
): ReadonlyArray<UpcomingFire> => {
  const enabled = schedule.filter((e) => e.enabled)
  const horizon = new Date(now.getTime() + 400 * 86_400_000)
  const fires = enabled.flatMap((entry) => {
    const result: Array<{ pipeline: string; fire: Date }> = []
    let at: Date | null = ScheduledPipeline.nextFire(entry, now)
    while (at !== null && result.length < count && at < horizon) {
      result.push({ pipeline: entry.pipeline, fire: at })
      at = ScheduledPipeline.nextFire(entry, at)
    }
    return result
  })
  const rank = new Map(registry.order.map((n, i) => [n, i] as const))
  return fires
    .map(({ fire, pipeline }) => {
      const after = ScheduledPipeline.sameDayUpstreamFires(registry, enabled, pipeline, fire)
      const startsAfter = new Date(Math.max(fire.getTime(), ...after.map((a) => a.fire.getTime())))
      return { pipeline, fire, startsAfter, after: [...new Set(after.map((a) => a.pipeline))] }
    })
    .sort((a, b) => a.startsAfter.getTime() - b.startsAfter.getTime() || rank.get(a.pipeline)! - rank.get(b.pipeline)!)
    .slice(0, count)
}
