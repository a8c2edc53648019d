import { Data, Duration, Effect, Option } from "effect"
import { GrowthSettings } from "../config/GrowthSettings.ts"
import * as Check from "../engine/Check.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Resource from "../engine/Resource.ts"
import { GrowthBrmsMetaSink } from "../sinks/GrowthBrmsMetaSink.ts"
import { type GrowthPosteriorRow, GrowthPosteriorSink } from "../sinks/GrowthPosteriorSink.ts"
import { growthWeeks, WeeklyAccuracy, weeklyAccuracy } from "../sources/WeeklyAccuracyQuery.ts"
import { fitAcceptance } from "../stages/growth/FitAcceptance.ts"
import { growthMetaRow, growthPosteriorRows } from "../stages/growth/GrowthRows.ts"
import { studentChunks } from "../stages/growth/StudentChunks.ts"
import { BrmsClient } from "../stages/models/BrmsClient.ts"
import { GrowthFitResponse } from "../stages/models/schemas/Growth.ts"

/** The lookback holds too little weekly accuracy to fit a hierarchical growth model. */
export class GrowthInputError extends Data.TaggedError("GrowthInputError")<{
  readonly reason: "TooFewStudents"
  readonly detail: string
}> {
  override get message(): string {
    return `The growth model cannot be fitted: ${this.detail}`
  }
}

/**
 * `fit-bayesian-growth`: weekly accuracy per student → brms `score ~ week + (week | student)` → the fit's history
 * row in `growth_brms_meta` and, when its diagnostics pass, the per-student goal posterior that
 * METRICS_USE_BAYESIAN=true turns into `weekly_kpi.P` and `sigma`.
 */
export const fitBayesianGrowth = Pipeline.make({
  name: "fit-bayesian-growth",
  description:
    "Bayesian growth model of weekly accuracy (brms formula; student effects integrated out): per-student probability of reaching the goal accuracy by the horizon.",
  params: GrowthSettings
})
  .source("weeklyAccuracy", {
    description:
      "Accuracy per student and week over LOOKBACK_WEEKS, set-based from attempt; thin weeks and students with too few weeks are left out and counted.",
    reads: Resource.columns("attempt", ["id", "student_id", "correct", "started_at", "completed_at"]),
    output: WeeklyAccuracy,
    run: ({ params, record }) => {
      const weeks = growthWeeks(params.asOf, params.lookbackWeeks)
      record("weeks", weeks)
      return weeklyAccuracy(weeks).pipe(
        Effect.tap(({ excluded, rows }) =>
          Effect.sync(() => {
            record("students", new Set(rows.map((r) => r.student)).size)
            record("sparseWeeksLeftOut", excluded.sparse_weeks)
            record("studentsLeftOut", { count: excluded.students.length, first: excluded.students.slice(0, 50) })
          })
        )
      )
    }
  })
  .model("growthFit", {
    description:
      "POST /growth/fit (r-brms-plumber): the population sampled over every student; then POST /growth/predict in chunks of students over the R_BRMS_URL replicas (GROWTH_CONCURRENCY at once): each student's exact posterior growth line and probability of reaching METRICS_DEFAULT_TARGET by GOAL_HORIZON_WEEKS; weeks weighted by their graded attempts.",
    inputs: ["weeklyAccuracy"],
    output: GrowthFitResponse,
    // no stage retry: the client retries transport failures, and a fit that failed once would fail again
    run: ({ weeklyAccuracy }, { params, record }) =>
      Effect.gen(function* () {
        const students = new Set(weeklyAccuracy.rows.map((r) => r.student)).size
        if (students < 2) {
          return yield* new GrowthInputError({
            reason: "TooFewStudents",
            detail: `${students} student(s) with enough weekly accuracy in the lookback; at least 2 are needed.`
          })
        }
        const brms = yield* BrmsClient
        const weeks = growthWeeks(params.asOf, params.lookbackWeeks)
        const timeout = {
          timeout: Duration.seconds(params.timeoutSeconds),
          timeoutSetting: `R_BRMS_TIMEOUT_SECS=${params.timeoutSeconds}`
        }
        const rows = weeklyAccuracy.rows.map(({ graded, score, student, week }) => ({ student, week, score, graded }))
        // the fit samples the population; the students are conditioned on its draws in chunks, over every replica
        const { student_draws, ...fit } = yield* brms.fit(
          {
            rows,
            target: params.target,
            horizon_weeks: params.horizonWeeks,
            as_of_week: weeks.asOfWeek,
            iter: params.iter,
            chains: params.chains,
            family: params.family,
            seed: params.seed,
            students: false
          },
          timeout
        )
        record("rSeconds", fit.timing)
        // the student family (brms) has no closed form: its fit answers every student itself
        if (student_draws === undefined || student_draws === null) return fit
        const chunks = studentChunks(rows, params.studentsPerRequest)
        let answered = 0
        const progress = () => ({ total: chunks.length, answered, instances: brms.instances.length })
        record("studentChunks", progress())
        const answers = yield* Effect.forEach(
          chunks,
          (chunk) =>
            brms
              .predict(
                {
                  rows: chunk,
                  target: fit.target,
                  horizon_weeks: fit.horizon_weeks,
                  as_of_week: fit.as_of_week,
                  population: { standardisation: fit.model.standardisation, draws: student_draws }
                },
                timeout
              )
              .pipe(
                Effect.tap(() =>
                  Effect.sync(() => {
                    answered++
                    record("studentChunks", progress())
                  })
                )
              ),
          { concurrency: Option.getOrElse(params.concurrency, () => brms.concurrency) }
        )
        return { ...fit, students: answers.flatMap((answer) => answer.students) }
      })
  })
  .transform("acceptance", {
    description:
      "The fit replaces the posterior only when its population parameters converged: R-hat ≤ 1.01, bulk and tail ESS ≥ 400, no divergent transitions; a rejection is recorded.",
    inputs: ["growthFit"],
    run: ({ growthFit }, { record }) => {
      const acceptance = fitAcceptance(growthFit.diagnostics)
      record("diagnostics", { ...growthFit.diagnostics, accepted: acceptance.accepted, reasons: acceptance.reasons })
      if (!acceptance.accepted) record("rejected", `posterior not replaced: ${acceptance.reasons.join("; ")}`)
      return acceptance
    }
  })
  .sink("growthMeta", {
    description:
      "Append the fit (formula, priors, posterior summary, diagnostics with accepted true/false) to growth_brms_meta.",
    inputs: ["growthFit", "acceptance"],
    writer: GrowthBrmsMetaSink,
    rows: ({ acceptance, growthFit }, { params, runId }) => [
      growthMetaRow(growthFit, acceptance, {
        runId,
        weekStart: growthWeeks(params.asOf, params.lookbackWeeks).lastWeek
      })
    ]
  })
  .sink("growthPosterior", {
    description:
      "Replace growth_brms_posterior for the as-of week with P, sigma and the 95% interval per student (accepted fits only).",
    inputs: ["growthFit", "acceptance"],
    writer: GrowthPosteriorSink,
    rows: ({ acceptance, growthFit }, { params, runId }) =>
      growthPosteriorRows(growthFit, acceptance, {
        runId,
        weekStart: growthWeeks(params.asOf, params.lookbackWeeks).lastWeek
      }),
    checks: [
      Check.inRange<GrowthPosteriorRow>("p_goal", 0, 1),
      Check.notNaN<GrowthPosteriorRow>("p_goal"),
      Check.notNaN<GrowthPosteriorRow>("sigma"),
      Check.uniqueKey<GrowthPosteriorRow>(["user_id", "week_start"])
    ]
  })
