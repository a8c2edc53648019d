import { addDays } from "./Calendar.ts"
import * as Need from "./Need.ts"

/**
 * How a writer's output is partitioned by date, and how its run's window is moved: what lets a run compute the
 * partitions its readers need that are missing (like materialising missing partitions). Declared on the pipeline
 * (`Pipeline.make({ …, partitions })`).
 */
export interface Partitions<P> {
  /** The table whose partitions these are (one the pipeline writes), e.g. `weekly_kpi`. */
  readonly table: string
  /** Its date column naming the partition: a week's Monday, or a day. */
  readonly column: string
  readonly unit: Need.Unit
  /**
   * A SQL condition a stored row must meet for its partition to count as present (e.g. a jsonb key the writer owns,
   * so a row holding only another pipeline's keys does not count). Code, never user input.
   */
  readonly present?: string
  /**
   * The input whose earliest row starts the history (e.g. `attempt.started_at`): partitions before its partition are
   * not missing, there is nothing to compute them from.
   */
  readonly since?: { readonly table: string; readonly column: string }
  /** The first and last partition the run computes with these parameters (`YYYY-MM-DD`). */
  readonly window: (params: P) => Window
  /** The parameters of the same run with its window starting at `first` instead (same last partition). */
  readonly startingAt: (params: P, first: string) => P
}

/** A range of partitions, both ends included (Mondays for weeks). */
export interface Window {
  readonly first: string
  readonly last: string
}

/** One reader's need of the partitioned table, evaluated with the reader's parameters. */
export interface ReaderNeed {
  readonly pipeline: string
  readonly count: number
}

/** What a run fills: the partitions missing from what its readers need (at least one), and what the bound left out. */
export interface Gap {
  /** The missing partitions the run computes on top of its own window, oldest first. */
  readonly missing: ReadonlyArray<string>
  /** The window the run computes: its own, started at the oldest missing partition. */
  readonly window: Window
  /** The readers whose needs reach before the run's own window, with how much they need. */
  readonly readers: ReadonlyArray<ReaderNeed>
  /** Partitions needed but older than the bound allows (not filled). */
  readonly beyondBound: number
}

const days = (unit: Need.Unit) => (unit === "week" ? 7 : 1)

/** `date` moved by `n` partitions. */
export const shift = (unit: Need.Unit, date: string, n: number): string => addDays(date, n * days(unit))

/** The partitions from `first` to `last`, both included. */
export const range = (unit: Need.Unit, first: string, last: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let date = first; date <= last; date = shift(unit, date, 1)) out.push(date)
  return out
}

/**
 * The partitions a run must compute besides its own window so that every reader finds what it needs: those in the
 * `count` partitions ending with the window's last one that are before the window, not `present` and not before
 * `earliest` (the first partition with input), looking back at most `bound` partitions (counting the last one).
 * `undefined` when nothing is missing. Pure: the kernel's test of the fill rule.
 */
export const gap = (options: {
  readonly unit: Need.Unit
  readonly window: Window
  readonly needs: ReadonlyArray<ReaderNeed>
  readonly present: ReadonlySet<string>
  readonly bound: number
  readonly earliest?: string | undefined
}): Gap | undefined => {
  const { bound, earliest, needs, present, unit, window } = options
  const readers = needs.filter((n) => shift(unit, window.last, 1 - n.count) < window.first)
  const deepest = readers.reduce((m, n) => Math.max(m, n.count), 0)
  if (deepest === 0) return undefined
  const reach = Math.min(deepest, bound)
  const beyondBound = deepest - reach
  const from = shift(unit, window.last, 1 - reach)
  const missing =
    reach > 0 && from < window.first
      ? range(unit, from, shift(unit, window.first, -1)).filter(
          (p) => !present.has(p) && (earliest === undefined || p >= earliest)
        )
      : []
  if (missing.length === 0) return undefined
  return { missing, window: { first: missing[0]!, last: window.last }, readers, beyondBound }
}

/** `filled 6 missing weeks of weekly_kpi for cluster-segments (needs 12 weeks), …: 2026-09-14 … 2026-10-19` */
export const describeGap = (table: string, unit: Need.Unit, g: Gap): string => {
  const forWhom = g.readers.map((r) => `${r.pipeline} (needs ${Need.formatCount(unit, r.count)})`).join(", ")
  const which = `${g.missing[0]}${g.missing.length > 1 ? ` … ${g.missing[g.missing.length - 1]}` : ""}`
  const bounded = g.beyondBound > 0 ? `; ${Need.formatCount(unit, g.beyondBound)} more are beyond the fill bound` : ""
  const count = `${g.missing.length} missing ${unit}${g.missing.length === 1 ? "" : "s"}`
  return `filled ${count} of ${table} for ${forWhom}: ${which}${bounded}`
}
