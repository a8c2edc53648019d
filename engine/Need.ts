import type * as Param from "./Param.ts"
import * as Resource from "./Resource.ts"

/** The grain of a partitioned output: one partition per week (its Monday) or per day. */
export type Unit = "week" | "day"

/**
 * What a read needs of the history of a resource another pipeline writes: `count` weeks (or days) of it, ending with
 * the last partition the writer's run computes (the as-of week or day). Declared next to the read, so the writer can
 * compute the partitions its readers need that are missing (see `Fill`), and `plan` can show it.
 */
export interface Need<P = any> {
  readonly resource: Resource.Resource
  readonly unit: Unit
  /** How many partitions, from the reader's own parameters (e.g. its lookback). */
  readonly count: (params: P) => number
}

/** `count` weeks of `resource` (a table or `table.column`), ending with the writer's last week. */
export const weeks = <P>(resource: string, count: (params: P) => number): Need<P> => ({
  resource: Resource.make(resource),
  unit: "week",
  count
})

/** `count` days of `resource`, ending with the writer's last day. */
export const days = <P>(resource: string, count: (params: P) => number): Need<P> => ({
  resource: Resource.make(resource),
  unit: "day",
  count
})

/** `12 weeks` / `1 day`. */
export const formatCount = (unit: Unit, count: number): string => `${count} ${unit}${count === 1 ? "" : "s"}`

/** The default values of a parameter record: what `plan` evaluates a need with (no environment, no database). */
export const defaultParams = (fields: Param.Fields): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).map(([name, param]) => [name, param.default]))

/** `12 weeks of weekly_kpi` with the reader's default parameters, as `plan` shows a need. */
export const format = (need: Need, fields: Param.Fields): string =>
  `${formatCount(need.unit, need.count(defaultParams(fields)))} of ${Resource.format(need.resource)}`
