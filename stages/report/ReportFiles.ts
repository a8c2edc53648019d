import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Duration, Effect, Either } from "effect"
import { fileStep } from "../../sinks/ReportFileError.ts"
import { cohortIndexPage, cohortOverview, type OverviewCharts } from "./CohortOverview.ts"
import {
  churnRows,
  forecastRows,
  growthRows,
  make as makeCharts,
  probabilityRows,
  type ReportCharts,
  segmentRows
} from "./ReportCharts.ts"
import { fixed, percent, type RenderedChart, reportFileName, reportPage } from "./ReportPage.ts"
import { launch } from "./ReportPrinter.ts"
import { type ReportText, segmentText } from "./ReportText.ts"
import type { Churn, Forecast, Growth, Section, StudentReport } from "./StudentReport.ts"

/** One rendered file of one student. */
export interface RenderedFile {
  readonly user_id: string
  readonly format: "html" | "pdf"
  /** The file's name inside the week's folder. */
  readonly file: string
}

/** A student's PDF that could not be printed, after its retry. */
export interface FailedPdf {
  readonly user_id: string
  readonly file: string
  readonly error: string
}

/** What a render wrote, and the PDFs it could not print (the week's other files are still good). */
export interface RenderResult {
  readonly files: ReadonlyArray<RenderedFile>
  readonly failedPdfs: ReadonlyArray<FailedPdf>
}

/** What to render and where. */
export interface RenderOptions {
  readonly folder: string
  readonly text: ReportText
  readonly pdf: boolean
  readonly chromiumPath: string
  readonly weekStart: string
  /** The cohort's I_t forecast for the overview. */
  readonly cohort: Section<Forecast>
  /** Tabs printing at once (default 3) and the time one page may take (default 30 s; one retry after that). */
  readonly pdfPages?: number
  readonly pdfPageTimeout?: Duration.DurationInput
}

const growthAlt = (text: ReportText, g: Growth): string => {
  const atHorizon = g.trend.find((p) => p.week === g.horizonWeek)
  return text.growth.alt({
    weeks: g.accuracy.length,
    first: g.accuracy[0] === undefined ? null : percent(g.accuracy[0].value),
    last: g.accuracy.at(-1) === undefined ? null : percent(g.accuracy.at(-1)!.value),
    horizonWeeks: g.horizonWeeks,
    expected: percent(atHorizon?.mean ?? (g.lower95 + g.upper95) / 2),
    lower: percent(g.lower95),
    upper: percent(g.upper95),
    target: percent(g.target01),
    probability: percent(g.probability01)
  })
}

const forecastAlt = (text: ReportText, f: Forecast): string => {
  const end = f.forecast.at(-1)
  return text.forecast.alt({
    weeks: f.history.length,
    last: f.history.at(-1) === undefined ? null : fixed(f.history.at(-1)!.value, 3),
    horizonWeeks: f.forecast.length,
    forecastEnd: end === undefined ? text.noValue : fixed(end.mean, 3),
    lower: end === undefined ? text.noValue : fixed(end.lower, 3),
    upper: end === undefined ? text.noValue : fixed(end.upper, 3),
    anomalies: f.anomalies.length
  })
}

const churnAlt = (text: ReportText, c: Churn): string => text.churn.alt(percent(c.risk01), text.churn.levels[c.level])

const chart = (
  charts: ReportCharts,
  name: Parameters<ReportCharts["render"]>[0],
  rows: ReadonlyArray<object>,
  alt: string
) => Effect.map(charts.render(name, rows), (svg): RenderedChart => ({ svg, alt }))

/** One student's page: the charts of its available sections rendered with the run's parsed specs. */
export const renderPage = Effect.fn("ReportFiles.renderPage")(function* (
  charts: ReportCharts,
  report: StudentReport,
  text: ReportText
) {
  const g = report.growth
  const growth =
    g._tag === "Available"
      ? yield* chart(
          charts,
          "growth",
          growthRows(g, {
            target: text.growth.targetLabel(percent(g.target01)),
            probability: text.growth.probabilityLabel(percent(g.probability01))
          }),
          growthAlt(text, g)
        )
      : undefined
  const forecast =
    report.forecast._tag === "Available"
      ? yield* chart(charts, "forecast", forecastRows(report.forecast), forecastAlt(text, report.forecast))
      : undefined
  const churn =
    report.churn._tag === "Available"
      ? yield* chart(charts, "churn", churnRows(report.churn), churnAlt(text, report.churn))
      : undefined
  return reportPage(report, text, {
    ...(growth === undefined ? {} : { growth }),
    ...(forecast === undefined ? {} : { forecast }),
    ...(churn === undefined ? {} : { churn })
  })
})

