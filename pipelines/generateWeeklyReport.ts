import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Duration, Effect, Schema } from "effect"
import { defaultReportsRoot, ReportSettings } from "../config/ReportSettings.ts"
import * as Need from "../engine/Need.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import { ReportArtifactsSink, type StagedReport } from "../sinks/ReportArtifactsSink.ts"
import { fileStep } from "../sinks/ReportFileError.ts"
import { ReportInputs, reportInputs, reportReads } from "../sources/ReportInputsQuery.ts"
import { renderReports } from "../stages/report/ReportFiles.ts"
import { sweepReportLeftovers } from "../stages/report/ReportLeftovers.ts"
import { reportText } from "../stages/report/ReportText.ts"
import { HISTORY_WEEKS, reportWeek } from "../stages/report/ReportWeek.ts"
import { cohortForecast, type StudentReport, studentReports } from "../stages/report/StudentReport.ts"

/** What the render stage produced: the files, in the run's staging folder, and where they go on commit. */
const Rendered = Schema.Struct({
  staging: Schema.String,
  destination: Schema.String,
  generatedAt: Schema.String,
  files: Schema.Array(
    Schema.Struct({ user_id: Schema.String, format: Schema.Literal("html", "pdf"), file: Schema.String })
  )
})

const sectionsOf = (r: StudentReport) => ({
  growth: r.growth,
  forecast: r.forecast,
  churn: r.churn,
  segment: r.segment
})

/**
 * `generate-weekly-report`: one self-contained HTML page per active student for the last complete week (KPI
 * summary, Bayesian growth, Prophet forecast, churn risk, segment), a cohort index, optionally PDFs, and a
 * `report_artifacts` row per file. Files are rendered into a staging folder and moved into place when the run commits.
 */
export const generateWeeklyReport = Pipeline.make({
  name: "generate-weekly-report",
  description:
    "Weekly report per student (HTML, optionally PDF) from the KPIs and every model's output, plus a cohort index and report_artifacts.",
  params: ReportSettings
})
  .source("inputs", {
    description:
      "The week's active students (weekly_kpi), their KPI history, weekly accuracy and the latest output of every model, set-based.",
    reads: reportReads,
    // the charts' weeks end with the last complete week, one before the as-of week the KPI run ends with
    needs: [Need.weeks("weekly_kpi", () => HISTORY_WEEKS + 1)],
    output: ReportInputs,
    run: ({ params, record }) => {
      const week = reportWeek(params.asOf)
      record("week", week)
      return reportInputs(week)
    }
  })
  .transform("reports", {
    description:
      "Per-student report view-models and the cohort's I_t forecast: every model output decoded; a missing or unreadable one becomes an 'unavailable' section with its reason.",
    inputs: ["inputs"],
    run: ({ inputs }, { params, record }) => {
      const reports = studentReports(inputs, reportWeek(params.asOf))
      const cohort = cohortForecast(inputs)
      const unavailable: Record<string, Record<string, number>> = {}
      for (const r of reports) {
        for (const [name, s] of Object.entries(sectionsOf(r))) {
          if (s._tag === "Available") continue
          unavailable[name] ??= {}
          const counts = unavailable[name]
          counts[s.reason] = (counts[s.reason] ?? 0) + 1
        }
      }
      record("students", reports.length)
      record("unavailableSections", unavailable)
      if (cohort._tag === "Unavailable") record("cohortForecast", `${cohort.reason}: ${cohort.detail}`)
      return { students: reports, cohort }
    }
  })
  .model("render", {
    description:
      "Vega-Lite charts (compiled and parsed once) rendered to SVG per student, pages and the teachers' overview written to a staging folder; PDFs printed with one headless Chromium (a page that fails twice is named, not fatal).",
    inputs: ["reports"],
    output: Rendered,
    run: ({ reports }, { dryRun, params, record, runId }) =>
      Effect.gen(function* () {
        const week = reportWeek(params.asOf).weekStart
        const root = path.resolve(params.outputDir === "" ? yield* defaultReportsRoot : params.outputDir)
        const destination = path.join(root, week)
        // same file system as the destination, so publishing is a rename; a dry run renders into a temp folder it removes
        if (!dryRun) {
          const swept = yield* sweepReportLeftovers(root)
          if (swept.removed.length > 0 || swept.kept.length > 0) record("leftovers", swept)
          if (swept.kept.length > 0)
            yield* Effect.logWarning(
              `reports folder ${root}: kept ${swept.kept.map((k) => `${k.folder} (${k.why})`).join(", ")}`
            )
        }
        const staging = dryRun
          ? yield* fileStep("Write", os.tmpdir(), () => fs.mkdtemp(path.join(os.tmpdir(), "seedtest-report-")))
          : path.join(root, `.staging-${week}-${runId}`)
        const removeStaging = fileStep("Remove", staging, () => fs.rm(staging, { recursive: true, force: true })).pipe(
          Effect.ignore
        )
        const pdf = params.format !== "html" && !dryRun
        if (params.format !== "html" && dryRun) record("pdf", "not printed in a dry run")
        const { failedPdfs, files } = yield* renderReports(reports.students, {
          folder: staging,
          text: reportText(params.locale),
          pdf,
          chromiumPath: params.chromiumPath,
          weekStart: week,
          cohort: reports.cohort,
          pdfPageTimeout: Duration.seconds(params.pdfPageTimeout)
        }).pipe(dryRun ? Effect.ensuring(removeStaging) : Effect.onError(() => removeStaging))
        record("folder", destination)
        record("files", files.length)
        if (failedPdfs.length > 0) {
          // the week's pages are published without these PDFs; the run record names them for a re-print
          record("failedPdfs", failedPdfs)
          yield* Effect.logWarning(
            `${failedPdfs.length} PDF(s) could not be printed after a retry: ${failedPdfs.map((f) => f.user_id).join(", ")}`
          )
        }
        return { staging, destination, generatedAt: new Date().toISOString(), files }
      })
  })
  .sink("artifacts", {
    description:
      "Move the staged folder into <output>/<week_start>/ and upsert report_artifacts (user, week, format) in the run's transaction.",
    inputs: ["render"],
    writer: ReportArtifactsSink,
    rows: ({ render }, { params }): ReadonlyArray<StagedReport> => {
      const week = reportWeek(params.asOf).weekStart
      const base = params.baseUrl.replace(/\/+$/, "")
      return render.files.map((f) => ({
        user_id: f.user_id,
        week_start: week,
        format: f.format,
        url: base === "" ? path.join(render.destination, f.file) : `${base}/${week}/${encodeURIComponent(f.file)}`,
        generated_at: render.generatedAt,
        staging: render.staging,
        destination: render.destination
      }))
    }
  })
