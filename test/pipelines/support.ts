import type { HttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import { RunStore } from "../../engine/RunStore.ts"
import { platformLayer, type RServiceName, type RunningRService, startRService } from "../support/rServices.ts"

/** The R service a pipeline suite started, for tests that need its URL or token (or to kill it). */
export class RunningService extends Context.Tag("test/pipelines/RunningService")<RunningService, RunningRService>() {}

/**
 * A database with the run store, one real R service and the client layer built from it: what a model pipeline
 * suite runs on. `client` turns the running service's connection into the pipeline's client layer.
 */
export const modelSuiteLayer = <I>(
  db: Layer.Layer<any, unknown>,
  service: RServiceName,
  client: (running: RunningRService) => Layer.Layer<I, never, any>
) => {
  const running = Layer.scoped(RunningService, startRService(service))
  const clientLayer = Layer.unwrapEffect(Effect.map(RunningService, client))
  return Layer.mergeAll(Layer.provideMerge(RunStore.Default, db), clientLayer.pipe(Layer.provideMerge(running))).pipe(
    Layer.provideMerge(platformLayer)
  ) as Layer.Layer<I | RunningService | RunStore | SqlClient.SqlClient | HttpClient.HttpClient, unknown>
}

/**
 * Rank AUC (Mann–Whitney): the probability that a random positive scores above a random negative, ties counting
 * half.
 */
export const rankAuc = (positives: ReadonlyArray<number>, negatives: ReadonlyArray<number>): number => {
  let wins = 0
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0
  return wins / (positives.length * negatives.length)
}

/** Row counts of tables, to show a run wrote nothing. */
export const countRows = (tables: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const counts: Record<string, number> = {}
    for (const table of tables) {
      const [row] = yield* sql<{ n: number }>`SELECT count(*)::int4 AS n FROM ${sql(table)}`
      counts[table] = row!.n
    }
    return counts
  })
