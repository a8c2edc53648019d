import { Cron } from "croner"
import * as Calendar from "./Calendar.ts"
import type * as Pipeline from "./Pipeline.ts"
import type { Registry } from "./Registry.ts"

/** A pipeline on a schedule: cron in a time zone, run parameters, on or off. */
export interface ScheduledPipeline {
  readonly pipeline: string
  readonly cron: string
  readonly timezone: string
  readonly params: Readonly<Record<string, string>>
  readonly enabled: boolean
}

const cronOf = (entry: ScheduledPipeline) => new Cron(entry.cron, { timezone: entry.timezone, paused: true })

/** Fire times of a schedule in (after, until]. */
export const fireTimes = (entry: ScheduledPipeline, after: Date, until: Date): ReadonlyArray<Date> => {
  const cron = cronOf(entry)
  const result: Array<Date> = []
  let next = cron.nextRun(after)
  while (next !== null && next.getTime() <= until.getTime()) {
    result.push(next)
    next = cron.nextRun(next)
  }
  return result
}

/** The next fire time after `after`. */
export const nextFire = (entry: ScheduledPipeline, after: Date): Date | null => cronOf(entry).nextRun(after)

/**
 * The period a slot belongs to: its calendar day in its schedule's time zone. Upstream pipelines due in the same
 * period must be done before a downstream slot runs, whatever their clock times.
 */
export const periodOf = (slot: Date, timezone: string): { readonly start: Date; readonly end: Date } =>
  Calendar.dayAround(slot, timezone)

/**
 * The fires of the scheduled pipelines `pipeline` reads from that fall in the same period (local day) as `slot`:
 * what a slot waits for before it runs.
 */
export const sameDayUpstreamFires = (
  registry: Registry,
  schedule: ReadonlyArray<ScheduledPipeline>,
  pipeline: string,
  slot: Date
): ReadonlyArray<{ readonly pipeline: string; readonly fire: Date }> => {
  const entry = schedule.find((e) => e.pipeline === pipeline && e.enabled)
  if (entry === undefined) return []
  const period = periodOf(slot, entry.timezone)
  return registry.edges
    .filter((e) => e.to === pipeline)
    .flatMap((edge) => {
      const upstream = schedule.find((e) => e.pipeline === edge.from && e.enabled)
      return upstream === undefined
        ? []
        : fireTimes(upstream, new Date(period.start.getTime() - 1), new Date(period.end.getTime() - 1)).map((fire) => ({
            pipeline: edge.from,
            fire
          }))
    })
}

/** A scheduled run's parameters: the entry's, plus `asOf` = the slot's local date when the pipeline takes one. */
export const slotParams = (pipeline: Pipeline.Any, entry: ScheduledPipeline, slot: Date): Record<string, string> =>
  "asOf" in (pipeline.params as object) && !("asOf" in entry.params)
    ? { ...entry.params, asOf: Calendar.dateOf(slot, entry.timezone) }
    : { ...entry.params }