/** The teachers' overview page with its charts. */
export const renderOverview = Effect.fn("ReportFiles.renderOverview")(function* (
  charts: ReportCharts,
  reports: ReadonlyArray<StudentReport>,
  text: ReportText,
  cohort: Section<Forecast>,
  weekStart: string
) {
  const overview = cohortOverview(reports, cohort, weekStart)
  const named = overview.segments.map((s) => ({ name: segmentText(text, s.label).name, count: s.count }))
  const bins = probabilityRows(overview.goals01)
  const result: { -readonly [K in keyof OverviewCharts]: OverviewCharts[K] } = {}
  if (named.length > 0)
    result.segments = yield* chart(charts, "segments", segmentRows(named), text.index.segmentsAlt(named))
  result.probabilities = yield* chart(
    charts,
    "probabilities",
    bins,
    text.index.pAlt(
      bins.map((b) => ({ range: `${fixed(b.from * 100, 0)}–${fixed(b.to * 100, 0)}%`, count: b.count })),
      overview.attention.length - overview.goals01.length
    )
  )
  if (cohort._tag === "Available")
    result.cohort = yield* chart(charts, "forecast", forecastRows(cohort), forecastAlt(text, cohort))
  return cohortIndexPage(overview, text, result)
})

/**
 * Renders every student's page and the teachers' overview (`index.html`) into `folder`, then, when asked, prints
 * each page to PDF with one Chromium. A page that fails to print (or passes its timeout) twice is left out and
 * named in the result: the week's HTML and other PDFs are still published.
 */
export const renderReports = (reports: ReadonlyArray<StudentReport>, options: RenderOptions) =>
  Effect.scoped(renderInto(reports, options)).pipe(
    Effect.withSpan("ReportFiles.renderReports", { attributes: { students: reports.length } })
  )

const renderInto = (reports: ReadonlyArray<StudentReport>, options: RenderOptions) =>
  Effect.gen(function* () {
    const charts = yield* makeCharts
    yield* fileStep("Write", options.folder, () => fs.mkdir(options.folder, { recursive: true }))
    const html = yield* Effect.forEach(reports, (report) =>
      Effect.gen(function* () {
        const page = yield* renderPage(charts, report, options.text)
        const file = reportFileName(report.userId, "html")
        yield* fileStep("Write", path.join(options.folder, file), () =>
          fs.writeFile(path.join(options.folder, file), page)
        )
        return { user_id: report.userId, format: "html", file } satisfies RenderedFile
      })
    )
    const index = path.join(options.folder, "index.html")
    const overview = yield* renderOverview(charts, reports, options.text, options.cohort, options.weekStart)
    yield* fileStep("Write", index, () => fs.writeFile(index, overview))
    if (!options.pdf) return { files: html, failedPdfs: [] } satisfies RenderResult
    const printed = yield* Effect.scoped(
      Effect.gen(function* () {
        const pages = options.pdfPages ?? 3
        const printer = yield* launch(options.chromiumPath, {
          pages,
          pageTimeout: options.pdfPageTimeout ?? Duration.seconds(30)
        })
        return yield* Effect.forEach(
          html,
          (h) => {
            const file = reportFileName(h.user_id, "pdf")
            return printer.print(path.join(options.folder, h.file), path.join(options.folder, file)).pipe(
              Effect.retry({ times: 1 }),
              Effect.either,
              Effect.map(
                Either.match({
                  onLeft: (e): FailedPdf => ({ user_id: h.user_id, file, error: e.message }),
                  onRight: (): RenderedFile => ({ user_id: h.user_id, format: "pdf", file })
                })
              )
            )
          },
          { concurrency: pages }
        )
      })
    )
    const failedPdfs = printed.filter((p): p is FailedPdf => "error" in p)
    // a half-written PDF of a failed page is not published
    for (const f of failedPdfs)
      yield* fileStep("Remove", path.join(options.folder, f.file), () =>
        fs.rm(path.join(options.folder, f.file), { force: true })
      )
    return {
      files: [...html, ...printed.filter((p): p is RenderedFile => !("error" in p))],
      failedPdfs
    } satisfies RenderResult
  })
