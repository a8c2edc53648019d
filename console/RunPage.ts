import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Option } from "effect"
import type { RunRecord } from "../engine/RunStore.ts"
import { reportWeek } from "../stages/report/ReportWeek.ts"
import * as Charts from "./Charts.ts"
import { Console } from "./ConsoleOptions.ts"
import { ConsoleStore } from "./ConsoleStore.ts"
import * as Format from "./Format.ts"
import { html, trusted } from "./Html.ts"
import { page, statusBadge } from "./Layout.ts"
import { runsTable } from "./RunsPage.ts"

/**
 * The stages that ran, as Gantt bars: seconds from the run's start to each stage's start and end; a stage still
 * running (the run is in progress) reaches to `now`.
 */
export const ganttRows = (run: RunRecord, now: Date = new Date()) =>
  run.stages.flatMap((s, order) => {
    if (s.startedAt === null) return []
    const millis = s.millis ?? (s.status === "running" ? Math.max(0, now.getTime() - Date.parse(s.startedAt)) : null)
    if (millis === null) return []
    const from = (Date.parse(s.startedAt) - run.startedAt.getTime()) / 1000
    return [{ stage: s.name, kind: s.kind, order, from, to: from + millis / 1000, seconds: millis / 1000 }]
  })

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/

/** `/runs/<id>`: the run's timeline, stages with rows and notes, its error, what it wrote, other attempts. */
export const runPage = (run: RunRecord) =>
  Effect.gen(function* () {
    const { reportsRoot, token } = yield* Console
    const store = yield* ConsoleStore
    const now = new Date()
    const bars = ganttRows(run, now)
    const gantt =
      bars.length === 0
        ? html`<p class="muted">${run.status === "running" ? "No stage has started yet." : "No stage ran."}</p>`
        : yield* Charts.render("gantt", bars)
    const others = run.slot === null ? [] : yield* store.attempts(run.pipeline, run.slot, run.id)
    const asOf = run.params.asOf
    const week = asOf !== undefined && ISO_DAY.test(asOf) ? reportWeek(asOf).weekStart : undefined
    const reportsExist = week !== undefined && fs.existsSync(path.join(reportsRoot, week))
    const took =
      run.finishedAt === null
        ? now.getTime() - run.startedAt.getTime()
        : run.finishedAt.getTime() - run.startedAt.getTime()
    const body = html`
<dl class="facts card" id="run-facts"><dt>status</dt><dd>${statusBadge(run.status)}</dd>
<dt>pipeline</dt><dd><a href="${`/pipelines/${encodeURIComponent(run.pipeline)}`}">${run.pipeline}</a></dd>
<dt>trigger</dt><dd>${run.trigger}${run.slot === null ? "" : html` (slot <span class="mono">${run.slot}</span>)`}</dd>
<dt>started</dt><dd>${Format.utc(run.startedAt)}</dd><dt>took</dt><dd>${Format.duration(took)}${run.finishedAt === null ? " so far" : ""}</dd>
<dt>parameters</dt><dd class="mono">${
      Object.entries(run.params)
        .map(([k, v]) => `${k}=${v}`)
        .join("  ") || "—"
    }</dd>
${week === undefined ? "" : html`<dt>reports</dt><dd>${reportsExist ? html`<a id="week-reports" href="${`/reports/${week}/`}">reports of the week of ${week}</a>` : html`<span class="muted">no reports for the week of ${week}</span>`}</dd>`}
</dl>
${run.error === null ? "" : html`<div class="refused" id="run-error"><strong>${run.error.tag}${run.error.stage === null ? "" : ` in ${run.error.stage}`}</strong><div class="error">${run.error.message}</div></div>`}
<h2>Timeline</h2>
<figure class="card" id="gantt">${gantt}</figure>
<h2>Stages</h2>
<div class="scroll"><table id="stages"><thead><tr><th>stage</th><th>kind</th><th>status</th><th>took</th><th>rows</th><th class="hide-narrow">notes</th></tr></thead><tbody>${run.stages.map(
      (s) =>
        html`<tr data-stage="${s.name}"><td class="mono">${s.name}</td><td>${s.kind}</td><td>${statusBadge(s.status === "not run" ? "skipped" : s.status)}${s.attempts > 1 ? html` <span class="muted">${s.attempts} attempts</span>` : ""}</td>
<td class="num">${Format.duration(s.millis)}</td><td class="num">${s.rows === null ? "—" : s.rows.toLocaleString("en")}</td>
<td class="hide-narrow mono">${Object.keys(s.notes).length === 0 ? "" : JSON.stringify(s.notes).slice(0, 400)}${s.error === null ? "" : html`<div class="error">${s.error}</div>`}</td></tr>`
    )}</tbody></table></div>
<h2>Written</h2>
${
  run.sinks.length === 0
    ? html`<p class="muted">Nothing was written.</p>`
    : html`<div class="scroll"><table id="sinks"><thead><tr><th>target</th><th>inserted</th><th>updated</th><th>deleted</th></tr></thead><tbody>${run.sinks.map(
        (s) =>
          html`<tr><td class="mono">${s.target}</td><td class="num">${s.inserted}</td><td class="num">${s.updated}</td><td class="num">${s.deleted}</td></tr>`
      )}</tbody></table></div>`
}
${
  run.checks.length === 0
    ? ""
    : html`<h2>Checks</h2><div class="scroll"><table id="checks"><thead><tr><th>sink</th>
<th>check</th><th>severity</th><th>result</th><th class="hide-narrow">sample rows</th></tr></thead><tbody>${run.checks.map(
        (c) =>
          html`<tr class="check-${c.status}"><td class="mono">${c.sink}</td><td class="mono">${c.check}</td>
<td>${c.severity}</td>
<td>${c.status === "passed" ? "passed" : `failed: ${c.failing} of ${c.rows} rows`}</td>
<td class="hide-narrow mono">${c.samples.map((x) => html`<div>${JSON.stringify(x).slice(0, 200)}</div>`)}</td></tr>`
      )}</tbody></table></div>`
}
${others.length === 0 ? "" : html`<h2>Other attempts at this slot</h2>${runsTable(others, now)}`}`
    return page({
      title: `Run ${run.id}`,
      section: "runs",
      readOnly: Option.isNone(token),
      body,
      // a run in progress is followed until it ends (its stage records arrive when it finishes)
      ...(run.status === "running" ? { script: trusted("setTimeout(function () { location.reload() }, 3000)") } : {})
    })
  })
