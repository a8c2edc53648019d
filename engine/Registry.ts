import { Effect, Either } from "effect"
import { PipelineDefinitionError, UnknownPipeline } from "./Errors.ts"
import * as Pipeline from "./Pipeline.ts"
import * as Resource from "./Resource.ts"

/** `to` reads what `from` writes: `from` must be fresh before `to` runs. */
export interface Edge {
  readonly from: string
  readonly to: string
  readonly resources: ReadonlyArray<string>
}

/** A validated set of pipelines and the graph between them, derived from declared reads and writes. */
export interface Registry<P extends Pipeline.Any = Pipeline.Any> {
  readonly pipelines: ReadonlyArray<P>
  readonly edges: ReadonlyArray<Edge>
  /** Pipeline names, every pipeline after the pipelines it reads from. */
  readonly order: ReadonlyArray<string>
  readonly get: (name: string) => Effect.Effect<P, UnknownPipeline>
  /** The pipelines that `name` reads from, directly or through others (nearest last). */
  readonly upstreamOf: (name: string) => ReadonlyArray<string>
}

/**
 * Validates every pipeline and the set: unique names, one writer per resource (two pipelines writing the same table
 * or column is an error naming both), no cycle between pipelines.
 */
export const make = <P extends Pipeline.Any>(
  pipelines: ReadonlyArray<P>
): Either.Either<Registry<P>, PipelineDefinitionError> => {
  const names = new Set<string>()
  for (const p of pipelines) {
    if (names.has(p.name)) {
      return Either.left(
        new PipelineDefinitionError({
          reason: "DuplicatePipeline",
          pipeline: p.name,
          detail: "two pipelines have this name."
        })
      )
    }
    names.add(p.name)
    const valid = Pipeline.validate(p)
    if (Either.isLeft(valid)) return Either.left(valid.left)
  }
  const writes = new Map(pipelines.map((p) => [p.name, Pipeline.writes(p)] as const))
  const reads = new Map(pipelines.map((p) => [p.name, Pipeline.reads(p)] as const))
  for (let i = 0; i < pipelines.length; i++) {
    for (let j = i + 1; j < pipelines.length; j++) {
      const a = pipelines[i]!
      const b = pipelines[j]!
      for (const wa of writes.get(a.name)!) {
        const clash = writes.get(b.name)!.find((wb) => Resource.overlaps(wa, wb))
        if (clash !== undefined) {
          return Either.left(
            new PipelineDefinitionError({
              reason: "WriterConflict",
              pipeline: a.name,
              detail: `both "${a.name}" (${Resource.format(wa)}) and "${b.name}" (${Resource.format(clash)}) write it; each resource has one writer.`
            })
          )
        }
      }
    }
  }
  const edges: Array<Edge> = []
  for (const producer of pipelines) {
    for (const consumer of pipelines) {
      if (producer === consumer) continue
      const shared = new Set<string>()
      for (const r of reads.get(consumer.name)!) {
        for (const w of writes.get(producer.name)!) {
          if (Resource.overlaps(r, w)) shared.add(Resource.format(w.column === undefined ? r : w))
        }
      }
      if (shared.size > 0) edges.push({ from: producer.name, to: consumer.name, resources: [...shared].sort() })
    }
  }
  const order = topological(
    pipelines.map((p) => p.name),
    edges
  )
  if (order.length < pipelines.length) {
    const stuck = pipelines.map((p) => p.name).filter((n) => !order.includes(n))
    return Either.left(
      new PipelineDefinitionError({
        reason: "Cycle",
        pipeline: stuck[0]!,
        detail: `pipelines read each other's outputs in a cycle: ${stuck.join(", ")}.`
      })
    )
  }
  const byName = new Map(pipelines.map((p) => [p.name, p] as const))
  const known = pipelines.map((p) => p.name)
  return Either.right({
    pipelines,
    edges,
    order,
    get: (name) => {
      const p = byName.get(name)
      return p === undefined ? Effect.fail(new UnknownPipeline({ name, known })) : Effect.succeed(p)
    },
    upstreamOf: (name) => {
      const seen = new Set<string>()
      const visit = (n: string) => {
        for (const e of edges) {
          if (e.to === n && !seen.has(e.from)) {
            seen.add(e.from)
            visit(e.from)
          }
        }
      }
      visit(name)
      return order.filter((n) => seen.has(n))
    }
  })
}

const topological = (names: ReadonlyArray<string>, edges: ReadonlyArray<Edge>): ReadonlyArray<string> => {
  const indegree = new Map<string, number>(names.map((n) => [n, 0]))
  for (const e of edges) indegree.set(e.to, indegree.get(e.to)! + 1)
  const ready = names.filter((n) => indegree.get(n) === 0)
  const order: Array<string> = []
  while (ready.length > 0) {
    const n = ready.shift()!
    order.push(n)
    for (const e of edges) {
      if (e.from !== n) continue
      const left = indegree.get(e.to)! - 1
      indegree.set(e.to, left)
      if (left === 0) ready.push(e.to)
    }
  }
  return order
}
