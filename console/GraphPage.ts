import { Effect, Option } from "effect"
import * as Plan from "../engine/Plan.ts"
import { Console } from "./ConsoleOptions.ts"
import { ConsoleStore, type RunSummary } from "./ConsoleStore.ts"
import * as Format from "./Format.ts"
import * as GraphLayout from "./GraphLayout.ts"
import { href, html } from "./Html.ts"
import { page, statusBadge } from "./Layout.ts"
import { cachedUpcoming } from "./UpcomingFires.ts"

const runDuration = (r: RunSummary): number | null =>
  r.finished_at === null ? null : r.finished_at.getTime() - r.started_at.getTime()

/** `/`: every pipeline, the resource on each edge, each pipeline's last run and next fire. */
export const graphPage = Effect.gen(function* () {
  const { registry, schedule, token } = yield* Console
  const store = yield* ConsoleStore
  const now = new Date()
  const latest = new Map((yield* store.latestRuns(registry.order)).map((r) => [r.pipeline, r] as const))
  const plan = Plan.ofRegistry(registry, schedule, now)
  const upcoming = yield* cachedUpcoming(registry, schedule)
  // a pipeline that fires rarely may be past the cached list: then its cron's own next fire
  const nextOf = (name: string) =>
    Option.orElse(
      Option.map(Option.fromNullable(upcoming.find((u) => u.pipeline === name)), (u) => u.startsAfter),
      () => Option.map(Option.fromNullable(plan.order.find((p) => p.name === name)?.next[0]), (iso) => new Date(iso))
    )
  const lastLine = (name: string) => {
    const r = latest.get(name)
    return r === undefined
      ? "last run: never"
      : `last: ${r.status} ${Format.relative(r.started_at, now)}, ${Format.duration(runDuration(r))}`
  }
  const nextLine = (name: string) =>
    Option.match(nextOf(name), { onNone: () => "next: not scheduled", onSome: (at) => `next: ${Format.utc(at)}` })
  const svg = yield* GraphLayout.render(
    registry.order.map((name) => ({
      id: name,
      lines: [name, lastLine(name), nextLine(name)],
      href: `/pipelines/${encodeURIComponent(name)}`,
      tone: latest.get(name)?.status ?? "none"
    })),
    registry.edges.map((e) => ({
      from: e.from,
      to: e.to,
      label: GraphLayout.resourceLines(e.resources),
      resources: e.resources
    })),
    { label: "pipelines and the resources between them" }
  )
  const body = html`
<p class="muted">Each arrow goes from the pipeline that writes a resource to the pipeline that reads it; its label is the resource.</p>
<div class="card scroll graph" id="graph">${svg}</div>
<h2>Pipelines in execution order</h2>
<div class="scroll"><table id="pipelines"><thead><tr><th>pipeline</th><th>last run</th><th class="hide-narrow">took</th><th>next fire</th><th class="hide-narrow">reads from</th></tr></thead><tbody>${plan.order.map(
    (p) => {
      const r = latest.get(p.name)
      return html`<tr data-pipeline="${p.name}"><td><a href="${`/pipelines/${encodeURIComponent(p.name)}`}">${p.name}</a></td>
<td>${r === undefined ? html`<span class="muted">never</span>` : html`${statusBadge(r.status)} <a href="${`/runs/${encodeURIComponent(r.id)}`}">${Format.relative(r.started_at, now)}</a>`}</td>
<td class="hide-narrow">${r === undefined ? "" : Format.duration(runDuration(r))}</td>
<td>${Option.match(nextOf(p.name), { onNone: () => html`<span class="muted">not scheduled</span>`, onSome: Format.utc })}</td>
<td class="hide-narrow">${p.after.length === 0 ? "—" : p.after.join(", ")}</td></tr>`
    }
  )}</tbody></table></div>
<h2>Edges</h2>
<div class="scroll"><table id="edges"><thead><tr><th>writer</th><th>reader</th><th>resources</th></tr></thead><tbody>${plan.edges.map(
    (e) => html`<tr><td>${e.from}</td><td>${e.to}</td><td class="mono">${e.resources.join(", ")}</td></tr>`
  )}</tbody></table></div>
<p><a href="${href("/schedule")}">Upcoming fires and slot history →</a></p>`
  return page({ title: "Pipeline graph", section: "graph", readOnly: Option.isNone(token), body })
})
