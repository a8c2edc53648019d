/**
 * Weekly report rendering throughput, HTML and PDF separately, for 200 and 1,000 students:
 *   npx tsx bench/report.ts [students…] [--pdf-max=N]
 * Inputs are synthetic but shaped like the stored ones (12 weeks of KPIs and accuracy, a posterior, a 4-week
 * forecast with anomalies, S, a segment), so every section and all three charts render. Measures the pipeline's
 * transform + render stages (view-models, Vega views, SVG, HTML, files; PDF with one Chromium), not the SQL read.
 * PDF is measured on at most --pdf-max students (default 200) of each cohort, since it is two orders slower.
 */

import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import type { ReportInputs } from "../sources/ReportInputsQuery.ts"
import { renderReports } from "../stages/report/ReportFiles.ts"
import { reportText } from "../stages/report/ReportText.ts"
import { reportWeek } from "../stages/report/ReportWeek.ts"
import { cohortForecast, studentReports } from "../stages/report/StudentReport.ts"

const args = process.argv.slice(2)
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number)
const cohorts = sizes.length > 0 ? sizes : [200, 1000]
const pdfMax = Number(args.find((a) => a.startsWith("--pdf-max="))?.split("=")[1] ?? 200)
const AS_OF = "2026-05-31"
const week = reportWeek(AS_OF)

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
const rand = (i: number, k: number) => {
  const x = Math.sin(i * 12.9898 + k * 78.233) * 43758.5453
  return x - Math.floor(x)
}

/** Inputs shaped like the stored ones, for `n` students (also used by bench/reportPdf.ts). */
export const syntheticInputs = (n: number): ReportInputs => {
  const users = Array.from({ length: n }, (_, i) => `bench-${String(i).padStart(5, "0")}`)
  const weeks = Array.from({ length: 12 }, (_, k) => addDays(week.historyFrom, 7 * k))
  return {
    users,
    kpis: users.flatMap((user_id, i) =>
      weeks.map((week_start, k) => ({
        user_id,
        week_start,
        kpis: {
          I_t: rand(i, k) - 0.5,
          E_t: rand(i, k + 20),
          R_t: rand(i, k + 40),
          A_t: rand(i, k + 60),
          P: rand(i, k + 80),
          sigma: 0.1,
          sessions: Math.round(20 * rand(i, k + 90)),
          mean_gap: 3 * rand(i, k + 95),
          churn_heuristic: rand(i, 99),
          S: rand(i, 98)
        }
      }))
    ),
    accuracy: users.flatMap((user_id, i) =>
      weeks.map((week_start, k) => ({ user_id, week_start, graded: 30, accuracy01: 0.4 + 0.4 * rand(i, k + 100) }))
    ),
    posteriors: users.map((user_id, i) => ({
      run_id: "run_growth",
      user_id,
      week_start: week.weekStart,
      p_goal: rand(i, 1),
      sigma: 0.08,
      lower95: 0.45,
      upper95: 0.75,
      target: 0.7,
      horizon_weeks: 4,
      fitted_at: "2026-06-01T04:40:00Z"
    })),
    growthMeta: [
      {
        posterior_summary: {
          week_start: week.weekStart,
          as_of_week: 11,
          students: users.map((student, i) => ({
            student,
            coefficients: {
              intercept: { mean: 0.5, sd: 0.04 },
              slope: { mean: 0.01 * rand(i, 2), sd: 0.004 },
              intercept_slope_cor: -0.3
            }
          }))
        }
      }
    ],
    forecasts: users.map((user_id) => ({
      run_id: "run_forecast",
      metric: "I_t",
      user_id,
      forecast: [1, 2, 3, 4].map((h) => ({
        week_start: addDays(week.weekStart, 7 * h),
        yhat: 0.05 * h,
        yhat_lower: -0.1 * h,
        yhat_upper: 0.1 * h
      })),
      fit_meta: { status: "ok" }
    })),
    anomalies: users.map((user_id) => ({
      run_id: "run_forecast",
      user_id,
      week_start: weeks[6]!,
      metric: "I_t",
      value: 0.4,
      expected: 0.1,
      anomaly_score: 3
    })),
    survivalFits: [{ run_id: "run_survival", concordance: 0.7 }],
    segments: users.map((user_id, i) => ({
      user_id,
      segment_label: ["highly engaged", "struggling", "typical"][i % 3]
    })),
    segmentMeta: [
      {
        centers: [
          {
            label: "highly engaged",
            traits: [{ feature: "engagement", z: 1.2, description: "engagement well above the cohort" }]
          }
        ]
      }
    ],
    lastActive: users.map((user_id, i) => ({
      user_id,
      last_day: addDays(week.weekStart, 6 - Math.floor(10 * rand(i, 97)))
    })),
    cohortForecasts: [
      {
        run_id: "run_forecast",
        metric: "I_t",
        user_id: null,
        forecast: [1, 2, 3, 4].map((h) => ({
          week_start: addDays(week.weekStart, 7 * h),
          yhat: 0.02 * h,
          yhat_lower: -0.05 * h,
          yhat_upper: 0.05 * h
        })),
        fit_meta: { status: "ok" }
      }
    ],
    cohortSeries: weeks.map((week_start, k) => ({ week_start, value: 0.1 * (rand(k, 3) - 0.5), students: n }))
  }
}

const measure = (n: number, pdf: boolean) =>
  Effect.gen(function* () {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-report-bench-"))
    const start = performance.now()
    const inputs = syntheticInputs(n)
    const reports = studentReports(inputs, week)
    const { files } = yield* renderReports(reports, {
      folder,
      text: reportText("ko"),
      pdf,
      chromiumPath: "/usr/bin/chromium",
      weekStart: week.weekStart,
      cohort: cohortForecast(inputs)
    })
    const seconds = (performance.now() - start) / 1000
    fs.rmSync(folder, { recursive: true, force: true })
    return { seconds, files: files.length }
  })

const main = Effect.gen(function* () {
  console.log(
    `report bench on ${os.cpus().length} cores (load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")})`
  )
  yield* measure(20, false) // warm-up: module loading and JIT
  for (const n of cohorts) {
    const html = yield* measure(n, false)
    console.log(
      `HTML ${String(n).padStart(5)} students: ${html.seconds.toFixed(2)} s → ${(n / html.seconds).toFixed(1)} reports/s`
    )
    const m = Math.min(n, pdfMax)
    const both = yield* measure(m, true)
    // the PDF rate excludes the HTML rendering it starts from (measured above at the HTML rate)
    const pdfSeconds = Math.max(1e-9, both.seconds - m / (n / html.seconds))
    console.log(
      `PDF  ${String(m).padStart(5)} students: ${both.seconds.toFixed(2)} s with HTML → ${(m / pdfSeconds).toFixed(1)} PDFs/s (printing only), ${(m / both.seconds).toFixed(1)} reports/s end to end`
    )
  }
})

// runs only as the script itself, not when bench/reportPdf.ts imports the inputs
if (process.argv[1]?.endsWith("report.ts")) {
  Effect.runPromise(main).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
