import { createHash } from "node:crypto"
import type { RenderedChart } from "./ReportPage.ts"
import {
  anomalyNote,
  escapeHtml,
  figure,
  fixed,
  pageStyle,
  percent,
  reportFileName,
  riskBadge,
  unavailableBlock
} from "./ReportPage.ts"
import type { ReportText } from "./ReportText.ts"
import { segmentText } from "./ReportText.ts"
import type { Forecast, RiskLevel, Section, StudentReport } from "./StudentReport.ts"

/** One student in the teachers' attention list. */
export interface AttentionRow {
  readonly userId: string
  /** Churn risk S of the gauge's week, and its change against the week before (null when not computed). */
  readonly risk01: number | null
  readonly level: RiskLevel | null
  readonly riskChange: number | null
  readonly daysSinceActive: number | null
  /** Goal attainment P of the reported week. */
  readonly goal01: number | null
  readonly segmentLabel: string | null
}

/** The week's overview of the cohort for teachers. */
export interface CohortOverview {
  readonly weekStart: string
  /** Every student, who needs attention first: by S, highest first (students without S last), then longest inactive. */
  readonly attention: ReadonlyArray<AttentionRow>
  /** Students per segment label, largest first. */
  readonly segments: ReadonlyArray<{ readonly label: string; readonly count: number }>
  /** P of every student that has one. */
  readonly goals01: ReadonlyArray<number>
  /** The cohort's I_t with its forecast and anomalous weeks. */
  readonly cohort: Section<Forecast>
}

const descendingNullsLast = (a: number | null, b: number | null) =>
  a === null ? (b === null ? 0 : 1) : b === null ? -1 : b - a

/** The overview of the week from the students' reports and the cohort's forecast (pure). */
export const cohortOverview = (
  reports: ReadonlyArray<StudentReport>,
  cohort: Section<Forecast>,
  weekStart: string
): CohortOverview => {
  const attention = reports
    .map((r): AttentionRow => {
      const s = r.kpis.find((k) => k.key === "S")
      return {
        userId: r.userId,
        risk01: r.churn._tag === "Available" ? r.churn.risk01 : null,
        level: r.churn._tag === "Available" ? r.churn.level : null,
        riskChange: s?.change ?? null,
        daysSinceActive: r.daysSinceActive,
        goal01: r.kpis.find((k) => k.key === "P")?.current ?? null,
        segmentLabel: r.segment._tag === "Available" ? r.segment.label : null
      }
    })
    .sort(
      (a, b) =>
        descendingNullsLast(a.risk01, b.risk01) ||
        descendingNullsLast(a.daysSinceActive, b.daysSinceActive) ||
        (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0)
    )
  const counts = new Map<string, number>()
  for (const row of attention)
    if (row.segmentLabel !== null) counts.set(row.segmentLabel, (counts.get(row.segmentLabel) ?? 0) + 1)
  return {
    weekStart,
    attention,
    segments: [...counts]
      .map(([label, count]) => ({ label, count }))
      .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label)),
    goals01: attention.flatMap((r) => (r.goal01 === null ? [] : [r.goal01])),
    cohort
  }
}

/** The charts of the overview. */
export interface OverviewCharts {
  readonly segments?: RenderedChart
  readonly probabilities?: RenderedChart
  readonly cohort?: RenderedChart
}

// Sorting and filtering in the page itself, so the overview works opened from a disk or a mail attachment. Rows
// carry their values in data attributes; a header button sorts by its column (again: the other direction).
const script = `(() => {
  const table = document.getElementById("attention-table");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const q = document.getElementById("filter-student"), seg = document.getElementById("filter-segment"), lvl = document.getElementById("filter-level");
  const shown = document.getElementById("shown"), sortBy = document.getElementById("sort-by");
  const filter = () => {
    const t = q.value.trim().toLowerCase();
    let n = 0;
    for (const r of rows) {
      const ok = (t === "" || r.dataset.user.toLowerCase().includes(t)) && (seg.value === "" || r.dataset.segment === seg.value) && (lvl.value === "" || r.dataset.level === lvl.value);
      r.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = shown.dataset.template.replace("{shown}", String(n)).replace("{total}", String(rows.length));
  };
  // dir -1: highest first; students without a value go last either way
  const sort = (key, dir) => {
    for (const th of table.querySelectorAll("th[aria-sort]")) th.removeAttribute("aria-sort");
    const th = table.querySelector('th button[data-sort="' + key + '"]').closest("th");
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    const text = key === "user" || key === "segmentName";
    const value = (r) => (text ? r.dataset[key] : r.dataset[key] === "" ? NaN : Number(r.dataset[key]));
    rows.sort((a, b) => {
      const x = value(a), y = value(b);
      if (text) return dir * x.localeCompare(y);
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
      if (Number.isNaN(y)) return -1;
      return dir * (x - y);
    });
    body.append(...rows);
  };
  for (const button of table.querySelectorAll("th button[data-sort]")) {
    button.addEventListener("click", () => {
      sort(button.dataset.sort, button.closest("th").getAttribute("aria-sort") === "descending" ? 1 : -1);
      sortBy.value = "";
    });
  }
  sortBy.addEventListener("change", () => {
    if (sortBy.value !== "") sort(sortBy.value, sortBy.value === "user" ? 1 : -1);
  });
  q.addEventListener("input", filter);
  seg.addEventListener("change", filter);
  lvl.addEventListener("change", filter);
  filter();
})();`
const scriptHash = createHash("sha256").update(script).digest("base64")

