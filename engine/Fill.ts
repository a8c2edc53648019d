import { SqlClient } from "@effect/sql"
import { Config, Context, Effect } from "effect"
import { ParamError } from "./Errors.ts"
import * as Need from "./Need.ts"
import * as Param from "./Param.ts"
import * as Partitions from "./Partitions.ts"
import type * as Pipeline from "./Pipeline.ts"
import { generated } from "./Relation.ts"
import * as Resource from "./Resource.ts"

/**
 * The pipelines whose declared needs a writer's run fills: the registry's pipelines at the edge (the CLI provides
 * them). The default is none, so a library user who provides nothing gets runs of exactly their own window.
 */
export class Readers extends Context.Reference<Readers>()("@seedtest/engine/Fill/Readers", {
  defaultValue: (): { readonly pipelines: ReadonlyArray<Pipeline.Any> } => ({ pipelines: [] })
}) {}

/** The environment variable bounding how far back a run fills missing partitions (in weeks; 0 = never fill). */
export const MAX_WEEKS_ENV = "SEEDTEST_FILL_MAX_WEEKS"
/** At most half a year of history is computed on top of a run's own window. */
export const DEFAULT_MAX_WEEKS = 26

/** What a run filled, as its run record and progress show it. */
export interface Filled extends Partitions.Gap {
  readonly table: string
  readonly unit: Need.Unit
  /** The bound in the partition's unit (`SEEDTEST_FILL_MAX_WEEKS` weeks, in days for daily partitions). */
  readonly bound: number
  readonly message: string
}

const maxWeeks = (pipeline: string) =>
  Config.integer(MAX_WEEKS_ENV).pipe(
    Config.withDefault(DEFAULT_MAX_WEEKS),
    Effect.flatMap((n) => (n >= 0 ? Effect.succeed(n) : Effect.fail(`expected whole weeks ≥ 0, got ${n}`))),
    Effect.mapError(
      (e) =>
        new ParamError({
          reason: "InvalidValue",
          pipeline,
          param: MAX_WEEKS_ENV,
          detail: typeof e === "string" ? e : `environment variable ${MAX_WEEKS_ENV}: expected a whole number of weeks`
        })
    )
  )

/**
 * Every other pipeline's needs of `table` in `unit`s, each reader's largest, evaluated with its own parameters
 * (environment or defaults; a reader whose settings do not decode is evaluated with its defaults: its own run reports
 * the bad setting).
 */
export const readerNeeds = (
  writer: Pipeline.Any,
  table: string,
  unit: Need.Unit,
  readers: ReadonlyArray<Pipeline.Any>
): Effect.Effect<ReadonlyArray<Partitions.ReaderNeed>> =>
  Effect.forEach(
    readers.filter((r) => r.name !== writer.name),
    (reader) =>
      Effect.gen(function* () {
        const needs = reader.stages
          .flatMap((s) => s.needs ?? [])
          .filter((n) => n.unit === unit && Resource.overlaps({ table, column: undefined }, n.resource))
        if (needs.length === 0) return []
        const params = yield* Param.resolve(reader.name, reader.params, {}).pipe(
          Effect.orElseSucceed(() => Need.defaultParams(reader.params))
        )
        const count = needs.reduce((m, n) => Math.max(m, n.count(params)), 0)
        return count > 0 ? [{ pipeline: reader.name, count }] : []
      })
  ).pipe(Effect.map((lists) => lists.flat()))

const identifier = /^[a-z_][a-z0-9_]*$/

/** The partitions of `table` stored between `first` and `last` (both included) that meet `present`. */
export const storedPartitions = Effect.fn("Fill.storedPartitions")(function* (
  partitions: Pick<Partitions.Partitions<unknown>, "table" | "column" | "present">,
  first: string,
  last: string
) {
  if (!identifier.test(partitions.table) || !identifier.test(partitions.column)) {
    const named = `${partitions.table}.${partitions.column}`
    return yield* Effect.dieMessage(`partitions of "${named}": not plain SQL identifiers`)
  }
  const sql = yield* SqlClient.SqlClient
  const column = generated(partitions.column)
  const present = generated(partitions.present === undefined ? "true" : `(${partitions.present})`)
  const rows = yield* sql<{ partition: string }>`
    SELECT DISTINCT to_char(${column}, 'YYYY-MM-DD') AS partition FROM ${generated(partitions.table)}
    WHERE ${column} BETWEEN ${first}::date AND ${last}::date AND ${present}`
  return new Set(rows.map((r) => r.partition))
})

/** The partition of the earliest row of `since` (`undefined` when it has none). */
export const earliestPartition = Effect.fn("Fill.earliestPartition")(function* (
  since: { readonly table: string; readonly column: string },
  unit: Need.Unit
) {
  if (!identifier.test(since.table) || !identifier.test(since.column)) {
    return yield* Effect.dieMessage(`history of "${since.table}.${since.column}": not plain SQL identifiers`)
  }
  const sql = yield* SqlClient.SqlClient
  const first = `min(${since.column}) AT TIME ZONE 'UTC'`
  const truncated = unit === "week" ? `date_trunc('week', ${first})` : first
  const [row] = yield* sql<{ first: string | null }>`
    SELECT to_char(${generated(truncated)}, 'YYYY-MM-DD') AS first FROM ${generated(since.table)}`
  return row?.first ?? undefined
})

/**
 * A writer's run parameters widened to the partitions its readers need that are missing: for a pipeline declaring
 * `partitions`, the other pipelines' needs of that table, the partitions stored in the reach of the largest (at most
 * `SEEDTEST_FILL_MAX_WEEKS` back), and — when some are missing — the parameters of a run whose window starts at the
 * oldest missing one, with what was filled for whom. Reads only; the run writes the filled partitions with its own.
 */
export const widen = <P>(pipeline: Pipeline.Any, params: P) =>
  Effect.gen(function* () {
    const partitions = pipeline.partitions as Partitions.Partitions<P> | undefined
    if (partitions === undefined) return { params, filled: undefined }
    const { pipelines } = yield* Readers
    const needs = yield* readerNeeds(pipeline, partitions.table, partitions.unit, pipelines)
    const window = partitions.window(params)
    const deepest = needs.reduce((m, n) => Math.max(m, n.count), 0)
    const needed = Partitions.shift(partitions.unit, window.last, 1 - deepest)
    if (needed >= window.first) return { params, filled: undefined }
    const weeks = yield* maxWeeks(pipeline.name)
    const bound = partitions.unit === "week" ? weeks : 7 * weeks
    const earliest =
      partitions.since === undefined ? undefined : yield* earliestPartition(partitions.since, partitions.unit)
    if (partitions.since !== undefined && earliest === undefined) return { params, filled: undefined }
    const reach = Math.min(deepest, bound)
    const from = Partitions.shift(partitions.unit, window.last, 1 - reach)
    const present =
      from < window.first
        ? yield* storedPartitions(partitions, from, Partitions.shift(partitions.unit, window.first, -1))
        : new Set<string>()
    const gap = Partitions.gap({ unit: partitions.unit, window, needs, present, bound, earliest })
    if (gap === undefined) return { params, filled: undefined }
    const filled: Filled = {
      ...gap,
      table: partitions.table,
      unit: partitions.unit,
      bound,
      message: Partitions.describeGap(partitions.table, partitions.unit, gap)
    }
    return { params: partitions.startingAt(params, gap.window.first), filled }
  }).pipe(Effect.withSpan("Fill.widen", { attributes: { pipeline: pipeline.name } }))
