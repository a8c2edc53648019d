import { Cron } from "croner"
import { DEFAULT_MAX_WEEKS, MAX_WEEKS_ENV } from "./Fill.ts"
import * as Need from "./Need.ts"
import type * as Param from "./Param.ts"
import * as Pipeline from "./Pipeline.ts"
import type { Registry } from "./Registry.ts"
import * as Resource from "./Resource.ts"

/** One stage as `plan` shows it. */
export interface StagePlan {
  readonly name: string
  readonly kind: string
  readonly description: string
  readonly inputs: ReadonlyArray<string>
  readonly reads: ReadonlyArray<string>
  readonly writes: ReadonlyArray<string>
  /** What its reads need of other pipelines' history, with the defaults (`12 weeks of weekly_kpi`). */
  readonly needs: ReadonlyArray<string>
  /** Sinks: the data checks on their rows, evaluated before the run commits. */
  readonly checks: ReadonlyArray<{ readonly name: string; readonly severity: string; readonly description: string }>
}

/** A pipeline's stage DAG in execution levels (a level's stages run at once; sinks commit together last). */
export interface PipelinePlan {
  readonly name: string
  readonly description: string
  readonly params: ReadonlyArray<{
    readonly name: string
    readonly env: string | null
    readonly default: string
    readonly description: string
  }>
  readonly reads: ReadonlyArray<string>
  readonly writes: ReadonlyArray<string>
  /** A writer of partitioned history: what its runs fill for their readers. */
  readonly fills: string | null
  readonly levels: ReadonlyArray<ReadonlyArray<StagePlan>>
}

/** Computed from the pipeline value alone: no database, no services. */
export const ofPipeline = (pipeline: Pipeline.Any): PipelinePlan => ({
  name: pipeline.name,
  description: pipeline.description,
  params: Object.entries(pipeline.params as Param.Fields).map(([name, p]) => ({
    name,
    env: p.env ?? null,
    default: p.show(p.default),
    description: p.description
  })),
  reads: Pipeline.reads(pipeline).map(Resource.format),
  writes: Pipeline.writes(pipeline).map(Resource.format),
  fills:
    pipeline.partitions === undefined
      ? null
      : `the missing ${pipeline.partitions.unit}s of ${pipeline.partitions.table} its readers need, ` +
        `at most ${MAX_WEEKS_ENV} (default ${DEFAULT_MAX_WEEKS}) weeks back`,
  levels: Pipeline.levels(pipeline).map((level) =>
    level.map((s) => ({
      name: s.name,
      kind: s.kind,
      description: s.description,
      inputs: s.inputs,
      reads: s.reads.map(Resource.format),
      writes: s.writes.map(Resource.format),
      needs: (s.needs ?? []).map((n) => Need.format(n, pipeline.params as Param.Fields)),
      checks: (s.checks ?? []).map((c) => ({ name: c.name, severity: c.severity, description: c.description }))
    }))
  )
})

/** A schedule as `plan` needs it. */
export interface Scheduled {
  readonly pipeline: string
  readonly cron: string
  readonly timezone: string
  readonly enabled: boolean
}

/** The cross-pipeline graph: order, edges with their resources, schedules and next fire times. */
export interface RegistryPlan {
  readonly order: ReadonlyArray<{
    readonly name: string
    readonly after: ReadonlyArray<string>
    readonly cron: string | null
    readonly timezone: string | null
    readonly next: ReadonlyArray<string>
  }>
  readonly edges: ReadonlyArray<{
    readonly from: string
    readonly to: string
    readonly resources: ReadonlyArray<string>
  }>
}

/** The order and edges of a registry, with the next `count` fire times of each schedule after `now`. */
export const ofRegistry = (
  registry: Registry,
  schedule: ReadonlyArray<Scheduled>,
  now: Date,
  count = 1
): RegistryPlan => ({
  order: registry.order.map((name) => {
    const entry = schedule.find((s) => s.pipeline === name && s.enabled)
    return {
      name,
      after: registry.edges.filter((e) => e.to === name).map((e) => e.from),
      cron: entry?.cron ?? null,
      timezone: entry?.timezone ?? null,
      next:
        entry === undefined
          ? []
          : new Cron(entry.cron, { timezone: entry.timezone }).nextRuns(count, now).map((d) => d.toISOString())
    }
  }),
  edges: registry.edges
})

/** `plan <pipeline>` as text. */
export const renderPipeline = (plan: PipelinePlan): string => {
  const lines = [`${plan.name} — ${plan.description}`, ""]
  if (plan.params.length > 0) {
    lines.push("parameters:")
    for (const p of plan.params)
      lines.push(`  ${p.name} = ${p.default}${p.env === null ? "" : `  (env ${p.env})`}  ${p.description}`)
    lines.push("")
  }
  lines.push(`reads:  ${plan.reads.join(", ") || "—"}`, `writes: ${plan.writes.join(", ") || "—"}`)
  if (plan.fills !== null) lines.push(`fills:  ${plan.fills}`)
  lines.push("", "stages (each level runs after the one above; stages of a level run concurrently):")
  plan.levels.forEach((level, i) => {
    lines.push(`  ${i + 1}.`)
    for (const s of level) {
      const from = s.inputs.length === 0 ? "" : ` ← ${s.inputs.join(", ")}`
      const io = [
        s.reads.length > 0 ? `reads ${s.reads.join(", ")}` : "",
        s.writes.length > 0 ? `writes ${s.writes.join(", ")}` : "",
        s.needs.length > 0 ? `needs ${s.needs.join(", ")}` : ""
      ]
        .filter((x) => x.length > 0)
        .join("; ")
      lines.push(`     ${s.kind.padEnd(9)} ${s.name}${from}${io.length > 0 ? `  [${io}]` : ""}`)
      if (s.description.length > 0) lines.push(`               ${s.description}`)
      for (const c of s.checks) lines.push(`               check (${c.severity}): ${c.name}`)
    }
  })
  return lines.join("\n")
}

/** `plan` (all pipelines) as text. */
export const renderRegistry = (plan: RegistryPlan): string => {
  const lines = ["execution order (a pipeline runs after the pipelines it reads from):", ""]
  plan.order.forEach((p, i) => {
    const when = p.cron === null ? "no schedule" : `${p.cron} ${p.timezone}, next ${p.next[0] ?? "—"}`
    lines.push(`  ${String(i + 1).padStart(2)}. ${p.name.padEnd(26)} ${when}`)
  })
  lines.push("", "edges (producer → consumer: resources):", "")
  if (plan.edges.length === 0) lines.push("  none")
  for (const e of plan.edges) lines.push(`  ${e.from} → ${e.to}: ${e.resources.join(", ")}`)
  return lines.join("\n")
}
