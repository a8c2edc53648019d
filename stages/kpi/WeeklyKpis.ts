import type { WeeklyKpis } from "../../sinks/WeeklyKpiSink.ts"
import { churnHeuristic } from "./ChurnHeuristic.ts"
import { efficiency } from "./Efficiency.ts"
import { engagement } from "./Engagement.ts"
import { type AccuracyTrend, type GoalAttainment, goalAttainment } from "./GoalAttainment.ts"
import { improvement } from "./Improvement.ts"
import { finiteOrNull, ratioOrNull } from "./Numbers.ts"
import { recovery } from "./Recovery.ts"

/** The window statistics of one student and week, as the set-based SQL computes them. */
export interface WeeklyWindows {
  readonly user_id: string
  readonly week_start: string
  /** Graded / correct attempts in the last 14 days and the 14 days before. */
  readonly graded_14: number
  readonly correct_14: number
  readonly graded_prev_14: number
  readonly correct_prev_14: number
  /** Median response time (ms) of correct attempts with a valid time, last 28 days and the 28 days before. */
  readonly median_rt_28: number | null
  readonly median_rt_prev_28: number | null
  /** Items wrong in the previous 28 days that came back in the last 28 days, and how many of them are now right. */
  readonly returned_items: number
  readonly recovered_items: number
  /** Activity over the last 28 days. */
  readonly attempts_28: number
  readonly hints_28: number
  readonly sessions_28: number
  readonly mean_gap_days: number | null
  readonly avg_session_seconds: number | null
  readonly days_since_last: number
  /** Weighted accuracy trend over the last 8 weeks (see `AccuracyTrend`). */
  readonly trend_graded: number
  readonly trend_correct: number
  readonly trend_sum_x: number
  readonly trend_sum_xx: number
  readonly trend_sum_kx: number
}

/** How P is evaluated. */
export interface GoalSettings {
  readonly target01: number
  readonly horizonWeeks: number
}

/** The accuracy trend of a window row. */
export const accuracyTrend = (w: WeeklyWindows): AccuracyTrend => ({
  graded: w.trend_graded,
  correct: w.trend_correct,
  sumX: w.trend_sum_x,
  sumXX: w.trend_sum_xx,
  sumKX: w.trend_sum_kx
})

/**
 * Every KPI of one student and week from its window statistics. `goal` is the P/sigma pair to store: the closed
 * form (`goalAttainment`) or the growth model's posterior.
 */
export const weeklyKpis = (w: WeeklyWindows, goal: GoalAttainment | null): WeeklyKpis => ({
  I_t: improvement(
    { graded: w.graded_14, correct: w.correct_14 },
    { graded: w.graded_prev_14, correct: w.correct_prev_14 }
  ),
  E_t: efficiency(w.median_rt_28, w.median_rt_prev_28),
  R_t: recovery(w.returned_items, w.recovered_items),
  A_t: engagement({
    sessions: w.sessions_28,
    meanGapDays: w.mean_gap_days,
    avgHints: ratioOrNull(w.hints_28, w.attempts_28),
    avgSessionSeconds: w.avg_session_seconds
  }),
  P: finiteOrNull(goal?.probability01),
  sigma: finiteOrNull(goal?.sigma),
  sessions: w.sessions_28,
  mean_gap: finiteOrNull(w.mean_gap_days),
  churn_heuristic: churnHeuristic({
    daysSinceLast: w.days_since_last,
    meanGapDays: w.mean_gap_days,
    sessions: w.sessions_28
  })
})

/** The closed-form P and sigma of a window row. */
export const closedFormGoal = (w: WeeklyWindows, settings: GoalSettings): GoalAttainment | null =>
  goalAttainment(accuracyTrend(w), settings.target01, settings.horizonWeeks)
