import * as fs from "node:fs"
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** Stored fits of every model, as the meta tables hold them: what the models page must show. */
export const fits = {
  growthAccepted: {
    run_id: "run_fixture_growth_ok",
    fitted_at: "2026-11-24T04:31:00Z",
    posterior_summary: {
      week_start: "2026-11-23",
      n_students: 40,
      population: {
        intercept: { mean: 0.552, sd: 0.02, q2_5: 0.511, q50: 0.552, q97_5: 0.593, rhat: 1.002, ess_bulk: 1210 },
        slope: { mean: 0.0123, sd: 0.002, q2_5: 0.0081, q50: 0.0123, q97_5: 0.0164, rhat: 1.004, ess_bulk: 980 }
      }
    },
    diagnostics: { accepted: true, reasons: [], max_rhat: 1.004, divergences: 0 }
  },
  growthRejected: {
    run_id: "run_fixture_growth_bad",
    fitted_at: "2026-11-25T04:31:00Z",
    posterior_summary: { week_start: "2026-11-23", n_students: 40, population: {} },
    diagnostics: { accepted: false, reasons: ["max R-hat 1.080 > 1.01"], max_rhat: 1.08, divergences: 3 }
  },
  survival: {
    run_id: "run_fixture_survival",
    fitted_at: "2026-11-24T05:00:00Z",
    hazard_ratios: [
      { name: "A_t", hazard_ratio: 1.84, lower95: 1.41, upper95: 2.39 },
      { name: "mean_gap_days", hazard_ratio: 0.77, lower95: 0.69, upper95: 0.86 }
    ],
    concordance: 0.713,
    n: 40,
    events: 9
  },
  segments: {
    run_id: "run_fixture_segments",
    fitted_at: "2026-11-15T07:00:00Z",
    centers: [
      { label: "steady", size: 20 },
      { label: "improver", size: 12 },
      { label: "struggler", size: 8 }
    ],
    metrics: {
      silhouette: 0.41,
      k_selection: {
        criterion: "the smallest k within one SE of the first local maximum",
        scores: [
          { k: 2, gap: 0.3, se: 0.02 },
          { k: 3, gap: 0.42, se: 0.02 },
          { k: 4, gap: 0.41, se: 0.03 }
        ]
      }
    },
    n_clusters: 3
  },
  forecast: {
    run_id: "run_fixture_forecast",
    fitted_at: "2026-11-24T05:01:00Z",
    forecast: [
      { week_start: "2026-11-30", yhat: 0.021, yhat_lower: -0.01, yhat_upper: 0.05 },
      { week_start: "2026-12-07", yhat: 0.024, yhat_lower: -0.012, yhat_upper: 0.06 }
    ],
    anomaly: { week_start: "2026-11-09", value: -0.081, expected: 0.012, anomaly_score: 3.14 }
  }
} as const

// the schedule page shows the last 14 days: the slots are yesterday's and the day before's
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10)

/** Two days of scheduler slots: one ran, one was skipped (with its reason), one failed and was retried. */
export const slots = [
  { pipeline: "compute-daily-kpis", slot: `${daysAgo(1)}T02:10:00Z`, status: "succeeded", attempts: 1, detail: null },
  {
    pipeline: "aggregate-features-daily",
    slot: `${daysAgo(1)}T02:25:00Z`,
    status: "skipped",
    attempts: 0,
    detail: "catch-up: only the latest missed fire runs"
  },
  {
    pipeline: "fit-survival-churn",
    slot: `${daysAgo(2)}T05:00:00Z`,
    status: "failed",
    attempts: 3,
    detail: "gave up after 3 attempts: the R service answered 500"
  }
] as const

/** Writes the fits above into the meta tables (through whatever database the layer provides). */
export const insertFits = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const j = (v: unknown) => JSON.stringify(v)
  for (const g of [fits.growthAccepted, fits.growthRejected]) {
    yield* sql`INSERT INTO growth_brms_meta (run_id, formula, priors, posterior_summary, diagnostics, fitted_at)
               VALUES (${g.run_id}, 'accuracy ~ week + (week | student)', '{}'::jsonb, ${j(g.posterior_summary)}::jsonb, ${j(g.diagnostics)}::jsonb, ${g.fitted_at}::timestamptz)`
  }
  const s = fits.survival
  yield* sql`INSERT INTO survival_fit_meta (run_id, family, event_threshold_days, coefficients, hazard_ratios, concordance, n, events, fitted_at)
             VALUES (${s.run_id}, 'cox', 14, '{}'::jsonb, ${j(s.hazard_ratios)}::jsonb, ${s.concordance}, ${s.n}, ${s.events}, ${s.fitted_at}::timestamptz)`
  const seg = fits.segments
  yield* sql`INSERT INTO segment_meta (run_id, method, n_clusters, centers, metrics, fitted_at)
             VALUES (${seg.run_id}, 'kmeans', ${seg.n_clusters}, ${j(seg.centers)}::jsonb, ${j(seg.metrics)}::jsonb, ${seg.fitted_at}::timestamptz)`
  const f = fits.forecast
  yield* sql`INSERT INTO prophet_fit_meta (run_id, metric, user_id, changepoints, forecast, fit_meta, lookback_weeks, horizon_weeks, anomaly_threshold, fitted_at)
             VALUES (${f.run_id}, 'I_t', NULL, '[]'::jsonb, ${j(f.forecast)}::jsonb, ${j({ status: "ok", residual_sd: 0.012 })}::jsonb, 12, 4, 2.5, ${f.fitted_at}::timestamptz)`
  for (const slot of slots) {
    yield* sql`INSERT INTO schedule_slot (pipeline, slot, status, attempts, updated_at, detail)
               VALUES (${slot.pipeline}, ${slot.slot}::timestamptz, ${slot.status}, ${slot.attempts}, now(), ${slot.detail})`
  }
  yield* sql`INSERT INTO prophet_anomalies (run_id, week_start, metric, value, expected, anomaly_score, user_id)
             VALUES (${f.run_id}, ${f.anomaly.week_start}::date, 'I_t', ${f.anomaly.value}, ${f.anomaly.expected}, ${f.anomaly.anomaly_score}, NULL)`
})

/** What the file beside the reports folder holds: never to be seen through the console. */
export const outsideContent = "OUTSIDE-THE-REPORTS-7781"

/** A week of reports as the report pipeline leaves it: an index linking to student pages. */
export const writeReports = (root: string, week: string) => {
  const dir = path.join(root, week)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(
    path.join(dir, "index.html"),
    `<!doctype html><title>Week ${week}</title><h1>Reports of ${week}</h1><a id="s1" href="s_001.html">s_001</a>`
  )
  fs.writeFileSync(
    path.join(dir, "s_001.html"),
    `<!doctype html><title>s_001</title><h1 id="student">Student s_001</h1>`
  )
  // a file next to the reports that must never be served through them
  fs.writeFileSync(path.join(root, "secret.txt"), outsideContent)
}
