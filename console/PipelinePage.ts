import { Effect, Either, Option } from "effect"
import * as Param from "../engine/Param.ts"
import type * as Pipeline from "../engine/Pipeline.ts"
import * as Plan from "../engine/Plan.ts"
import * as Charts from "./Charts.ts"
import { Console } from "./ConsoleOptions.ts"
import { ConsoleStore } from "./ConsoleStore.ts"
import * as Format from "./Format.ts"
import * as GraphLayout from "./GraphLayout.ts"
import { type Html, html } from "./Html.ts"
import { page } from "./Layout.ts"
import { runsTable } from "./RunsPage.ts"

/** The values a run would get now for each parameter (environment, else default), or why one is invalid. */
const currentValues = (pipeline: Pipeline.Any) =>
  Param.resolve(pipeline.name, pipeline.params as Param.Fields, {}).pipe(
    Effect.map((values) => Either.right(Param.encode(pipeline.params as Param.Fields, values))),
    Effect.catchAll((error) => Effect.succeed(Either.left(error.message)))
  )

/** The form that dry-runs or runs a pipeline; shown always, so read-only mode can say why it refuses. */
export const runForm = (
  pipeline: Pipeline.Any,
  csrf: string,
  readOnly: boolean,
  values: Readonly<Record<string, string>> = {}
): Html => {
  const plan = Plan.ofPipeline(pipeline)
  return html`<form class="card" id="run-form" method="post" action="${`/pipelines/${encodeURIComponent(pipeline.name)}/run`}">
<input type="hidden" name="csrf" value="${csrf}">
${readOnly ? html`<p class="notice" id="read-only-notice">This console is read-only: SEEDTEST_UI_TOKEN is not set, so runs cannot be started from here.</p>` : ""}
<div class="grid">${plan.params.map(
    (p) =>
      html`<label>${p.name}${p.env === null ? "" : html` <span class="mono">(${p.env})</span>`}<input name="${`param.${p.name}`}" value="${values[p.name] ?? ""}" placeholder="${p.default === "" ? "(default)" : p.default}"></label>`
  )}<label>console token<input type="password" name="token" autocomplete="current-password"${readOnly ? html` disabled` : ""}></label></div>
<p style="display:flex;gap:8px;flex-wrap:wrap;margin-bottom:0"><button type="submit" name="mode" value="dry-run" class="secondary" id="dry-run-button">Dry run</button>
<button type="submit" name="mode" value="run" id="run-button">Run</button>
<span class="muted">Empty fields take the value shown under “parameters”.</span></p></form>`
}

/** `/pipelines/<name>`: the stage DAG, parameters, recent runs, duration trend, and the run form. */
export const pipelinePage = (pipeline: Pipeline.Any) =>
  Effect.gen(function* () {
    const { csrfSecret, token } = yield* Console
    const store = yield* ConsoleStore
    const plan = Plan.ofPipeline(pipeline)
    const stages = plan.levels.flat()
    const dag = yield* GraphLayout.render(
      stages.map((s) => ({
        id: s.name,
        lines: [
          s.name,
          s.kind,
          ...GraphLayout.resourceLines(s.reads).map((r) => `reads ${r}`),
          ...GraphLayout.resourceLines(s.writes).map((w) => `writes ${w}`)
        ],
        tone: s.kind as "source" | "transform" | "model" | "sink"
      })),
      stages.flatMap((s) => s.inputs.map((i) => ({ from: i, to: s.name }))),
      { label: `stages of ${pipeline.name}` }
    )
    const current = yield* currentValues(pipeline)
    const recent = yield* store.runs({
      pipeline: pipeline.name,
      status: undefined,
      trigger: undefined,
      limit: 10,
      offset: 0
    })
    const finished = yield* store.durations(pipeline.name, 60)
    const trend =
      finished.length === 0
        ? html`<p class="muted">No finished runs yet.</p>`
        : yield* Charts.render(
            "durationTrend",
            finished.map((r) => ({
              started: r.started_at.getTime(),
              seconds: (r.finished_at.getTime() - r.started_at.getTime()) / 1000,
              status: r.status
            }))
          )
    const body = html`
<p>${plan.description}</p>
<dl class="facts card"><dt>reads</dt><dd class="mono">${plan.reads.join(", ") || "—"}</dd><dt>writes</dt><dd class="mono">${plan.writes.join(", ") || "—"}</dd></dl>
<h2>Stages</h2>
<div class="card scroll graph" id="stage-graph">${dag}</div>
<h2>Parameters</h2>
${Either.isLeft(current) ? html`<p class="error">${current.left}</p>` : ""}
<div class="scroll"><table id="params"><thead><tr><th>parameter</th><th>env variable</th><th>default</th><th>current value</th><th class="hide-narrow">meaning</th></tr></thead><tbody>${plan.params.map(
      (p) =>
        html`<tr><td class="mono">${p.name}</td><td class="mono">${p.env ?? "—"}</td><td class="mono">${p.default}</td><td class="mono">${Either.match(
          current,
          { onLeft: () => "?", onRight: (v) => v[p.name] ?? "" }
        )}</td><td class="hide-narrow">${p.description}</td></tr>`
    )}</tbody></table></div>
<h2>Run it</h2>
${runForm(pipeline, csrfSecret, Option.isNone(token))}
<h2>Recent runs</h2>
${runsTable(recent.rows, new Date())}
<p><a href="${`/runs?pipeline=${encodeURIComponent(pipeline.name)}`}">All runs of ${pipeline.name} →</a></p>
<h2>Duration trend</h2>
<figure class="card" id="duration-trend">${trend}${
      finished.length === 0
        ? ""
        : html`<figcaption class="muted">Last ${finished.length} finished runs; ${Format.duration(
            finished.reduce((s, r) => s + r.finished_at.getTime() - r.started_at.getTime(), 0) / finished.length
          )} on average.</figcaption>`
    }</figure>`
    return page({ title: pipeline.name, section: "graph", readOnly: Option.isNone(token), body })
  })
