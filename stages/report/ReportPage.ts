import { createHash } from "node:crypto"
import type { ReportText, SectionName } from "./ReportText.ts"
import { segmentText } from "./ReportText.ts"
import {
  type KpiLine,
  probability01,
  type RiskLevel,
  type Section,
  type StudentReport,
  type SummaryKey,
  type Unavailable
} from "./StudentReport.ts"

/** A chart as the page shows it: the SVG and its text alternative (absent when its section is unavailable). */
export interface RenderedChart {
  readonly svg: string
  readonly alt: string
}

/** The charts of a student's page. */
export interface PageCharts {
  readonly growth?: RenderedChart
  readonly forecast?: RenderedChart
  readonly churn?: RenderedChart
}

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

/** `value` with `digits` decimals, never "-0" (a value that rounds to zero is zero, whatever its sign). */
export const fixed = (value: number, digits: number): string => {
  const text = value.toFixed(digits)
  return Number(text) === 0 ? (0).toFixed(digits) : text
}

/** A probability as a percentage with one decimal, clamped to [0, 1] first. */
export const percent = (p01: number): string => `${fixed(probability01(p01) * 100, 1)}%`

const decimals: Readonly<Record<SummaryKey, number>> = {
  I_t: 3,
  E_t: 3,
  R_t: 3,
  A_t: 3,
  P: 1,
  S: 1,
  sessions: 0,
  mean_gap: 1
}
const isProbability = (key: SummaryKey) => key === "P" || key === "S"

/** A KPI value as the summary table shows it: probabilities as percentages, the others as numbers. */
export const formatKpi = (key: SummaryKey, value: number): string =>
  isProbability(key) ? percent(value) : fixed(value, decimals[key])

const formatChange = (text: ReportText, key: SummaryKey, change: number): string => {
  const magnitude = fixed(Math.abs(isProbability(key) ? change * 100 : change), decimals[key])
  const shown = isProbability(key) ? text.points(magnitude) : magnitude
  return Number(magnitude) === 0 ? `±${shown}` : change > 0 ? `▲ +${shown}` : `▼ −${shown}`
}

/**
 * The pages' stylesheet: inline, system fonts, readable from 390 px wide, A4 in print, WCAG AA contrast. Hangul
 * comes from the reader's system font, on Linux from NanumGothic (TrueType) before Noto CJK: Chromium embeds a
 * CFF-outline CJK font into a PDF about ten times slower (≈ 4 s a page here against ≈ 0.4 s).
 */
