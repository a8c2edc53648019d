import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Option } from "effect"
import { describe } from "../engine/Errors.ts"
import { RunStore } from "../engine/RunStore.ts"
import { runAction } from "./Actions.ts"
import { Console, type ConsoleOptions } from "./ConsoleOptions.ts"
import { graphPage } from "./GraphPage.ts"
import { type Html, html } from "./Html.ts"
import { page } from "./Layout.ts"
import { modelsPage } from "./ModelsPage.ts"
import { pipelinePage } from "./PipelinePage.ts"
import { reportFile, reportsPage } from "./ReportsPage.ts"
import { runPage } from "./RunPage.ts"
import { runsPage } from "./RunsPage.ts"
import { schedulePage } from "./SchedulePage.ts"

export { type ConsoleOptions, ConsoleRunFailed, type ConsoleRunner } from "./ConsoleOptions.ts"
export { ConsoleStore } from "./ConsoleStore.ts"

// the console's own pages run inline script and styles only; nothing is loaded from elsewhere
const headers = {
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store"
}

const htmlResponse = (markup: Html, status = 200) =>
  HttpServerResponse.text(markup.text, { status, contentType: "text/html; charset=utf-8", headers })

const notFound = (what: string) =>
  Effect.map(Console, ({ token }) =>
    htmlResponse(
      page({
        title: "Not found",
        section: null,
        readOnly: Option.isNone(token),
        body: html`<p id="not-found">${what}</p>`
      }),
      404
    )
  )

const pipelineNamed = <A, E, R>(
  f: (
    p: Parameters<ConsoleOptions["registry"]["get"]>[0] extends string ? import("../engine/Pipeline.ts").Any : never
  ) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const { registry } = yield* Console
    const { name } = yield* HttpRouter.params
    const found = yield* Effect.option(registry.get(name ?? ""))
    return Option.isNone(found)
      ? yield* notFound(`There is no pipeline named "${name ?? ""}".`)
      : yield* Effect.map(f(found.value), (r) => r as A | HttpServerResponse.HttpServerResponse)
  })

const htmlPage = <E, R>(effect: Effect.Effect<Html, E, R>) => Effect.map(effect, (markup) => htmlResponse(markup))

/**
 * The console as an `@effect/platform` router: mount it in any HTTP server (it needs a `ConsoleStore` and a
 * `RunStore`, i.e. a SqlClient); `seedtest ui` serves it on its own. Failures become a 500 page with the message.
 */
export const router = (options: ConsoleOptions) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/", htmlPage(graphPage)),
    HttpRouter.get(
      "/pipelines/:name",
      pipelineNamed((p) => htmlPage(pipelinePage(p)))
    ),
    HttpRouter.post("/pipelines/:name/run", pipelineNamed(runAction)),
    HttpRouter.get(
      "/runs",
      Effect.flatMap(HttpServerRequest.ParsedSearchParams, (query) =>
        htmlPage(
          runsPage(
            Object.fromEntries(Object.entries(query).map(([k, v]) => [k, typeof v === "string" ? v : v[0]] as const))
          )
        )
      )
    ),
    HttpRouter.get(
      "/runs/:id",
      Effect.gen(function* () {
        const { id } = yield* HttpRouter.params
        const run = yield* (yield* RunStore).get(id ?? "")
        return Option.isNone(run)
          ? yield* notFound(`There is no run with id "${id ?? ""}".`)
          : yield* htmlPage(runPage(run.value))
      })
    ),
    HttpRouter.get("/schedule", htmlPage(schedulePage)),
    HttpRouter.get("/models", htmlPage(modelsPage)),
    HttpRouter.get("/reports", htmlPage(reportsPage)),
    HttpRouter.get(
      "/reports/:week",
      Effect.map(HttpRouter.params, ({ week }) =>
        HttpServerResponse.redirect(`/reports/${encodeURIComponent(week ?? "")}/index.html`, { status: 302 })
      )
    ),
    HttpRouter.get(
      "/reports/:week/:file",
      Effect.gen(function* () {
        const { file, week } = yield* HttpRouter.params
        return yield* reportFile(week ?? "", file ?? "").pipe(
          Effect.catchTag("ReportNotFound", (e) => notFound(e.message))
        )
      })
    ),
    HttpRouter.catchAllCause((cause) =>
      Effect.gen(function* () {
        const failure = Cause.failureOption(cause)
        if (Option.exists(failure, (e) => (e as { _tag?: string })._tag === "RouteNotFound"))
          return yield* notFound("There is no such page.")
        yield* Effect.logError("console page failed", cause)
        const message = Option.match(failure, {
          onNone: () => "an internal error (see the console's log)",
          onSome: describe
        })
        return htmlResponse(
          page({
            title: "Something failed",
            section: null,
            readOnly: Option.isNone(options.token),
            body: html`<p class="error" id="page-error">${message}</p>`
          }),
          500
        )
      })
    ),
    HttpRouter.provideService(Console, options)
  )