const sortable = (key: string, label: string, hint: string, sorted = false) =>
  `<th scope="col"${sorted ? ` aria-sort="descending"` : ""}><button type="button" data-sort="${key}" title="${escapeHtml(hint)}">${escapeHtml(label)}</button></th>`

const attentionRow = (text: ReportText, row: AttentionRow): string => {
  const segmentName = row.segmentLabel === null ? text.index.noSegment : segmentText(text, row.segmentLabel).name
  const change =
    row.riskChange === null
      ? text.noValue
      : Number(fixed(Math.abs(row.riskChange) * 100, 1)) === 0
        ? `±${text.points(fixed(0, 1))}`
        : `${row.riskChange > 0 ? "▲ +" : "▼ −"}${text.points(fixed(Math.abs(row.riskChange) * 100, 1))}`
  const attrs = [
    ["user", row.userId],
    ["risk", row.risk01 === null ? "" : String(row.risk01)],
    ["change", row.riskChange === null ? "" : String(row.riskChange)],
    ["days", row.daysSinceActive === null ? "" : String(row.daysSinceActive)],
    ["goal", row.goal01 === null ? "" : String(row.goal01)],
    ["segment", row.segmentLabel ?? ""],
    ["segment-name", segmentName],
    ["level", row.level ?? ""]
  ]
    .map(([k, v]) => `data-${k}="${escapeHtml(v!)}"`)
    .join(" ")
  const cls = row.riskChange === null || /^±/.test(change) ? "" : row.riskChange > 0 ? "down" : "up"
  return (
    `<tr ${attrs}>` +
    `<th scope="row"><a href="${encodeURIComponent(reportFileName(row.userId, "html"))}">${escapeHtml(row.userId)}</a></th>` +
    `<td data-field="S" data-label="${escapeHtml(text.index.risk)}">${row.risk01 === null ? text.noValue : `${percent(row.risk01)} ${riskBadge(text, row.level!)}`}</td>` +
    `<td data-field="change" data-label="${escapeHtml(text.index.change)}" class="${cls}">${change}</td>` +
    `<td data-field="days" data-label="${escapeHtml(text.index.lastActive)}">${row.daysSinceActive === null ? text.noValue : escapeHtml(text.index.daysAgo(row.daysSinceActive))}</td>` +
    `<td data-field="P" data-label="${escapeHtml(text.index.goal)}">${row.goal01 === null ? text.noValue : percent(row.goal01)}</td>` +
    `<td data-field="segment" data-label="${escapeHtml(text.index.segment)}">${escapeHtml(segmentName)}</td></tr>`
  )
}

const indexStyle = `
.levels { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 0; padding: 0; list-style: none; }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
.filters input, .filters select { font: inherit; font-size: 15px; padding: 6px 8px; border: 1px solid #8a909c; border-radius: 6px; background: #fff; color: #1d2330; min-height: 40px; }
.filters input { flex: 1 1 180px; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; }
#attention-table { min-width: 640px; }
#attention-table th button { font: inherit; font-weight: 600; color: #2851b8; background: none; border: 0; padding: 0; cursor: pointer; text-align: inherit; text-decoration: underline dotted; }
#attention-table th[aria-sort="descending"] button::after { content: " ▼"; }
#attention-table th[aria-sort="ascending"] button::after { content: " ▲"; }
#attention-table tbody th { font-weight: 600; }
#attention-table tbody th, #attention-table thead th:first-child { position: sticky; left: 0; background: #fff; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 0 16px; }
/* a phone gets one card per student: the student, then each value under its column's name */
@media (max-width: 600px) {
  .filters select { flex: 1 1 140px; }
  .table-wrap { overflow: visible; }
  #attention-table { min-width: 0; }
  #attention-table thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  #attention-table tbody tr { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; padding: 10px 2px; border-bottom: 1px solid #e1e5ec; }
  #attention-table tbody tr[hidden] { display: none; }
  #attention-table tbody th, #attention-table tbody td { display: block; border: 0; padding: 0; text-align: left; white-space: normal; position: static; font-size: 15px; }
  #attention-table tbody th { grid-column: 1 / -1; font-size: 16px; }
  #attention-table tbody td::before { content: attr(data-label); display: block; font-size: 12.5px; color: #4a5263; }
}
@media print { .filters, #attention-table th button::after { display: none; } .table-wrap { overflow: visible; } #attention-table { min-width: 0; } #attention-table th button { color: #1d2330; text-decoration: none; } }
`