export const pageStyle = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", "Apple SD Gothic Neo", "Malgun Gothic", NanumGothic, "Noto Sans KR", "Noto Sans CJK KR", sans-serif; color: #1d2330; background: #f4f6fa; line-height: 1.5; font-size: 16px; -webkit-text-size-adjust: 100%; word-break: keep-all; overflow-wrap: break-word; }
main { max-width: 760px; margin: 0 auto; padding: 24px 20px 40px; }
main.wide { max-width: 1100px; }
header h1 { margin: 0 0 2px; font-size: 24px; line-height: 1.3; }
header p { margin: 0; color: #4a5263; }
section { background: #fff; border-radius: 10px; padding: 16px 20px; margin-top: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section.keep { break-inside: avoid; }
section h2, figure.chart figcaption { break-after: avoid; }
section h2 { margin: 0 0 10px; font-size: 19px; }
h3 { font-size: 16px; margin: 14px 0 4px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid #e1e5ec; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
th { font-size: 14px; color: #3a4252; white-space: nowrap; }
td[data-field] { white-space: nowrap; }
td.kpi-name strong { display: block; font-weight: 600; }
td.kpi-name span { display: block; font-size: 13px; color: #4a5263; }
.up { color: #17693a; } .down { color: #b3261e; }
figure.chart { margin: 12px 0 4px; break-inside: avoid; }
figure.chart figcaption { font-size: 13px; color: #4a5263; margin-bottom: 6px; }
figure.chart figcaption strong { display: block; font-size: 15px; color: #1d2330; }
figure.chart .plot svg { max-width: 100%; height: auto; display: block; }
.note { color: #4a5263; font-size: 14px; }
.big { font-size: 28px; font-weight: 700; }
.risk { display: inline-block; padding: 2px 12px; border-radius: 999px; color: #fff; font-weight: 700; font-size: 15px; }
.risk-low { background: #1e7b45; } .risk-medium { background: #8a5a00; } .risk-high { background: #d63031; }
.unavailable { border-left: 4px solid #8a909c; padding: 6px 12px; background: #f5f6f8; }
.unavailable p { margin: 4px 0; }
details.tech { font-size: 13px; color: #4a5263; }
details.tech code { white-space: pre-wrap; }
ul { margin: 4px 0 8px; padding-left: 20px; }
a { color: #2851b8; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 600px) {
  main { padding: 14px 10px 28px; }
  section { padding: 12px 12px; border-radius: 8px; }
  header h1 { font-size: 21px; }
  th, td { padding: 6px 3px; }
  td[data-field] { font-size: 14px; }
  td.kpi-name span { font-size: 12.5px; }
  .big { font-size: 24px; }
}
@page { size: A4; margin: 12mm 10mm; }
@media print {
  body { background: #fff; font-size: 12pt; }
  main, main.wide { max-width: none; padding: 0; }
  section, section.keep { box-shadow: none; border: 1px solid #d5dae2; margin-top: 5mm; padding: 10px 14px; break-inside: auto; }
  figure.chart, .unavailable, td.kpi-name { break-inside: avoid; }
  header h1 { font-size: 20pt; }
  details.tech, .no-print { display: none; }
  figure.chart .plot svg { max-width: 100%; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  a { color: #1d2330; text-decoration: none; }
}
`

/** The "this section cannot be shown" block: the reason in the reader's words, the technical detail folded away. */
export const unavailableBlock = (text: ReportText, section: SectionName, u: Unavailable): string => `
  <div class="unavailable" data-unavailable="${u.reason}"${u.code === undefined ? "" : ` data-code="${escapeHtml(u.code)}"`}>
    <p><strong>${escapeHtml(text.unavailableTitle)}</strong></p>
    <p data-value="reason">${escapeHtml(text.unavailable(section, u))}</p>
    <details class="tech"><summary>${escapeHtml(text.technicalDetail)}</summary><code lang="en">${escapeHtml(u.detail)}</code></details>
  </div>`

const section = <A>(
  id: SectionName,
  title: string,
  content: Section<A>,
  text: ReportText,
  body: (available: { readonly _tag: "Available" } & A) => string,
  footer = ""
): string => `
<section id="${id}" class="keep" data-section="${id}" data-status="${content._tag === "Available" ? "available" : "unavailable"}" aria-labelledby="${id}-title">
  <h2 id="${id}-title">${escapeHtml(title)}</h2>${content._tag === "Available" ? body(content) : unavailableBlock(text, id, content)}${footer}
</section>`

/** A chart with its title and caption, and its text alternative for screen readers (the SVG itself is hidden from them). */
export const figure = (name: string, chart: RenderedChart | undefined, title: string, caption: string): string =>
  `<figure class="chart" data-chart="${name}" aria-labelledby="${name}-chart-title">` +
  `<figcaption><strong id="${name}-chart-title">${escapeHtml(title)}</strong>${caption === "" ? "" : `<span>${escapeHtml(caption)}</span>`}</figcaption>` +
  `<div class="plot" role="img" aria-label="${escapeHtml(chart?.alt ?? "")}" data-alt="${escapeHtml(chart?.alt ?? "")}">${chart?.svg ?? ""}</div></figure>`

const kpiRow = (text: ReportText, line: KpiLine): string => {
  const cell = (v: number | null) => (v === null ? text.noValue : formatKpi(line.key, v))
  const change = line.change === null ? text.noValue : formatChange(text, line.key, line.change)
  const flat = line.change === null || /^±/.test(change)
  // for the risk of stopping, going down is the good direction
  const good = line.change !== null && (line.key === "S" || line.key === "mean_gap" ? line.change < 0 : line.change > 0)
  const cls = flat ? "" : good ? "up" : "down"
  const about = text.kpis[line.key]
  return `<tr data-kpi="${line.key}"><td class="kpi-name"><strong>${escapeHtml(about.name)}</strong><span>${escapeHtml(about.meaning)}</span></td><td data-field="current">${cell(line.current)}</td><td data-field="previous">${cell(line.previous)}</td><td data-field="change" class="${cls}">${change}</td></tr>`
}

/** The coloured badge of a risk level. */
export const riskBadge = (text: ReportText, level: RiskLevel) =>
  `<span class="risk risk-${level}" data-risk-level="${level}">${escapeHtml(text.churn.levels[level])}</span>`

/** The day of an ISO timestamp (`2026-06-01T04:40:00Z` → `2026-06-01`). */
const dayOf = (timestamp: string) => timestamp.slice(0, 10)

/** One student's self-contained report page (inline CSS and SVG, no script, nothing fetched). */
export const reportPage = (report: StudentReport, text: ReportText, charts: PageCharts): string => {
  const kpis = section(
    "kpis",
    text.sections.kpis,
    { _tag: "Available" },
    text,
    () => `
  <table>
    <thead><tr><th scope="col">${escapeHtml(text.columns.kpi)}</th><th scope="col">${escapeHtml(text.columns.thisWeek)}</th><th scope="col">${escapeHtml(text.columns.lastWeek)}</th><th scope="col">${escapeHtml(text.columns.change)}</th></tr></thead>
    <tbody>${report.kpis.map((line) => kpiRow(text, line)).join("")}</tbody>
  </table>`
  )
  const growth = section(
    "growth",
    text.sections.growth,
    report.growth,
    text,
    (g) => `
  <p>${escapeHtml(text.growth.probability)}: <span class="big" data-value="growth-p">${percent(g.probability01)}</span></p>
  <p data-value="growth-interval">${escapeHtml(text.growth.interval(percent(g.lower95), percent(g.upper95), g.horizonWeeks))}</p>
  <p class="note" data-value="growth-target">${escapeHtml(text.growth.target(percent(g.target01)))}</p>
  ${figure("growth", charts.growth, text.growth.chartTitle, text.growth.caption)}
  ${g.trendFromCoefficients ? "" : `<p class="note" data-value="growth-cone">${escapeHtml(text.growth.coneNote)}</p>`}
  ${g.latestFitRejected ? `<p class="note" data-value="earlier-fit">${escapeHtml(text.growth.earlierFitNote(dayOf(g.fittedAt)))}</p>` : ""}`
  )
  const forecast = section(
    "forecast",
    text.sections.forecast,
    report.forecast,
    text,
    (f) => `
  ${figure("forecast", charts.forecast, text.forecast.chartTitle, text.forecast.caption)}
  ${anomalyNote(text, f.anomalies)}`
  )
  const heuristic =
    report.churnHeuristic01 === null
      ? ""
      : `<p class="note" data-value="churn-heuristic">${escapeHtml(text.churn.heuristic(percent(report.churnHeuristic01)))}</p>`
  const churn = section(
    "churn",
    text.sections.churn,
    report.churn,
    text,
    (c) => `
  <p>${escapeHtml(text.churn.risk)}: <span class="big" data-value="churn-s">${percent(c.risk01)}</span> ${riskBadge(text, c.level)}</p>
  ${c.week === report.weekStart ? "" : `<p class="note">${escapeHtml(text.churn.laterWeekNote(c.week))}</p>`}
  ${figure("churn", charts.churn, text.churn.chartTitle, "")}
  ${c.concordance === null ? "" : `<p class="note">${escapeHtml(text.churn.concordance(fixed(c.concordance, 2)))}</p>`}`,
    heuristic
  )
  const segment = section("segment", text.sections.segment, report.segment, text, (s) => {
    const about = segmentText(text, s.label)
    return `
  <p>${escapeHtml(text.segment.label)}: <strong data-value="segment-label" data-label="${escapeHtml(s.label)}">${escapeHtml(about.name)}</strong></p>
  <p>${escapeHtml(about.description)}</p>
  ${s.traits.length === 0 ? "" : `<h3>${escapeHtml(text.segment.traits)}</h3><ul data-value="traits">${s.traits.map((t) => `<li data-feature="${escapeHtml(t.feature)}" data-z="${fixed(t.z, 2)}">${escapeHtml(text.segment.trait(t.feature, t.z))}</li>`).join("")}</ul>`}
  <h3>${escapeHtml(text.segment.recommendations)}</h3>
  <ul data-value="recommendations">${about.recommendations
    .slice(0, 3)
    .map((r) => `<li>${escapeHtml(r)}</li>`)
    .join("")}</ul>`
  })
  return `<!doctype html>
<html lang="${text.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(text.title)} · ${escapeHtml(report.userId)} · ${report.weekStart}</title>
<style>${pageStyle}</style>
</head>
<body>
<main>
<header><h1>${escapeHtml(text.title)}</h1><p><span data-value="student">${escapeHtml(report.userId)}</span> · ${escapeHtml(text.weekOf(report.weekStart))}</p></header>
${kpis}${growth}${forecast}${churn}${segment}
</main>
</body>
</html>
`
}

/** The anomalous weeks of a forecast and what made each one anomalous (its value against the expected one). */
export const anomalyNote = (
  text: ReportText,
  anomalies: ReadonlyArray<{ readonly week: string; readonly value: number; readonly expected: number }>
): string =>
  `<p class="note" data-value="anomalies" data-count="${anomalies.length}">${escapeHtml(text.forecast.anomalies(anomalies.length))}${
    anomalies.length === 0
      ? ""
      : `: ${anomalies.map((a) => `<span data-week="${a.week}">${escapeHtml(text.forecast.anomaly(a.week, fixed(a.value, 3), fixed(a.expected, 3)))}</span>`).join(", ")}`
  }</p>`

/** Names a student's file may not take: the report's own files, and names some file systems refuse. */
const reservedNames = new Set(["index", "con", "prn", "aux", "nul"])

/**
 * The file name of a student's report. An id that is lowercase letters, digits, `_` and `-` (not reserved, not empty)
 * is its own name; any other id (upper case, dots, `..`, `index`, '') gets a lowercase safe part and a hash of the
 * exact id after a `~`, which a plain name never contains. So no two ids share a name even on a case-insensitive
 * file system, no student gets the cohort index's name, and no name is hidden (starts with a dot).
 */
export const reportFileName = (userId: string, extension: "html" | "pdf"): string => {
  if (/^[a-z0-9_-]{1,80}$/.test(userId) && !reservedNames.has(userId)) return `${userId}.${extension}`
  const safe = userId
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "_")
    .slice(0, 80)
  // 64 bits of SHA-256: ids cannot be crafted to collide, as they could with a short non-cryptographic hash
  return `${safe}~${createHash("sha256").update(userId).digest("hex").slice(0, 16)}.${extension}`
}
