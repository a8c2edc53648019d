import { Data, Effect, type Scope } from "effect"
import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"
import type { Churn, Forecast, Growth } from "./StudentReport.ts"

/** A chart could not be compiled or rendered to SVG. */
export class ChartError extends Data.TaggedError("ChartError")<{
  readonly reason: "Compile" | "Render"
  readonly chart: ChartName
  readonly cause: unknown
}> {
  override get message(): string {
    return `The ${this.chart} chart could not be ${this.reason === "Compile" ? "compiled" : "rendered"}: ${String((this.cause as Error | undefined)?.message ?? this.cause)}`
  }
}

/** The charts of a report page. */
export type ChartName = "growth" | "forecast" | "churn"

const colors = { accent: "#3867d6", band: "#8fa8e8", target: "#6b6b6b", anomaly: "#d63031", low: "#2e9e5b", medium: "#e0a100", high: "#d63031" }
const week = { field: "week", type: "temporal", scale: { type: "utc" }, axis: { format: "%m/%d", title: null, labelAngle: 0 } } as const
const base = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  background: "white",
  config: { font: "system-ui, sans-serif", view: { stroke: null }, axis: { labelFontSize: 11, gridColor: "#eee" } }
} as const
const kind = (k: string) => ({ filter: `datum.kind === '${k}'` })

// specs are data-free (one named source "rows") and language-free (titles and legends live in the page), so each is
// compiled and parsed once per run and only the rows change per student
const specs: Record<ChartName, TopLevelSpec> = {
  growth: {
    ...base,
    width: 520,
    height: 200,
    data: { name: "rows" },
    encoding: { x: week },
    layer: [
      { transform: [kind("trend")], mark: { type: "area", color: colors.band, opacity: 0.35 }, encoding: { y: { field: "lower", type: "quantitative", scale: { domain: [0, 1] }, axis: { format: "%", title: null } }, y2: { field: "upper" } } },
      { transform: [kind("trend")], mark: { type: "line", color: colors.accent, strokeDash: [5, 3] }, encoding: { y: { field: "value", type: "quantitative" } } },
      { transform: [kind("accuracy")], mark: { type: "line", color: colors.accent, point: { filled: true, size: 45 } }, encoding: { y: { field: "value", type: "quantitative" } } },
      { transform: [kind("target")], mark: { type: "rule", color: colors.target, strokeDash: [2, 2] }, encoding: { y: { field: "value", type: "quantitative" }, x: null } }
    ]
  } as TopLevelSpec,
  forecast: {
    ...base,
    width: 520,
    height: 200,
    data: { name: "rows" },
    encoding: { x: week },
    layer: [
      { transform: [kind("forecast")], mark: { type: "area", color: colors.band, opacity: 0.35 }, encoding: { y: { field: "lower", type: "quantitative", scale: { zero: false }, axis: { title: null } }, y2: { field: "upper" } } },
      { transform: [kind("forecast")], mark: { type: "line", color: colors.accent, strokeDash: [5, 3] }, encoding: { y: { field: "value", type: "quantitative" } } },
      { transform: [kind("history")], mark: { type: "line", color: "#222", point: { filled: true, size: 30, color: "#222" } }, encoding: { y: { field: "value", type: "quantitative" } } },
      { transform: [kind("anomaly")], mark: { type: "point", shape: "circle", filled: true, size: 110, color: colors.anomaly, stroke: "white", strokeWidth: 1 }, encoding: { y: { field: "value", type: "quantitative" } } }
    ]
  } as TopLevelSpec,
  churn: {
    ...base,
    width: 520,
    height: 56,
    data: { name: "rows" },
    encoding: {
      x: { field: "from", type: "quantitative", scale: { domain: [0, 1], nice: false }, axis: { format: "%", title: null, values: [0, 0.3, 0.7, 1] } },
      x2: { field: "to" },
      color: { field: "level", type: "nominal", scale: { domain: ["low", "medium", "high"], range: [colors.low, colors.medium, colors.high] }, legend: null }
    },
    layer: [
      { transform: [kind("band")], mark: { type: "bar", opacity: 0.25, height: 40 } },
      { transform: [kind("value")], mark: { type: "bar", height: 18 } },
      { transform: [kind("value")], mark: { type: "tick", color: "#111", thickness: 3, size: 44 }, encoding: { x: { field: "to", type: "quantitative" }, x2: null, color: null } }
    ]
  } as TopLevelSpec
}

/** The rows of a student's growth chart. */
export const growthRows = (g: Growth) => [
  ...g.accuracy.map((p) => ({ kind: "accuracy", week: p.week, value: p.value })),
  ...g.trend.map((p) => ({ kind: "trend", week: p.week, value: p.mean, lower: p.lower, upper: p.upper })),
  { kind: "target", week: g.horizonWeek, value: g.target01 }
]

/** The rows of a student's forecast chart: the forecast band starts at the last observed week so the lines join. */
export const forecastRows = (f: Forecast) => {
  const last = f.history[f.history.length - 1]
  return [
    ...f.history.map((p) => ({ kind: "history", week: p.week, value: p.value })),
    ...(last === undefined ? [] : [{ kind: "forecast", week: last.week, value: last.value, lower: last.value, upper: last.value }]),
    ...f.forecast.map((p) => ({ kind: "forecast", week: p.week, value: p.mean, lower: p.lower, upper: p.upper })),
    ...f.anomalies.map((a) => ({ kind: "anomaly", week: a.week, value: a.value }))
  ]
}

/** The rows of a churn gauge: the three level bands and the student's risk. */
export const churnRows = (c: Churn) => [
  { kind: "band", from: 0, to: 0.3, level: "low" },
  { kind: "band", from: 0.3, to: 0.7, level: "medium" },
  { kind: "band", from: 0.7, to: 1, level: "high" },
  { kind: "value", from: 0, to: c.risk01, level: c.level }
]

/** Renders the report's charts to SVG; made once per run (compile + parse), then only the data changes. */
export interface ReportCharts {
  readonly render: (chart: ChartName, rows: ReadonlyArray<object>) => Effect.Effect<string, ChartError>
}

/**
 * Compiles every Vega-Lite spec, parses it into a Vega runtime and instantiates one headless view, once. Each render
 * replaces the view's rows and re-runs only its dataflow (≈5× cheaper than a new View per chart, same SVG); a
 * semaphore per view keeps concurrent renders from interleaving their data.
 */
export const make: Effect.Effect<ReportCharts, ChartError, Scope.Scope> = Effect.gen(function*() {
  const views = {} as Record<ChartName, { readonly view: vega.View; readonly lock: Effect.Semaphore }>
  for (const chart of Object.keys(specs) as Array<ChartName>) {
    const view = yield* Effect.acquireRelease(
      Effect.try({
        try: () => new vega.View(vega.parse(compile(specs[chart]).spec), { renderer: "none" }),
        catch: (cause) => new ChartError({ reason: "Compile", chart, cause })
      }),
      (v) => Effect.sync(() => v.finalize())
    )
    views[chart] = { view, lock: yield* Effect.makeSemaphore(1) }
  }
  return {
    render: (chart: ChartName, rows: ReadonlyArray<object>) =>
      views[chart].lock.withPermits(1)(
        Effect.tryPromise({
          try: () => views[chart].view.data("rows", rows as Array<object>).toSVG(),
          catch: (cause) => new ChartError({ reason: "Render", chart, cause })
        })
      )
  }
}).pipe(Effect.withSpan("ReportCharts.make"))
