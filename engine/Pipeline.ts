import type { SqlClient } from "@effect/sql"
import type { Duration, Schema } from "effect"
import { Effect, Either } from "effect"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import type { Check } from "./Check.ts"
import { PipelineDefinitionError } from "./Errors.ts"
import type * as Need from "./Need.ts"
import type * as Param from "./Param.ts"
import type { Partitions } from "./Partitions.ts"
import * as Relation from "./Relation.ts"
import * as Resource from "./Resource.ts"
import type { RelationWriter, SinkWriter } from "./Sink.ts"
import type { RetryPolicy, Stage, StageContext } from "./Stage.ts"

/** The name of a new stage: a compile error when the pipeline already has a stage of that name. */
type FreshName<N extends string, Outs> = N & (N extends keyof Outs ? { readonly "duplicate stage name": N } : unknown)

/** The outputs of the named upstream stages, as a stage body receives them. */
type InputsOf<Outs, I extends keyof Outs> = { readonly [K in I]: Outs[K] }

interface Common {
  readonly description: string
  readonly timeout?: Duration.DurationInput
  readonly retry?: RetryPolicy
}

/** A SQL read: declares the tables and columns it reads; its rows are decoded with `output`. */
export interface SourceSpec<P, A, E, R> extends Common {
  readonly reads: ReadonlyArray<Resource.Resource>
  /** What this read needs of the history of what other pipelines write: their runs fill what is missing. */
  readonly needs?: ReadonlyArray<Need.Need<P>>
  readonly output: Schema.Schema<A, any, never>
  readonly run: (context: StageContext<P>) => Effect.Effect<A, E, R>
}

/**
 * A SQL read whose rows stay in the database: `run` returns the relation (its SQL, parameters and row schema), which
 * the runner checks with `EXPLAIN` (so a broken query fails here, before any transaction) and hands to a relation
 * sink to execute as `INSERT … SELECT`.
 */
export interface RelationSpec<P, Row, E, R> extends Common {
  readonly reads: ReadonlyArray<Resource.Resource>
  /** What this read needs of the history of what other pipelines write: their runs fill what is missing. */
  readonly needs?: ReadonlyArray<Need.Need<P>>
  readonly run: (context: StageContext<P>) => Effect.Effect<Relation.Relation<Row>, E, R>
}

/** A pure function of upstream outputs (Hamilton-style: the input names are its parameters). */
export interface TransformSpec<P, Outs, I extends keyof Outs, A> {
  readonly description: string
  readonly inputs: ReadonlyArray<I>
  readonly output?: Schema.Schema<A, any, never>
  readonly run: (inputs: InputsOf<Outs, I>, context: StageContext<P>) => A
}

/** A call to a model service (or any effectful computation that writes nothing). */
export interface ModelSpec<P, Outs, I extends keyof Outs, A, E, R> extends Common {
  readonly inputs: ReadonlyArray<I>
  readonly output: Schema.Schema<A, any, never>
  readonly reads?: ReadonlyArray<Resource.Resource>
  /** What this read needs of the history of what other pipelines write: their runs fill what is missing. */
  readonly needs?: ReadonlyArray<Need.Need<P>>
  readonly run: (inputs: InputsOf<Outs, I>, context: StageContext<P>) => Effect.Effect<A, E, R>
}

/** A write: turns upstream outputs into rows that its writer stores when the run commits. */
export interface SinkSpec<P, Outs, I extends keyof Outs, Row, R> {
  readonly description: string
  readonly inputs: ReadonlyArray<I>
  readonly writer: SinkWriter<Row, R>
  readonly rows: (inputs: InputsOf<Outs, I>, context: StageContext<P>) => ReadonlyArray<Row>
  /** Data checks on the rows, evaluated in the run's transaction before it commits (see `Check.ts`). */
  readonly checks?: ReadonlyArray<Check<Row>>
}

/** A write of a relation: its writer executes it in the database at commit, so the rows never reach Node. */
export interface RelationSinkSpec<P, Outs, I extends keyof Outs, Row, R> {
  readonly description: string
  readonly inputs: ReadonlyArray<I>
  readonly writer: RelationWriter<Row, R>
  readonly relation: (inputs: InputsOf<Outs, I>, context: StageContext<P>) => Relation.Relation<Row>
  /** Data checks on the rows, evaluated in the run's transaction before it commits (see `Check.ts`). */
  readonly checks?: ReadonlyArray<Check<Row>>
}

/** The identity of a pipeline: name, description and parameters. */
export interface Definition<F extends Param.Fields> {
  readonly name: string
  readonly description: string
  readonly params: F
  /**
   * For a writer of date-partitioned history (`weekly_kpi` by week, …): how its output is partitioned and its window
   * moved, so that a run also computes the partitions its readers need that are missing (see `Fill`).
   */
  readonly partitions?: Partitions<Param.Values<F>> | undefined
}

