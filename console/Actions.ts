import { timingSafeEqual } from "node:crypto"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Option, Redacted, Schedule } from "effect"
import * as Param from "../engine/Param.ts"
import type * as Pipeline from "../engine/Pipeline.ts"
import { makeRunId } from "../engine/Runner.ts"
import { RunStore } from "../engine/RunStore.ts"
import { Console } from "./ConsoleOptions.ts"
import * as Format from "./Format.ts"
import { type Html, html } from "./Html.ts"
import { page } from "./Layout.ts"
import { runForm } from "./PipelinePage.ts"

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Why the console refused a state-changing request. */
export type Refusal = "ReadOnly" | "Csrf" | "BadToken"

/** The sentence a person sees for each refusal. */
export const refusalText: Record<Refusal, string> = {
  ReadOnly:
    "This console is read-only: SEEDTEST_UI_TOKEN is not set, so it cannot run pipelines. Start `seedtest ui` with SEEDTEST_UI_TOKEN set to enable runs and dry runs.",
  Csrf: "The request did not come from this console's own form (cross-site request check failed). Reload the pipeline page and submit again.",
  BadToken: "The console token is wrong: enter the value of SEEDTEST_UI_TOKEN that `seedtest ui` was started with."
}

/**
 * Whether a form submission may change state: it must come from this console's page (same origin when the browser
 * says, and the per-process CSRF value of the form) and carry the console token; with no token configured, never.
 */
export const authorize = (request: HttpServerRequest.HttpServerRequest, form: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const { csrfSecret, token } = yield* Console
    const origin = request.headers["origin"]
    const host = request.headers["host"]
    const fetchSite = request.headers["sec-fetch-site"]
    const crossSite =
      (origin !== undefined && origin !== "null" && host !== undefined && new URL(origin).host !== host) ||
      (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none")
    if (crossSite || !sameSecret(form.csrf ?? "", csrfSecret)) return Option.some<Refusal>("Csrf")
    if (Option.isNone(token)) return Option.some<Refusal>("ReadOnly")
    if (!sameSecret(form.token ?? "", Redacted.value(token.value))) return Option.some<Refusal>("BadToken")
    return Option.none<Refusal>()
  })

const htmlResponse = (markup: Html, status: number) =>
  HttpServerResponse.text(markup.text, { status, contentType: "text/html; charset=utf-8" })

/** `POST /pipelines/<name>/run`: a dry run (answered with what it would write) or a run (redirect to its page). */
export const runAction = (pipeline: Pipeline.Any) =>
  Effect.gen(function* () {
    const options = yield* Console
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* request.urlParamsBody
    const form = Object.fromEntries(body.map(([k, v]) => [k, v] as const))
    const overrides = Object.fromEntries(
      body
        .filter(([k, v]) => k.startsWith("param.") && v.trim() !== "")
        .map(([k, v]) => [k.slice("param.".length), v.trim()] as const)
    )
    const readOnly = Option.isNone(options.token)
    const answer = (status: number, message: Html) =>
      htmlResponse(
        page({
          title: pipeline.name,
          section: "graph",
          readOnly,
          body: html`${message}${runForm(pipeline, options.csrfSecret, readOnly, overrides)}<p><a href="${`/pipelines/${encodeURIComponent(pipeline.name)}`}">← back to ${pipeline.name}</a></p>`
        }),
        status
      )
    const refusal = yield* authorize(request, form)
    if (Option.isSome(refusal)) {
      return answer(
        403,
        html`<p class="refused" id="refusal" data-reason="${refusal.value}">${refusalText[refusal.value]}</p>`
      )
    }
    const valid = yield* Effect.either(Param.resolve(pipeline.name, pipeline.params as Param.Fields, overrides))
    if (valid._tag === "Left")
      return answer(400, html`<p class="refused" id="refusal" data-reason="BadParam">${valid.left.message}</p>`)
    if (form.mode === "dry-run") {
      const report = yield* Effect.either(options.runner.dryRun(pipeline, overrides))
      if (report._tag === "Left")
        return answer(200, html`<p class="refused" id="dry-run-failed">The dry run failed: ${report.left.message}</p>`)
      const r = report.right
      return answer(
        200,
        html`<div class="card" id="dry-run-result"><p><strong>Dry run of ${r.pipeline}</strong> in ${Format.duration(r.millis)}: nothing was written. It would:</p>
<div class="scroll"><table><thead><tr><th>target</th><th>rows</th><th>inserts</th><th>updates</th><th>unchanged</th><th>deletes</th></tr></thead><tbody>${r.sinks.map(
          (s) =>
            html`<tr><td class="mono">${s.target}</td><td class="num">${s.rows}</td><td class="num">${s.inserts}</td><td class="num">${s.updates}</td><td class="num">${s.unchanged}</td><td class="num">${s.deletes}</td></tr>`
        )}</tbody></table></div>
<p class="muted">parameters: <span class="mono">${Object.entries(r.params)
          .map(([k, v]) => `${k}=${v}`)
          .join("  ")}</span></p></div>`
      )
    }
    const runId = makeRunId()
    // the run outlives this request: it is recorded in pipeline_run like a CLI run, and its page follows it
    yield* Effect.forkDaemon(options.runner.run(pipeline, overrides, runId))
    const store = yield* RunStore
    yield* store.get(runId).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("not yet" as const), onSome: Effect.succeed })),
      // the run records itself as it starts: wait for that (briefly) so its page exists when the browser arrives
      Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("5 seconds"))),
      Effect.ignore
    )
    return HttpServerResponse.redirect(`/runs/${encodeURIComponent(runId)}`, { status: 303 })
  })
