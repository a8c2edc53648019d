import * as fs from "node:fs"
import * as path from "node:path"
import { HttpServerResponse } from "@effect/platform"
import { Data, Effect, Option } from "effect"
import { Console } from "./ConsoleOptions.ts"
import { html } from "./Html.ts"
import { page } from "./Layout.ts"

/** A reports folder or file that cannot be served: absent, or a name that could leave the reports folder. */
export class ReportNotFound extends Data.TaggedError("ReportNotFound")<{
  readonly reason: "BadName" | "Missing"
  readonly week: string
  readonly file: string
}> {
  override get message(): string {
    return this.reason === "BadName"
      ? `"${this.week}/${this.file}" is not a report file name.`
      : `There is no report "${this.file}" for the week of ${this.week}.`
  }
}

const WEEK = /^\d{4}-\d{2}-\d{2}$/
// plain file names only: no separators, no leading dot (so no "..", no hidden staging folders)
const FILE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.(html|pdf)$/
const types: Record<string, string> = { html: "text/html; charset=utf-8", pdf: "application/pdf" }

/** The week folders the report pipeline wrote (`YYYY-MM-DD`), newest first, with their number of files. */
export const reportWeeks = (root: string): ReadonlyArray<{ readonly week: string; readonly files: number }> => {
  let entries: Array<fs.Dirent>
  try {
    entries = fs.readdirSync(root, { withFileTypes: true })
  } catch {
    return []
  }
  return entries
    .filter((e) => e.isDirectory() && WEEK.test(e.name))
    .map((e) => ({ week: e.name, files: fs.readdirSync(path.join(root, e.name)).filter((f) => FILE.test(f)).length }))
    .sort((a, b) => b.week.localeCompare(a.week))
}

/** `/reports`: the weeks with reports. */
export const reportsPage = Effect.gen(function* () {
  const { reportsRoot, token } = yield* Console
  const weeks = reportWeeks(reportsRoot)
  const body =
    weeks.length === 0
      ? html`<p class="muted" id="no-reports">No reports yet in <code>${reportsRoot}</code>: run <code>generate-weekly-report</code>.</p>`
      : html`<div class="scroll"><table id="report-weeks"><thead><tr><th>week of</th><th>files</th></tr></thead><tbody>${weeks.map(
          (w) =>
            html`<tr><td><a href="${`/reports/${w.week}/index.html`}">${w.week}</a></td><td class="num">${w.files}</td></tr>`
        )}</tbody></table></div>`
  return page({ title: "Reports", section: "reports", readOnly: Option.isNone(token), body })
})

/**
 * One file of a week's reports, read from `<reportsRoot>/<week>/<file>`. Names are checked against strict patterns
 * and the resolved path must stay inside the reports folder, so no request reaches another file.
 */
export const reportFile = (week: string, file: string) =>
  Effect.gen(function* () {
    const { reportsRoot } = yield* Console
    if (!WEEK.test(week) || !FILE.test(file)) return yield* new ReportNotFound({ reason: "BadName", week, file })
    const root = path.resolve(reportsRoot)
    const full = path.resolve(root, week, file)
    if (!full.startsWith(root + path.sep)) return yield* new ReportNotFound({ reason: "BadName", week, file })
    const body = yield* Effect.tryPromise({
      try: () => fs.promises.readFile(full),
      catch: () => new ReportNotFound({ reason: "Missing", week, file })
    })
    return HttpServerResponse.uint8Array(body, {
      contentType: types[path.extname(file).slice(1)]!,
      // the reports are self-contained pages: they may not load or send anything
      headers: {
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:",
        "x-content-type-options": "nosniff"
      }
    })
  })