const TypeId: unique symbol = Symbol.for("@seedtest/engine/Pipeline")

/**
 * A pipeline: a value describing a DAG of typed stages. `Outs` maps each stage name to its output type, `E` and `R`
 * collect the stages' errors and requirements. Each builder method returns a new pipeline.
 */
export interface Pipeline<F extends Param.Fields, Outs, E, R> extends Pipeable {
  readonly [TypeId]: { readonly _Outs: (_: never) => Outs; readonly _E: (_: never) => E; readonly _R: (_: never) => R }
  readonly name: string
  readonly description: string
  readonly params: F
  readonly stages: ReadonlyArray<Stage>
  readonly partitions: Partitions<any> | undefined
  /** Adds a SQL read. */
  source<const N extends string, A, E1 = never, R1 = never>(
    name: FreshName<N, Outs>,
    spec: SourceSpec<Param.Values<F>, A, E1, R1>
  ): Pipeline<F, Outs & { readonly [K in N]: A }, E | E1, R | R1>
  /** Adds a SQL read whose rows stay in the database (for a relation sink). */
  relation<const N extends string, Row, E1 = never, R1 = never>(
    name: FreshName<N, Outs>,
    spec: RelationSpec<Param.Values<F>, Row, E1, R1>
  ): Pipeline<F, Outs & { readonly [K in N]: Relation.Relation<Row> }, E | E1, R | R1 | SqlClient.SqlClient>
  /** Adds a pure transform of upstream outputs. */
  transform<const N extends string, const I extends keyof Outs & string, A>(
    name: FreshName<N, Outs>,
    spec: TransformSpec<Param.Values<F>, Outs, I, A>
  ): Pipeline<F, Outs & { readonly [K in N]: A }, E, R>
  /** Adds a model call. */
  model<const N extends string, const I extends keyof Outs & string, A, E1 = never, R1 = never>(
    name: FreshName<N, Outs>,
    spec: ModelSpec<Param.Values<F>, Outs, I, A, E1, R1>
  ): Pipeline<F, Outs & { readonly [K in N]: A }, E | E1, R | R1>
  /** Adds a write, committed with every other sink of the run in one transaction. */
  sink<const N extends string, const I extends keyof Outs & string, Row, R1 = never>(
    name: FreshName<N, Outs>,
    spec: SinkSpec<Param.Values<F>, Outs, I, Row, R1>
  ): Pipeline<F, Outs & { readonly [K in N]: ReadonlyArray<Row> }, E, R | R1>
  /** Adds a write of a relation (`INSERT … SELECT` in the database), committed with every other sink of the run. */
  sink<const N extends string, const I extends keyof Outs & string, Row, R1 = never>(
    name: FreshName<N, Outs>,
    spec: RelationSinkSpec<Param.Values<F>, Outs, I, Row, R1>
  ): Pipeline<F, Outs & { readonly [K in N]: Relation.Relation<Row> }, E, R | R1>
}

/** A pipeline of any shape, as registries and runners hold them. */
export type Any = Pipeline<any, any, any, any>

/** The requirements of a pipeline's stages. */
export type Requirements<P> = P extends Pipeline<any, any, any, infer R> ? R : never

/** The parameter values of a pipeline. */
export type ParamsOf<P> = P extends Pipeline<infer F, any, any, any> ? Param.Values<F> : never

const proto = {
  pipe() {
    // biome-ignore lint/complexity/noArguments: pipeArguments takes the IArguments object, as Effect's own data types do
    return pipeArguments(this, arguments)
  },
  source(this: Any, name: string, spec: SourceSpec<any, any, any, any>) {
    return append(this, {
      name,
      kind: "source",
      description: spec.description,
      inputs: [],
      output: spec.output,
      reads: spec.reads,
      writes: [],
      needs: spec.needs ?? [],
      timeout: spec.timeout,
      retry: spec.retry,
      run: (_, context) => spec.run(context),
      writer: undefined
    })
  },
  // a source whose output is the relation (no row schema to decode it with), planned as it is made
  relation(this: Any, name: string, spec: RelationSpec<any, any, any, any>) {
    return proto.source.call(this, name, {
      ...spec,
      output: undefined as unknown as Schema.Schema<unknown>,
      run: (context) =>
        Effect.tap(spec.run(context), (relation) =>
          Effect.map(Relation.plannedRows(relation), (rows) => context.record("plannedRows", rows))
        )
    })
  },
  transform(this: Any, name: string, spec: TransformSpec<any, any, any, any>) {
    return append(this, {
      name,
      kind: "transform",
      description: spec.description,
      inputs: spec.inputs,
      output: spec.output,
      reads: [],
      writes: [],
      timeout: undefined,
      retry: undefined,
      run: (inputs, context) => Effect.sync(() => spec.run(inputs, context)),
      writer: undefined
    })
  },
  model(this: Any, name: string, spec: ModelSpec<any, any, any, any, any, any>) {
    return append(this, {
      name,
      kind: "model",
      description: spec.description,
      inputs: spec.inputs,
      output: spec.output,
      reads: spec.reads ?? [],
      writes: [],
      needs: spec.needs ?? [],
      timeout: spec.timeout,
      retry: spec.retry,
      run: spec.run,
      writer: undefined
    })
  },
  sink(this: Any, name: string, spec: SinkSpec<any, any, any, any, any> | RelationSinkSpec<any, any, any, any, any>) {
    return append(this, {
      name,
      kind: "sink",
      description: spec.description,
      inputs: spec.inputs,
      output: undefined,
      reads: [],
      writes: spec.writer.writes,
      timeout: undefined,
      retry: undefined,
      run: (inputs, context) =>
        Effect.sync(() => ("relation" in spec ? spec.relation(inputs, context) : spec.rows(inputs, context))),
      writer: spec.writer,
      checks: spec.checks ?? []
    })
  }
}

