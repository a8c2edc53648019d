import { type Html, html, trusted } from "./Html.ts"

/** The console's sections, in the order of its navigation bar. */
export const sections = [
  ["graph", "/", "Graph"],
  ["runs", "/runs", "Runs"],
  ["schedule", "/schedule", "Schedule"],
  ["models", "/models", "Models"],
  ["reports", "/reports", "Reports"]
] as const

/** One of `sections`. */
export type Section = (typeof sections)[number][0]

// one stylesheet inline: the console needs no build step and no second request
const style = trusted(`
:root { --fg:#1d2430; --muted:#5d6878; --line:#d9dee6; --bg:#f6f7f9; --accent:#3867d6; --ok:#2e9e5b; --bad:#d63031; --run:#e0a100; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1d2430; color:#fff; padding:0 16px; display:flex; flex-wrap:wrap; align-items:center; gap:4px 18px; }
header .brand { font-weight:600; padding:10px 0; }
header nav { display:flex; flex-wrap:wrap; gap:2px; }
header nav a { color:#c9d3e3; text-decoration:none; padding:10px 8px; border-bottom:3px solid transparent; }
header nav a[aria-current=page] { color:#fff; border-bottom-color:var(--accent); }
header .mode { margin-left:auto; font-size:12px; color:#c9d3e3; }
main { max-width:1200px; margin:0 auto; padding:16px; }
h1 { font-size:22px; margin:8px 0 12px; overflow-wrap:anywhere; }
h2 { font-size:17px; margin:24px 0 8px; }
a { color:var(--accent); }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px 14px; margin:12px 0; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; background:#fff; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
code, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12.5px; overflow-wrap:anywhere; }
.status { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; background:var(--muted); }
.status-succeeded { background:var(--ok); } .status-failed { background:var(--bad); } .status-running { background:var(--run); }
.status-skipped, .status-pending { background:#8a94a6; }
.muted { color:var(--muted); }
.error { color:var(--bad); white-space:pre-wrap; overflow-wrap:anywhere; }
.notice { border-left:4px solid var(--run); background:#fff8e1; padding:8px 12px; margin:12px 0; }
.refused { border-left:4px solid var(--bad); background:#fdecea; padding:8px 12px; margin:12px 0; }
form.filters { display:flex; flex-wrap:wrap; gap:8px; align-items:end; margin:8px 0; }
form label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
input, select, button { font:inherit; padding:5px 8px; border:1px solid var(--line); border-radius:4px; background:#fff; }
button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(280px, 1fr)); gap:12px; }
figure { margin:0; } figure svg { max-width:100%; height:auto; }
.graph svg { display:block; max-width:100%; height:auto; margin:0 auto; }
.pager { display:flex; gap:12px; align-items:center; margin:10px 0; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 14px; margin:0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
@media (max-width:600px) { main { padding:10px; } .graph svg { max-width:none; } th, td { padding:5px 4px; } .hide-narrow { display:none; } }
`)

/** The page shell: navigation, the section's title, the body; `script` is inline page behaviour (live updates). */
export const page = (options: {
  readonly title: string
  readonly section: Section | null
  readonly readOnly: boolean
  readonly body: Html
  readonly script?: Html
}): Html =>
  html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · seedtest console</title><style>${style}</style></head>
<body><header><span class="brand">seedtest</span><nav>${sections.map(
    ([key, path, label]) =>
      html`<a href="${path}"${options.section === key ? trusted(' aria-current="page"') : ""}>${label}</a>`
  )}</nav><span class="mode" data-mode="${options.readOnly ? "read-only" : "actions"}">${
    options.readOnly ? "read-only" : "actions enabled"
  }</span></header>
<main><h1>${options.title}</h1>${options.body}</main>${options.script === undefined ? "" : html`<script>${options.script}</script>`}</body></html>`

/** A run or slot status as a coloured badge. */
export const statusBadge = (status: string): Html =>
  html`<span class="status status-${status.replace(/[^a-z]/g, "")}">${status}</span>`
