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

/** The charts of a report page (student pages) and of the week's overview (cohort, segments, P distribution). */
export type ChartName = "growth" | "forecast" | "churn" | "segments" | "probabilities"

// marks and labels keep 3:1 (graphics) and 4.5:1 (text) against the white background (WCAG AA)
const colors = {
  accent: "#3867d6",
  band: "#8fa8e8",
  target: "#5f6368",
  text: "#1d2330",
  anomaly: "#d63031",
  low: "#1e7b45",
  medium: "#b7791f",
  high: "#d63031"
}
const week = {
  field: "week",
  type: "temporal",
  scale: { type: "utc" },
  axis: { format: "%m/%d", title: null, labelAngle: 0, labelOverlap: true }
} as const
const base = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  background: "white",
  // no generated ARIA text (it is English); the page gives each chart a title and a text alternative in its language
  config: {
    aria: false,
    font: 'system-ui, "Apple SD Gothic Neo", "Malgun Gothic", NanumGothic, "Noto Sans KR", "Noto Sans CJK KR", sans-serif',
    view: { stroke: null },
    axis: {
      labelFontSize: 13,
      labelColor: colors.text,
      gridColor: "#e6e8ec",
      domainColor: "#8a909c",
      tickColor: "#8a909c"
    }
  }
} as const
const WIDTH = 460
const kind = (k: string) => ({ filter: `datum.kind === '${k}'` })

// specs are data-free (one named source "rows") and language-free (titles and legends live in the page), so each is
// compiled and parsed once per run and only the rows change per student
const specs: Record<ChartName, TopLevelSpec> = {
  growth: {
    ...base,
    width: WIDTH,
    height: 200,
    data: { name: "rows" },
    encoding: { x: week },
    layer: [
      {
        transform: [kind("trend")],
        mark: { type: "area", color: colors.band, opacity: 0.35 },
        encoding: {
          y: { field: "lower", type: "quantitative", scale: { domain: [0, 1] }, axis: { format: "%", title: null } },
          y2: { field: "upper" }
        }
      },
      {
        transform: [kind("trend")],
        mark: { type: "line", color: colors.accent, strokeDash: [5, 3] },
        encoding: { y: { field: "value", type: "quantitative" } }
      },
      {
        transform: [kind("accuracy")],
        mark: { type: "line", color: colors.accent, point: { filled: true, size: 45 } },
        encoding: { y: { field: "value", type: "quantitative" } }
      },
      {
        transform: [kind("target")],
        mark: { type: "rule", color: colors.target, strokeDash: [2, 2], strokeWidth: 1.5 },
        encoding: { y: { field: "value", type: "quantitative" }, x: null }
      },
      // the labels come with the rows, so the spec stays language-free
      {
        transform: [kind("targetLabel")],
        mark: { type: "text", align: "left", dx: 2, dy: -8, fontSize: 14, fontWeight: "bold", color: colors.text },
        encoding: { y: { field: "value", type: "quantitative" }, text: { field: "text" } }
      },
      {
        transform: [kind("horizon")],
        mark: { type: "point", shape: "diamond", filled: true, size: 90, color: colors.accent },
        encoding: { y: { field: "value", type: "quantitative" } }
      },
      {
        transform: [kind("horizon")],
        mark: { type: "text", align: "right", dx: -8, dy: -14, fontSize: 14, fontWeight: "bold", color: colors.text },
        encoding: { y: { field: "value", type: "quantitative" }, text: { field: "text" } }
      }
    ]
  } as TopLevelSpec,
  forecast: {
    ...base,
    width: WIDTH,
    height: 200,
    data: { name: "rows" },
    encoding: { x: week },
    layer: [
      {
        transform: [kind("forecast")],
        mark: { type: "area", color: colors.band, opacity: 0.35 },
        encoding: {
          y: { field: "lower", type: "quantitative", scale: { zero: false }, axis: { title: null } },
          y2: { field: "upper" }
        }
      },
      {
        transform: [kind("forecast")],
        mark: { type: "line", color: colors.accent, strokeDash: [5, 3] },
        encoding: { y: { field: "value", type: "quantitative" } }
      },
      {
        transform: [kind("history")],
        mark: { type: "line", color: "#222", point: { filled: true, size: 30, color: "#222" } },
        encoding: { y: { field: "value", type: "quantitative" } }
      },
      {
        transform: [kind("anomaly")],
        mark: {
          type: "point",
          shape: "circle",
          filled: true,
          size: 110,
          color: colors.anomaly,
          stroke: "white",
          strokeWidth: 1
        },
        encoding: { y: { field: "value", type: "quantitative" } }
      }
    ]
  } as TopLevelSpec,
  churn: {
    ...base,
    width: WIDTH,
    height: 56,
    data: { name: "rows" },
    encoding: {
      x: {
        field: "from",
        type: "quantitative",
        scale: { domain: [0, 1], nice: false },
        axis: { format: "%", title: null, values: [0, 0.3, 0.7, 1] }
      },
      x2: { field: "to" },
      color: {
        field: "level",
        type: "nominal",
        scale: { domain: ["low", "medium", "high"], range: [colors.low, colors.medium, colors.high] },
        legend: null
      }
    },
    layer: [
      { transform: [kind("band")], mark: { type: "bar", opacity: 0.25, height: 40 } },
      { transform: [kind("value")], mark: { type: "bar", height: 18 } },
      {
        transform: [kind("value")],
        mark: { type: "tick", color: "#111", thickness: 3, size: 44 },
        encoding: { x: { field: "to", type: "quantitative" }, x2: null, color: null }
      }
    ]
  } as TopLevelSpec,
  segments: {
    ...base,
    width: WIDTH - 160,
    height: { step: 26 },
    data: { name: "rows" },
    encoding: {
      // rows come largest first (a sort here conflicts between the bar and text layers)
      y: { field: "name", type: "nominal", sort: null, axis: { title: null, labelLimit: 150 } },
      x: { field: "count", type: "quantitative", axis: { title: null, tickMinStep: 1, format: "d" } }
    },
    layer: [
      { mark: { type: "bar", color: colors.accent, height: 18 } },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 12, color: colors.text },
        encoding: { text: { field: "count", type: "quantitative" } }
      }
    ]
  } as TopLevelSpec,
  probabilities: {
    ...base,
    width: WIDTH,
    height: 160,
    data: { name: "rows" },
    encoding: {
      x: {
        field: "from",
        type: "quantitative",
        scale: { domain: [0, 1], nice: false },
        axis: { format: "%", title: null, values: [0, 0.2, 0.4, 0.6, 0.8, 1] }
      },
      x2: { field: "to" },
      y: { field: "count", type: "quantitative", axis: { title: null, tickMinStep: 1, format: "d" } },
      y2: { datum: 0 }
    },
    layer: [
      { mark: { type: "bar", color: colors.accent, stroke: "white", strokeWidth: 1 } },
      {
        transform: [{ filter: "datum.count > 0" }],
        mark: { type: "text", dy: -7, fontSize: 12, color: colors.text },
        encoding: {
          x: { field: "mid", type: "quantitative" },
          x2: null,
          y2: null,
          text: { field: "count", type: "quantitative" }
        }
      }
    ]
  } as TopLevelSpec
}