const build = (definition: Definition<any>, stages: ReadonlyArray<Stage>): Any => {
  const self = Object.create(proto)
  self.name = definition.name
  self.description = definition.description
  self.params = definition.params
  self.stages = stages
  self.partitions = definition.partitions
  return self
}

const append = (self: Any, stage: Stage): Any => build(self, [...self.stages, stage])

/** Starts a pipeline with no stages; add them with `.source`, `.transform`, `.model` and `.sink`. */
export const make = <F extends Param.Fields>(
  definition: Definition<F>
): Pipeline<F, Record<never, never>, never, never> =>
  build(definition, []) as Pipeline<F, Record<never, never>, never, never>

/**
 * Checks what the type system cannot (or what an untyped caller bypassed): unique stage names, known inputs, no
 * cycle, every sink with a writer, no stage consuming a sink.
 */
export const validate = <P extends Any>(pipeline: P): Either.Either<P, PipelineDefinitionError> => {
  const fail = (reason: PipelineDefinitionError["reason"], detail: string) =>
    Either.left(new PipelineDefinitionError({ reason, pipeline: pipeline.name, detail }))
  const byName = new Map<string, Stage>()
  for (const stage of pipeline.stages) {
    if (byName.has(stage.name)) return fail("DuplicateStage", `two stages are named "${stage.name}".`)
    byName.set(stage.name, stage)
  }
  for (const stage of pipeline.stages) {
    for (const input of stage.inputs) {
      const upstream = byName.get(input)
      if (upstream === undefined) {
        return fail("UnknownInput", `stage "${stage.name}" consumes "${input}", which is not a stage of this pipeline.`)
      }
      if (upstream.kind === "sink") {
        return fail("InvalidSink", `stage "${stage.name}" consumes sink "${input}"; sinks run last and have no output.`)
      }
    }
    if (stage.kind === "sink" && stage.writer === undefined) {
      return fail("InvalidSink", `sink "${stage.name}" has no writer.`)
    }
    for (const check of stage.checks ?? []) {
      const missing = check.inputs.find((input) => !stage.inputs.includes(input))
      if (missing !== undefined) {
        const detail = `compares with "${missing}", which the sink does not consume.`
        return fail("InvalidSink", `check "${check.name}" of sink "${stage.name}" ${detail}`)
      }
    }
    const unread = (stage.needs ?? []).find((n) => !stage.reads.some((r) => Resource.overlaps(r, n.resource)))
    if (unread !== undefined) {
      const what = Resource.format(unread.resource)
      return fail("InvalidNeed", `stage "${stage.name}" declares a need of ${what}, which it does not read.`)
    }
  }
  const partitioned = pipeline.partitions?.table
  if (partitioned !== undefined && !writes(pipeline).some((w) => w.table === partitioned)) {
    return fail("InvalidNeed", `its partitions are of ${partitioned}, which none of its sinks writes.`)
  }
  const cycle = findCycle(pipeline.stages)
  return cycle === undefined ? Either.right(pipeline) : fail("Cycle", `stages form a cycle: ${cycle.join(" → ")}.`)
}

/** Builds a pipeline from stage values made elsewhere (generated graphs, tests), validating it. */
export const fromStages = <F extends Param.Fields>(
  definition: Definition<F>,
  stages: ReadonlyArray<Stage>
): Either.Either<Pipeline<F, Record<string, unknown>, unknown, unknown>, PipelineDefinitionError> =>
  validate(build(definition, stages))

