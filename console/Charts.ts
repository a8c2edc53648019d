import { Data, Effect } from "effect"
import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"
import { type Html, trusted } from "./Html.ts"

/** A console chart could not be compiled or drawn. */
export class ConsoleChartError extends Data.TaggedError("ConsoleChartError")<{
  readonly reason: "Compile" | "Render"
  readonly chart: ConsoleChart
  readonly cause: unknown
}> {
  override get message(): string {
    return `The ${this.chart} chart could not be ${this.reason === "Compile" ? "compiled" : "drawn"}: ${String((this.cause as Error | undefined)?.message ?? this.cause)}`
  }
}

const base = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  background: "white",
  width: 600,
  config: {
    font: "system-ui, sans-serif",
    view: { stroke: null },
    axis: { labelFontSize: 11, gridColor: "#eee", titleFontWeight: 500 }
  }
} as const
const statusColor = {
  field: "status",
  type: "nominal",
  scale: { domain: ["succeeded", "failed", "running"], range: ["#2e9e5b", "#d63031", "#e0a100"] }
} as const
const time = (field: string, title: string | null) =>
  ({
    field,
    type: "temporal",
    scale: { type: "utc" },
    axis: { title, format: "%m/%d %H:%M", labelAngle: 0, labelOverlap: true }
  }) as const

// data-free specs (one named source "rows"): parsed once per process, only rows change per request
const specs = {
  durationTrend: {
    ...base,
    height: 160,
    data: { name: "rows" },
    layer: [
      {
        mark: { type: "line", color: "#8fa8e8" },
        encoding: { x: time("started", null), y: { field: "seconds", type: "quantitative", title: "seconds" } }
      },
      {
        mark: { type: "point", filled: true, size: 40 },
        encoding: { x: time("started", null), y: { field: "seconds", type: "quantitative" }, color: statusColor }
      }
    ]
  },
  gantt: {
    ...base,
    data: { name: "rows" },
    height: { step: 22 },
    mark: { type: "bar", cornerRadius: 2 },
    encoding: {
      y: { field: "stage", type: "nominal", sort: { field: "order" }, title: null, axis: { labelLimit: 200 } },
      x: { field: "from", type: "quantitative", title: "seconds since the run started" },
      x2: { field: "to" },
      color: {
        field: "kind",
        type: "nominal",
        scale: {
          domain: ["source", "transform", "model", "sink"],
          range: ["#3867d6", "#8a94a6", "#8e44ad", "#2e9e5b"]
        },
        legend: { orient: "bottom", title: null }
      },
      tooltip: [{ field: "stage" }, { field: "seconds", format: ".2f" }]
    }
  },
  interval: {
    ...base,
    height: 170,
    data: { name: "rows" },
    encoding: { x: time("at", null) },
    layer: [
      {
        mark: { type: "area", color: "#8fa8e8", opacity: 0.35 },
        encoding: {
          y: { field: "lower", type: "quantitative", title: null, scale: { zero: false } },
          y2: { field: "upper" }
        }
      },
      {
        mark: { type: "line", color: "#3867d6", point: { filled: true, size: 30 } },
        encoding: { y: { field: "value", type: "quantitative" } }
      },
      {
        transform: [{ filter: "datum.anomaly === true" }],
        mark: { type: "point", filled: true, size: 110, color: "#d63031" },
        encoding: { y: { field: "value", type: "quantitative" } }
      }
    ]
  },
  hazardRatios: {
    ...base,
    data: { name: "rows" },
    height: { step: 26 },
    encoding: { y: { field: "name", type: "nominal", title: null, sort: null } },
    layer: [
      {
        mark: { type: "rule", color: "#5d6878", strokeWidth: 2 },
        encoding: {
          x: {
            field: "lower",
            type: "quantitative",
            scale: { type: "log" },
            title: "hazard ratio of returning (95% interval)"
          },
          x2: { field: "upper" }
        }
      },
      {
        mark: { type: "point", filled: true, size: 60, color: "#3867d6" },
        encoding: { x: { field: "value", type: "quantitative" } }
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: "rule", strokeDash: [3, 3], color: "#999" },
        encoding: { x: { field: "one", type: "quantitative" }, y: null }
      }
    ]
  },
  bars: {
    ...base,
    data: { name: "rows" },
    height: { step: 24 },
    mark: { type: "bar", color: "#3867d6" },
    encoding: {
      y: { field: "label", type: "nominal", title: null, sort: "-x", axis: { labelLimit: 220 } },
      x: { field: "value", type: "quantitative", title: null }
    }
  },
  gapCurve: {
    ...base,
    height: 150,
    data: { name: "rows" },
    encoding: { x: { field: "k", type: "ordinal", axis: { labelAngle: 0 } } },
    layer: [
      {
        mark: { type: "rule", color: "#8fa8e8", strokeWidth: 2 },
        encoding: {
          y: { field: "lower", type: "quantitative", title: "gap", scale: { zero: false } },
          y2: { field: "upper" }
        }
      },
      {
        mark: { type: "line", color: "#3867d6", point: { filled: true, size: 40 } },
        encoding: { y: { field: "gap", type: "quantitative" } }
      },
      {
        transform: [{ filter: "datum.chosen === true" }],
        mark: { type: "point", size: 180, color: "#d63031", strokeWidth: 2 },
        encoding: { y: { field: "gap", type: "quantitative" } }
      }
    ]
  }
} satisfies Record<string, object>

/** The console's charts. */
export type ConsoleChart = keyof typeof specs

// one headless view per chart, made on first use: a request swaps its rows and re-runs the dataflow (several times
// cheaper than a new view), one request at a time per chart
const views = new Map<ConsoleChart, { readonly view: vega.View; readonly lock: Effect.Semaphore }>()

const viewOf = (chart: ConsoleChart) =>
  Effect.suspend(() => {
    const made = views.get(chart)
    if (made !== undefined) return Effect.succeed(made)
    return Effect.try({
      try: () => new vega.View(vega.parse(compile(specs[chart] as unknown as TopLevelSpec).spec), { renderer: "none" }),
      catch: (cause) => new ConsoleChartError({ reason: "Compile", chart, cause })
    }).pipe(
      Effect.map((view) => {
        const entry = { view, lock: Effect.unsafeMakeSemaphore(1) }
        views.set(chart, entry)
        return entry
      })
    )
  })

/**
 * Draws a chart to SVG on the server with Vega-Lite, as the weekly report does; `width` is the drawing width in px
 * (the SVG then scales to its box).
 */
export const render = (
  chart: ConsoleChart,
  rows: ReadonlyArray<object>,
  width = 640
): Effect.Effect<Html, ConsoleChartError> =>
  Effect.flatMap(viewOf(chart), ({ lock, view }) =>
    lock.withPermits(1)(
      Effect.tryPromise({
        try: () =>
          view
            .width(width)
            .data("rows", rows as Array<object>)
            .toSVG(),
        catch: (cause) => new ConsoleChartError({ reason: "Render", chart, cause })
      })
    )
  ).pipe(Effect.map(trusted))