/** The labels a growth chart draws, in the page's language. */
export interface GrowthLabels {
  readonly target: string
  readonly probability: string
}

/** The rows of a student's growth chart: accuracy, trend band, the target line and, at the horizon, P. */
export const growthRows = (g: Growth, labels: GrowthLabels) => {
  const atHorizon = g.trend.find((p) => p.week === g.horizonWeek)
  const first = [...g.accuracy.map((p) => p.week), ...g.trend.map((p) => p.week)].sort()[0] ?? g.horizonWeek
  return [
    ...g.accuracy.map((p) => ({ kind: "accuracy", week: p.week, value: p.value })),
    ...g.trend.map((p) => ({ kind: "trend", week: p.week, value: p.mean, lower: p.lower, upper: p.upper })),
    { kind: "target", week: g.horizonWeek, value: g.target01 },
    { kind: "targetLabel", week: first, value: g.target01, text: labels.target },
    {
      kind: "horizon",
      week: g.horizonWeek,
      value: atHorizon?.mean ?? (g.lower95 + g.upper95) / 2,
      text: labels.probability
    }
  ]
}

/** The rows of the segment distribution: students per segment (by the segment's name in the page's language). */
export const segmentRows = (counts: ReadonlyArray<{ readonly name: string; readonly count: number }>) =>
  counts.map((c) => ({ ...c }))

/** The rows of the distribution of P: students per bin of width `1 / bins`, P = 1 in the last bin. */
export const probabilityRows = (values01: ReadonlyArray<number>, bins = 10) => {
  const counts = Array.from({ length: bins }, () => 0)
  for (const p of values01) counts[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))]! += 1
  return counts.map((count, i) => ({ from: i / bins, to: (i + 1) / bins, mid: (i + 0.5) / bins, count }))
}

/** The rows of a student's forecast chart: the forecast band starts at the last observed week so the lines join. */
export const forecastRows = (f: Forecast) => {
  const last = f.history[f.history.length - 1]
  return [
    ...f.history.map((p) => ({ kind: "history", week: p.week, value: p.value })),
    ...(last === undefined
      ? []
      : [{ kind: "forecast", week: last.week, value: last.value, lower: last.value, upper: last.value }]),
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
export const make: Effect.Effect<ReportCharts, ChartError, Scope.Scope> = Effect.gen(function* () {
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
