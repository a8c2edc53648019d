import { createHash } from "node:crypto"
import type { ReportText } from "./ReportText.ts"
import { segmentText } from "./ReportText.ts"
import type { KpiLine, RiskLevel, Section, StudentReport, SummaryKey, Unavailable } from "./StudentReport.ts"

/** The SVG of each chart a page shows (absent when its section is unavailable). */
export interface PageCharts {
  readonly growth?: string
  readonly forecast?: string
  readonly churn?: string
}

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

/** A probability in [0, 1] as a percentage with one decimal. */
export const percent = (p01: number): string => `${(p01 * 100).toFixed(1)}%`

const decimals: Readonly<Record<SummaryKey, number>> = { I_t: 3, E_t: 3, R_t: 3, A_t: 3, P: 3, S: 3, sessions: 0, mean_gap: 1 }

/** A KPI value as the summary table shows it. */
export const formatKpi = (key: SummaryKey, value: number): string => value.toFixed(decimals[key])

const formatChange = (key: SummaryKey, change: number): string => {
  const text = formatKpi(key, Math.abs(change))
  return Number(text) === 0 ? `±${text}` : change > 0 ? `▲ +${text}` : `▼ −${text}`
}

/** The page's stylesheet: inline, system fonts, print-friendly. */
export const pageStyle = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; color: #1d2330; background: #f4f6fa; line-height: 1.45; }
main { max-width: 760px; margin: 0 auto; padding: 24px 20px 40px; }
header h1 { margin: 0 0 2px; font-size: 24px; }
header p { margin: 0; color: #5a6375; }
section { background: #fff; border-radius: 10px; padding: 16px 20px; margin-top: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); break-inside: avoid; }
section h2 { margin: 0 0 10px; font-size: 18px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid #e7eaf0; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.up { color: #1e8449; } .down { color: #c0392b; }
figure.chart { margin: 8px 0 4px; } figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption, .note { color: #5a6375; font-size: 13px; }
.big { font-size: 28px; font-weight: 700; }
.risk { display: inline-block; padding: 2px 12px; border-radius: 999px; color: #fff; font-weight: 700; }
.risk-low { background: #2e9e5b; } .risk-medium { background: #e0a100; } .risk-high { background: #d63031; }
.unavailable { border-left: 4px solid #b0b7c3; padding: 6px 12px; background: #f7f8fa; }
.unavailable code { font-size: 12px; color: #5a6375; white-space: pre-wrap; }
ul { margin: 4px 0 8px; padding-left: 20px; }
a { color: #3867d6; }
@page { size: A4; margin: 12mm; }
@media print { body { background: #fff; } section { box-shadow: none; border: 1px solid #e7eaf0; } }
`

const unavailableBlock = (text: ReportText, u: Unavailable): string => `
  <div class="unavailable" data-unavailable="${u.reason}">
    <p><strong>${escapeHtml(text.unavailableTitle)}</strong>: ${escapeHtml(text.unavailable[u.reason])}</p>
    <code>${escapeHtml(u.detail)}</code>
  </div>`

const section = <A>(
  id: string,
  title: string,
  content: Section<A>,
  text: ReportText,
  body: (available: { readonly _tag: "Available" } & A) => string,
  footer = ""
): string => `
<section id="${id}" data-section="${id}" data-status="${content._tag === "Available" ? "available" : "unavailable"}">
  <h2>${escapeHtml(title)}</h2>${content._tag === "Available" ? body(content) : unavailableBlock(text, content)}${footer}
</section>`

const figure = (chart: string, svg: string | undefined, caption: string): string =>
  `<figure class="chart" data-chart="${chart}">${svg ?? ""}<figcaption>${escapeHtml(caption)}</figcaption></figure>`

const kpiRow = (text: ReportText, line: KpiLine): string => {
  const cell = (v: number | null) => (v === null ? text.noValue : formatKpi(line.key, v))
  const change = line.change === null ? text.noValue : formatChange(line.key, line.change)
  const cls = line.change === null || Number(formatKpi(line.key, Math.abs(line.change))) === 0
    ? ""
    : line.change > 0 ? "up" : "down"
  return `<tr data-kpi="${line.key}"><td>${escapeHtml(text.kpiNames[line.key])}</td><td data-field="current">${cell(line.current)}</td><td data-field="previous">${cell(line.previous)}</td><td data-field="change" class="${cls}">${change}</td></tr>`
}

const riskBadge = (text: ReportText, level: RiskLevel) =>
  `<span class="risk risk-${level}" data-risk-level="${level}">${escapeHtml(text.churn.levels[level])}</span>`

/** One student's self-contained report page (inline CSS and SVG, no script, nothing fetched). */
export const reportPage = (report: StudentReport, text: ReportText, charts: PageCharts): string => {
  const kpis = section("kpis", text.sections.kpis, { _tag: "Available" }, text, () => `
  <table>
    <thead><tr><th>${escapeHtml(text.columns.kpi)}</th><th>${escapeHtml(text.columns.thisWeek)}</th><th>${escapeHtml(text.columns.lastWeek)}</th><th>${escapeHtml(text.columns.change)}</th></tr></thead>
    <tbody>${report.kpis.map((line) => kpiRow(text, line)).join("")}</tbody>
  </table>`)
  const growth = section("growth", text.sections.growth, report.growth, text, (g) => `
  <p>${escapeHtml(text.growth.probability)}: <span class="big" data-value="growth-p">${percent(g.probability01)}</span>
     <span class="note">(σ ${g.sigma.toFixed(3)})</span></p>
  <p data-value="growth-interval">${escapeHtml(text.growth.interval(percent(g.lower95), percent(g.upper95), g.horizonWeeks))}</p>
  <p class="note">${escapeHtml(text.growth.target(percent(g.target01)))}</p>
  ${figure("growth", charts.growth, text.growth.caption)}
  ${g.trendFromCoefficients ? "" : `<p class="note">${escapeHtml(text.growth.coneNote)}</p>`}`)
  const forecast = section("forecast", text.sections.forecast, report.forecast, text, (f) => `
  ${figure("forecast", charts.forecast, text.forecast.caption)}
  <p class="note" data-value="anomalies" data-count="${f.anomalies.length}">${escapeHtml(text.forecast.anomalies(f.anomalies.length))}${f.anomalies.length === 0 ? "" : `: ${f.anomalies.map((a) => `${a.week} (${a.value.toFixed(3)})`).join(", ")}`}</p>`)
  const heuristic = report.churnHeuristic01 === null
    ? ""
    : `<p class="note" data-value="churn-heuristic">${escapeHtml(text.churn.heuristic(percent(report.churnHeuristic01)))}</p>`
  const churn = section("churn", text.sections.churn, report.churn, text, (c) => `
  <p>${escapeHtml(text.churn.risk)}: <span class="big" data-value="churn-s">${percent(c.risk01)}</span> ${riskBadge(text, c.level)}</p>
  ${figure("churn", charts.churn, "")}
  ${c.concordance === null ? "" : `<p class="note">${escapeHtml(text.churn.concordance(c.concordance.toFixed(3)))}</p>`}`, heuristic)
  const segment = section("segment", text.sections.segment, report.segment, text, (s) => {
    const about = segmentText(text, s.label)
    return `
  <p>${escapeHtml(text.segment.label)}: <strong data-value="segment-label" data-label="${escapeHtml(s.label)}">${escapeHtml(about.name)}</strong></p>
  <p>${escapeHtml(about.description)}</p>
  ${s.traits.length === 0 ? "" : `<h3>${escapeHtml(text.segment.traits)}</h3><ul data-value="traits">${s.traits.map((t) => `<li>${escapeHtml(t.description)} <span class="note">(z ${t.z >= 0 ? "+" : "−"}${Math.abs(t.z).toFixed(2)})</span></li>`).join("")}</ul>`}
  <h3>${escapeHtml(text.segment.recommendations)}</h3>
  <ul data-value="recommendations">${about.recommendations.slice(0, 3).map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`
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
  const safe = userId.toLowerCase().replace(/[^a-z0-9_-]/g, "_").slice(0, 80)
  // 64 bits of SHA-256: ids cannot be crafted to collide, as they could with a short non-cryptographic hash
  return `${safe}~${createHash("sha256").update(userId).digest("hex").slice(0, 16)}.${extension}`
}

/** The cohort page: every student with P, S and segment, linking to their report. */
export const cohortIndexPage = (reports: ReadonlyArray<StudentReport>, text: ReportText, weekStart: string): string => {
  const rows = reports.map((r) => {
    const p = r.kpis.find((k) => k.key === "P")?.current ?? null
    const s = r.churn._tag === "Available" ? r.churn : undefined
    const seg = r.segment._tag === "Available" ? segmentText(text, r.segment.label).name : text.noValue
    return `<tr data-user="${escapeHtml(r.userId)}"><td>${escapeHtml(r.userId)}</td><td data-field="P">${p === null ? text.noValue : percent(p)}</td><td data-field="S">${s === undefined ? text.noValue : `${percent(s.risk01)} ${riskBadge(text, s.level)}`}</td><td data-field="segment">${escapeHtml(seg)}</td><td><a href="${encodeURIComponent(reportFileName(r.userId, "html"))}">${escapeHtml(text.index.open)}</a></td></tr>`
  })
  return `<!doctype html>
<html lang="${text.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(text.index.title)} · ${weekStart}</title>
<style>${pageStyle}</style>
</head>
<body>
<main>
<header><h1>${escapeHtml(text.index.title)}</h1><p>${escapeHtml(text.weekOf(weekStart))} · ${reports.length}</p></header>
<section id="index" data-section="index">
<table>
<thead><tr><th>${escapeHtml(text.index.student)}</th><th>P</th><th>S</th><th>${escapeHtml(text.index.segment)}</th><th>${escapeHtml(text.index.report)}</th></tr></thead>
<tbody>${rows.join("\n")}</tbody>
</table>
</section>
</main>
</body>
</html>
`
}
