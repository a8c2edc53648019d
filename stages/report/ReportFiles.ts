import { Data, Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { churnRows, forecastRows, growthRows, make as makeCharts, type ReportCharts } from "./ReportCharts.ts"
import { cohortIndexPage, reportFileName, reportPage } from "./ReportPage.ts"
import { launch } from "./ReportPrinter.ts"
import type { ReportText } from "./ReportText.ts"
import type { StudentReport } from "./StudentReport.ts"

/** A report file could not be written, moved or removed. */
export class ReportFileError extends Data.TaggedError("ReportFileError")<{
  readonly reason: "Write" | "Move" | "Remove"
  readonly path: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `Report file ${this.reason.toLowerCase()} failed for ${this.path}: ${String((this.cause as Error | undefined)?.message ?? this.cause)}`
  }
}

/** A file system step, as an Effect failing with ReportFileError. */
export const fileStep = <A>(reason: ReportFileError["reason"], target: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new ReportFileError({ reason, path: target, cause }) })

/** One rendered file of one student. */
export interface RenderedFile {
  readonly user_id: string
  readonly format: "html" | "pdf"
  /** The file's name inside the week's folder. */
  readonly file: string
}

/** What to render and where. */
export interface RenderOptions {
  readonly folder: string
  readonly text: ReportText
  readonly pdf: boolean
  readonly chromiumPath: string
  readonly weekStart: string
}

/** One student's page: the charts of its available sections rendered with the run's parsed specs. */
export const renderPage = Effect.fn("ReportFiles.renderPage")(function*(charts: ReportCharts, report: StudentReport, text: ReportText) {
  const growth = report.growth._tag === "Available" ? yield* charts.render("growth", growthRows(report.growth)) : undefined
  const forecast = report.forecast._tag === "Available" ? yield* charts.render("forecast", forecastRows(report.forecast)) : undefined
  const churn = report.churn._tag === "Available" ? yield* charts.render("churn", churnRows(report.churn)) : undefined
  return reportPage(report, text, {
    ...(growth === undefined ? {} : { growth }),
    ...(forecast === undefined ? {} : { forecast }),
    ...(churn === undefined ? {} : { churn })
  })
})

/**
 * Renders every student's page (and the cohort index) into `folder`, then, when asked, prints each page to PDF with
 * one Chromium for all of them. Returns the files written, per student and format.
 */
export const renderReports = (reports: ReadonlyArray<StudentReport>, options: RenderOptions) =>
  Effect.scoped(renderInto(reports, options)).pipe(Effect.withSpan("ReportFiles.renderReports", { attributes: { students: reports.length } }))

const renderInto = (reports: ReadonlyArray<StudentReport>, options: RenderOptions) => Effect.gen(function*() {
  const charts = yield* makeCharts
  yield* fileStep("Write", options.folder, () => fs.mkdir(options.folder, { recursive: true }))
  const html = yield* Effect.forEach(reports, (report) =>
    Effect.gen(function*() {
      const page = yield* renderPage(charts, report, options.text)
      const file = reportFileName(report.userId, "html")
      yield* fileStep("Write", path.join(options.folder, file), () => fs.writeFile(path.join(options.folder, file), page))
      return { user_id: report.userId, format: "html", file } satisfies RenderedFile
    }))
  const index = path.join(options.folder, "index.html")
  yield* fileStep("Write", index, () => fs.writeFile(index, cohortIndexPage(reports, options.text, options.weekStart)))
  if (!options.pdf) return html
  const pdf = yield* Effect.scoped(Effect.gen(function*() {
    const printer = yield* launch(options.chromiumPath)
    return yield* Effect.forEach(html, (h) => {
      const file = reportFileName(h.user_id, "pdf")
      return Effect.as(
        printer.print(path.join(options.folder, h.file), path.join(options.folder, file)),
        { user_id: h.user_id, format: "pdf", file } satisfies RenderedFile
      )
    }, { concurrency: 2 })
  }))
  return [...html, ...pdf]
})