/** The teachers' overview of the week (`index.html`): who needs attention first, segments, the cohort's I_t, P. */
export const cohortIndexPage = (overview: CohortOverview, text: ReportText, charts: OverviewCharts): string => {
  const t = text.index
  const levels = (["high", "medium", "low"] as const).map((level) => {
    const n = overview.attention.filter((r) => r.level === level).length
    return `<li><span class="risk risk-${level}" data-level-count="${level}" data-count="${n}">${escapeHtml(t.levelCount(text.churn.levels[level], n))}</span></li>`
  })
  const segmentOptions = overview.segments.map(
    (s) => `<option value="${escapeHtml(s.label)}">${escapeHtml(segmentText(text, s.label).name)} (${s.count})</option>`
  )
  const cohort = overview.cohort
  return `<!doctype html>
<html lang="${text.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${scriptHash}'">
<title>${escapeHtml(t.title)} · ${overview.weekStart}</title>
<style>${pageStyle}${indexStyle}</style>
</head>
<body>
<main class="wide">
<header><h1>${escapeHtml(t.title)}</h1><p>${escapeHtml(text.weekOf(overview.weekStart))} · ${escapeHtml(t.students(overview.attention.length))} · ${escapeHtml(t.intro)}</p>
<ul class="levels">${levels.join("")}</ul></header>
<section id="attention" data-section="attention" aria-labelledby="attention-title">
<h2 id="attention-title">${escapeHtml(t.attention)}</h2>
<p class="note no-print">${escapeHtml(t.attentionHelp)}</p>
<div class="filters no-print">
<input id="filter-student" type="search" placeholder="${escapeHtml(t.search)}" aria-label="${escapeHtml(t.search)}">
<select id="filter-segment" aria-label="${escapeHtml(t.segment)}"><option value="">${escapeHtml(t.allSegments)}</option>${segmentOptions.join("")}</select>
<select id="filter-level" aria-label="${escapeHtml(t.risk)}"><option value="">${escapeHtml(t.allLevels)}</option>${(["high", "medium", "low"] as const).map((l) => `<option value="${l}">${escapeHtml(text.churn.levels[l])}</option>`).join("")}</select>
<select id="sort-by" aria-label="${escapeHtml(t.sortBy)}"><option value="" hidden>${escapeHtml(t.sortBy)}</option>${(["risk", "change", "days", "goal", "user"] as const).map((k) => `<option value="${k}">${escapeHtml(t.sortOptions[k])}</option>`).join("")}</select>
<span id="shown" class="note" role="status" data-template="${escapeHtml(t.shown("{shown}", "{total}"))}">${escapeHtml(t.shown(String(overview.attention.length), String(overview.attention.length)))}</span>
</div>
<div class="table-wrap">
<table id="attention-table">
<thead><tr>${sortable("user", t.student, t.sortHint)}${sortable("risk", t.risk, t.sortHint, true)}${sortable("change", t.change, t.sortHint)}${sortable("days", t.lastActive, t.sortHint)}${sortable("goal", t.goal, t.sortHint)}${sortable("segmentName", t.segment, t.sortHint)}</tr></thead>
<tbody>${overview.attention.map((r) => attentionRow(text, r)).join("\n")}</tbody>
</table>
</div>
</section>
<div class="grid">
<section id="segments" class="keep" data-section="segments" aria-labelledby="segments-title">
<h2 id="segments-title">${escapeHtml(t.segmentsTitle)}</h2>
${overview.segments.length === 0 ? unavailableBlock(text, "segment", { _tag: "Unavailable", reason: "NotRun", detail: "user_segment holds no segment for this week's students" }) : figure("segments", charts.segments, t.segmentsChartTitle, "")}
</section>
<section id="probabilities" class="keep" data-section="probabilities" aria-labelledby="probabilities-title">
<h2 id="probabilities-title">${escapeHtml(t.pTitle)}</h2>
${figure("probabilities", charts.probabilities, t.pChartTitle, t.pCaption)}
</section>
</div>
<section id="cohort" class="keep" data-section="cohort" data-status="${cohort._tag === "Available" ? "available" : "unavailable"}" aria-labelledby="cohort-title">
<h2 id="cohort-title">${escapeHtml(t.cohortTitle)}</h2>
${cohort._tag === "Available" ? `${figure("cohort", charts.cohort, t.cohortChartTitle, t.cohortCaption)}${anomalyNote(text, cohort.anomalies)}` : unavailableBlock(text, "forecast", cohort)}
</section>
</main>
<script>${script}</script>
</body>
</html>
`
}
