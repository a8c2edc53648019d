import { Data, Effect } from "effect"
import type { ELK, ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js"
import { escape, type Html, trusted } from "./Html.ts"

/** elkjs could not lay a graph out. */
export class GraphLayoutError extends Data.TaggedError("GraphLayoutError")<{
  readonly reason: "Layout"
  readonly cause: unknown
}> {
  override get message(): string {
    return `The graph could not be laid out: ${String((this.cause as Error | undefined)?.message ?? this.cause)}`
  }
}

/** A box of the graph: its lines of text (the first bold), a link, and a tone that colours its border. */
export interface GraphNode {
  readonly id: string
  readonly lines: ReadonlyArray<string>
  readonly href?: string
  readonly tone?: "succeeded" | "failed" | "running" | "none" | "source" | "transform" | "model" | "sink"
}

/** An arrow between two boxes, optionally labelled with lines of text (the resources on a pipeline edge). */
export interface GraphEdge {
  readonly from: string
  readonly to: string
  readonly label?: ReadonlyArray<string>
  /** Kept on the label as `data-resources` (space-separated), for whoever reads the SVG. */
  readonly resources?: ReadonlyArray<string>
}

/**
 * Resources as short lines, one per table: `weekly_kpi.S`, `weekly_kpi.{A_t, E_t, R_t}`, `attempt`; a line longer
 * than `width` characters is wrapped after a comma.
 */
export const resourceLines = (resources: ReadonlyArray<string>, width = 40): ReadonlyArray<string> => {
  const tables = new Map<string, Array<string>>()
  for (const r of resources) {
    const dot = r.indexOf(".")
    const table = dot === -1 ? r : r.slice(0, dot)
    const columns = tables.get(table) ?? []
    if (dot !== -1) columns.push(r.slice(dot + 1))
    tables.set(table, columns)
  }
  return [...tables].flatMap(([table, columns]) => {
    const text =
      columns.length === 0
        ? table
        : columns.length === 1
          ? `${table}.${columns[0]}`
          : `${table}.{${columns.join(", ")}}`
    const lines: Array<string> = []
    let line = ""
    for (const part of text.split(/(?<=, )/)) {
      if (line.length > 0 && line.length + part.length > width) {
        lines.push(line)
        line = "    "
      }
      line += part
    }
    return [...lines, line]
  })
}

const CHAR = 7.2 // px per character at the 12px font the SVG uses: elk needs sizes before anything is drawn
const LINE = 16
const PAD = 10

const tones: Record<NonNullable<GraphNode["tone"]>, string> = {
  succeeded: "#2e9e5b",
  failed: "#d63031",
  running: "#e0a100",
  none: "#8a94a6",
  source: "#3867d6",
  transform: "#8a94a6",
  model: "#8e44ad",
  sink: "#2e9e5b"
}

// elk's bundled build runs the layout in-process (no worker); loaded once, when the first graph is drawn
let loaded: Promise<ELK> | undefined
const elk = Effect.promise(
  () =>
    // the bundle is CommonJS: its module.exports (the constructor) arrives as the default export
    (loaded ??= import("elkjs/lib/elk.bundled.js").then((m) => new (m.default as unknown as new () => ELK)()))
)

const layouts = new Map<string, ElkNode>()
const LABEL_LINE = 13
const labelWidth = (text: string) => text.length * 6.3 // 11px labels

/**
 * Lays a directed graph out with elkjs (layered, left to right, orthogonal edges, labels placed by elk) and draws it
 * as one SVG. Every text is escaped; boxes with an `href` are links.
 */
export const render = (
  nodes: ReadonlyArray<GraphNode>,
  edges: ReadonlyArray<GraphEdge>,
  options: { readonly direction?: "RIGHT" | "DOWN"; readonly label: string } = { label: "graph" }
): Effect.Effect<Html, GraphLayoutError> =>
  Effect.gen(function* () {
    const layout = yield* elk
    const graph: ElkNode = {
      id: "root",
      layoutOptions: {
        "elk.algorithm": "layered",
        "elk.direction": options.direction ?? "RIGHT",
        "elk.edgeRouting": "ORTHOGONAL",
        "elk.spacing.nodeNode": "24",
        "elk.layered.spacing.nodeNodeBetweenLayers": "56",
        "elk.spacing.edgeLabel": "4",
        "elk.edgeLabels.inline": "false",
        "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF"
      },
      children: nodes.map((n) => ({
        id: n.id,
        // rounded up, so that "5 s ago" and "12 min ago" give the same box and the cached layout is reused
        width: Math.ceil(Math.max(...n.lines.map((l) => l.length), 8) / 6) * 6 * CHAR + 2 * PAD,
        height: n.lines.length * LINE + 2 * PAD - 4
      })),
      edges: edges.map(
        (e, i): ElkExtendedEdge => ({
          id: `e${i}`,
          sources: [e.from],
          targets: [e.to],
          ...(e.label === undefined || e.label.length === 0
            ? {}
            : {
                labels: [
                  {
                    text: e.label.join("\n"),
                    width: Math.max(...e.label.map(labelWidth)),
                    height: e.label.length * LABEL_LINE
                  }
                ]
              })
        })
      )
    }
    // the layout depends only on sizes and edges, which rarely change between requests: elk runs once per shape
    const key = JSON.stringify(graph)
    const laid =
      layouts.get(key) ??
      (yield* Effect.tryPromise({
        try: () => layout.layout(structuredClone(graph)),
        catch: (cause) => new GraphLayoutError({ reason: "Layout", cause })
      }))
    if (!layouts.has(key)) {
      if (layouts.size >= 64) layouts.delete(layouts.keys().next().value!)
      layouts.set(key, laid)
    }
    const width = Math.ceil(laid.width ?? 0) + 2
    const height = Math.ceil(laid.height ?? 0) + 2
    const byId = new Map(nodes.map((n) => [n.id, n] as const))
    const parts: Array<string> = []
    for (const [i, edge] of (laid.edges ?? []).entries()) {
      const resources = edges[i]?.resources
      for (const s of edge.sections ?? []) {
        const points = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map(
          (p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`
        )
        parts.push(
          `<polyline class="edge" points="${points.join(" ")}" fill="none" stroke="#8a94a6" stroke-width="1.4" marker-end="url(#arrow)"/>`
        )
      }
      for (const l of edge.labels ?? []) {
        const lines = (l.text ?? "")
          .split("\n")
          .map(
            (line, n) =>
              `<tspan x="${(l.x ?? 0).toFixed(1)}" y="${((l.y ?? 0) + 10 + n * LABEL_LINE).toFixed(1)}">${escape(line)}</tspan>`
          )
        parts.push(
          `<text class="edge-label" data-from="${escape(edges[i]!.from)}" data-to="${escape(edges[i]!.to)}"${resources === undefined ? "" : ` data-resources="${escape(resources.join(" "))}"`} font-size="11" fill="#5d6878" xml:space="preserve">${lines.join("")}</text>`
        )
      }
    }
    for (const child of laid.children ?? []) {
      const node = byId.get(child.id)!
      const x = child.x ?? 0
      const y = child.y ?? 0
      const color = tones[node.tone ?? "none"]
      const text = node.lines
        .map(
          (line, i) =>
            `<text x="${(x + PAD).toFixed(1)}" y="${(y + PAD + 11 + i * LINE).toFixed(1)}" font-size="12"${i === 0 ? ' font-weight="600" fill="#1d2430"' : ' fill="#5d6878"'}>${escape(line)}</text>`
        )
        .join("")
      const box = `<g class="node" data-id="${escape(node.id)}"><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${child.width}" height="${child.height}" rx="6" fill="#fff" stroke="${color}" stroke-width="2"/>${text}</g>`
      parts.push(node.href === undefined ? box : `<a href="${escape(node.href)}">${box}</a>`)
    }
    return trusted(
      `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escape(options.label)}" width="${width}" height="${height}" viewBox="-1 -1 ${width} ${height}" font-family="system-ui, sans-serif">` +
        `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker></defs>` +
        parts.join("") +
        `</svg>`
    )
  })