const findCycle = (stages: ReadonlyArray<Stage>): ReadonlyArray<string> | undefined => {
  const byName = new Map(stages.map((s) => [s.name, s] as const))
  const state = new Map<string, "visiting" | "done">()
  const path: Array<string> = []
  // iterative DFS so a 10,000-stage chain does not overflow the stack
  for (const root of stages) {
    if (state.has(root.name)) continue
    const stack: Array<{ name: string; next: number }> = [{ name: root.name, next: 0 }]
    state.set(root.name, "visiting")
    path.push(root.name)
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const inputs = byName.get(top.name)?.inputs ?? []
      if (top.next < inputs.length) {
        const child = inputs[top.next++]!
        const seen = state.get(child)
        if (seen === "visiting") return [...path.slice(path.indexOf(child)), child].reverse()
        if (seen === undefined && byName.has(child)) {
          state.set(child, "visiting")
          path.push(child)
          stack.push({ name: child, next: 0 })
        }
      } else {
        state.set(top.name, "done")
        path.pop()
        stack.pop()
      }
    }
  }
  return undefined
}

/**
 * The stages in execution levels: every stage of a level depends only on earlier levels, so a level's stages can run
 * at once. Sinks form the last level (they commit together). Assumes a validated pipeline.
 */
export const levels = (pipeline: Any): ReadonlyArray<ReadonlyArray<Stage>> => {
  const depth = new Map<string, number>()
  const byName = new Map(pipeline.stages.map((s) => [s.name, s] as const))
  const depthOf = (name: string): number => {
    const known = depth.get(name)
    if (known !== undefined) return known
    // inputs are resolved in definition order first, which keeps recursion shallow for builder pipelines
    const stage = byName.get(name)!
    let d = 0
    for (const input of stage.inputs) d = Math.max(d, depthOf(input) + 1)
    depth.set(name, d)
    return d
  }
  for (const stage of topological(pipeline.stages)) depthOf(stage.name)
  const nonSinks = pipeline.stages.filter((s) => s.kind !== "sink")
  const maxDepth = nonSinks.reduce((m, s) => Math.max(m, depth.get(s.name)!), -1)
  const result: Array<Array<Stage>> = Array.from({ length: maxDepth + 1 }, () => [])
  for (const stage of nonSinks) result[depth.get(stage.name)!]!.push(stage)
  const sinks = pipeline.stages.filter((s) => s.kind === "sink")
  return sinks.length > 0 ? [...result, sinks] : result
}

/** Stages ordered so that every stage comes after its inputs (Kahn's algorithm; assumes no cycle). */
export const topological = (stages: ReadonlyArray<Stage>): ReadonlyArray<Stage> => {
  const remaining = new Map(stages.map((s) => [s.name, s.inputs.length] as const))
  const consumers = new Map<string, Array<Stage>>()
  for (const stage of stages) {
    for (const input of stage.inputs) {
      const list = consumers.get(input)
      if (list === undefined) consumers.set(input, [stage])
      else list.push(stage)
    }
  }
  const ready = stages.filter((s) => s.inputs.length === 0)
  const order: Array<Stage> = []
  for (let i = 0; i < ready.length; i++) {
    const stage = ready[i]!
    order.push(stage)
    for (const consumer of consumers.get(stage.name) ?? []) {
      const left = remaining.get(consumer.name)! - 1
      remaining.set(consumer.name, left)
      if (left === 0) ready.push(consumer)
    }
  }
  return order
}

/** Everything the pipeline's stages read. */
export const reads = (pipeline: Any): ReadonlyArray<Resource.Resource> =>
  unique(pipeline.stages.flatMap((s) => s.reads))

/** Everything the pipeline's sinks write. */
export const writes = (pipeline: Any): ReadonlyArray<Resource.Resource> =>
  unique(pipeline.stages.flatMap((s) => s.writes))

const unique = (resources: ReadonlyArray<Resource.Resource>) => {
  const seen = new Map<string, Resource.Resource>()
  for (const r of resources) seen.set(Resource.format(r), r)
  return [...seen.values()]
}

/** Whether a value is a pipeline. */
export const isPipeline = (u: unknown): u is Any =>
  typeof u === "object" && u !== null && Object.getPrototypeOf(u) === proto

/** A stage value for `fromStages`: a transform of named inputs. Mostly for generated graphs and tests. */
export const transformStage = (
  name: string,
  inputs: ReadonlyArray<string>,
  run: (inputs: Record<string, unknown>) => unknown
): Stage => ({
  name,
  kind: "transform",
  description: "",
  inputs,
  output: undefined,
  reads: [],
  writes: [],
  timeout: undefined,
  retry: undefined,
  run: (values) => Effect.sync(() => run(values)),
  writer: undefined
})
