import { Effect, Option } from "effect"
import { Trigger } from "../engine/RunStore.ts"
import { Console } from "./ConsoleOptions.ts"
import { ConsoleStore, type RunFilter, type RunSummary } from "./ConsoleStore.ts"
import * as Format from "./Format.ts"
import { type Html, href, html, trusted } from "./Html.ts"
import { page, statusBadge } from "./Layout.ts"

/** Runs as a table: status, pipeline, trigger, start, duration, error. */
export const runsTable = (runs: ReadonlyArray<RunSummary>, now: Date): Html =>
  runs.length === 0
    ? html`<p class="muted" id="no-runs">No runs.</p>`
    : html`<div class="scroll"><table class="runs"><thead><tr><th>status</th><th>run</th><th>pipeline</th><th class="hide-narrow">trigger</th><th>started</th><th>took</th></tr></thead><tbody>${runs.map(
        (r) =>
          html`<tr data-run="${r.id}" data-status="${r.status}"><td>${statusBadge(r.status)}</td>
<td><a class="mono" href="${`/runs/${encodeURIComponent(r.id)}`}">${r.id}</a>${r.error === null ? "" : html`<div class="error">${r.error.message.slice(0, 160)}</div>`}</td>
<td><a href="${`/pipelines/${encodeURIComponent(r.pipeline)}`}">${r.pipeline}</a></td><td class="hide-narrow">${r.trigger}</td>
<td title="${Format.utc(r.started_at)}">${Format.relative(r.started_at, now)}</td>
<td class="num">${r.finished_at === null ? Format.duration(now.getTime() - r.started_at.getTime()) + "…" : Format.duration(r.finished_at.getTime() - r.started_at.getTime())}</td></tr>`
      )}</tbody></table></div>`

const PAGE = 50

/** The filter of a `/runs` request; unknown values are ignored rather than matching nothing. */
export const runFilter = (query: Readonly<Record<string, string | undefined>>): RunFilter => {
  const pick = (value: string | undefined, allowed?: ReadonlyArray<string>) =>
    value === undefined || value === "" || (allowed !== undefined && !allowed.includes(value)) ? undefined : value
  const page = Math.max(1, Math.min(10_000, Math.floor(Number(query.page ?? "1")) || 1))
  return {
    pipeline: pick(query.pipeline),
    status: pick(query.status, ["running", "succeeded", "failed"]),
    trigger: pick(query.trigger, Trigger.literals),
    limit: PAGE,
    offset: (page - 1) * PAGE
  }
}

// page 1 re-fetches its table every 2 s, so runs started elsewhere (the CLI, the scheduler) appear and finish live
const live = trusted(`
(function () {
  var box = document.getElementById("runs-live");
  if (!box) return;
  var url = new URL(location.href); url.searchParams.set("fragment", "1");
  setInterval(function () {
    fetch(url, { headers: { accept: "text/html" } }).then(function (r) { return r.ok ? r.text() : null })
      .then(function (t) { if (t !== null) { box.innerHTML = t; box.setAttribute("data-updated", String(Date.now())); } })
      .catch(function () {});
  }, 2000);
})();`)

/** `/runs`: the history, filterable and paginated; `fragment=1` returns only the table (for the live update). */
export const runsPage = (query: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function* () {
    const { registry, token } = yield* Console
    const store = yield* ConsoleStore
    const filter = runFilter(query)
    const { more, rows } = yield* store.runs(filter)
    const now = new Date()
    const table = runsTable(rows, now)
    if (query.fragment === "1") return table
    const pageNo = filter.offset / PAGE + 1
    const keep = { pipeline: filter.pipeline, status: filter.status, trigger: filter.trigger }
    const select = (name: string, values: ReadonlyArray<string>, current: string | undefined) =>
      html`<label>${name}<select name="${name}"><option value="">all</option>${values.map(
        (v) => html`<option${v === current ? trusted(" selected") : ""}>${v}</option>`
      )}</select></label>`
    const body = html`
<form class="filters" method="get" action="/runs">${select("pipeline", registry.order, filter.pipeline)}${select("status", ["running", "succeeded", "failed"], filter.status)}${select(
      "trigger",
      Trigger.literals,
      filter.trigger
    )}<button type="submit">Filter</button></form>
<div id="runs-live" data-page="${pageNo}">${table}</div>
<div class="pager">${pageNo > 1 ? html`<a href="${href("/runs", { ...keep, page: pageNo - 1 })}" rel="prev">← newer</a>` : ""}<span class="muted">page ${pageNo}</span>${
      more ? html`<a href="${href("/runs", { ...keep, page: pageNo + 1 })}" rel="next">older →</a>` : ""
    }</div>
${pageNo === 1 ? html`<p class="muted">This page updates itself every 2 seconds.</p>` : ""}`
    return page({
      title: "Runs",
      section: "runs",
      readOnly: Option.isNone(token),
      body,
      ...(pageNo === 1 ? { script: live } : {})
    })
  })
