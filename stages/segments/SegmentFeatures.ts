import type { SegmentFeatureSourceRow } from "../../sources/SegmentFeaturesQuery.ts"
import type { ClusterFeatureRow } from "../models/schemas/Cluster.ts"
import { shrunkAccuracyTrends, type TrendShrinkage } from "./AccuracyTrend.ts"

/** The users to segment, and those left out for too little history. */
export interface SegmentFeatures {
  readonly features: ReadonlyArray<ClusterFeatureRow>
  readonly tooLittleHistory: ReadonlyArray<string>
  /** How the accuracy trends were shrunk towards the cohort mean (null: not enough history to tell noise apart). */
  readonly trendShrinkage: TrendShrinkage | null
}

/**
 * The cluster features of each user with at least `minWeeks` weeks of practice and one KPI week. `efficiency` is
 * the answering speed, ln(answers per minute) from the mean response time: a segment describes a level of
 * behaviour, while E_t (week-over-week speed-up) is near zero for a steady fast student. `improvement` is the
 * weekly accuracy trend, which averages less noise than the 14-day I_t, shrunk by its own precision (see
 * `shrunkAccuracyTrends`) so that a line through a few weeks does not pass for a strong trend.
 */
export const segmentFeatures = (rows: ReadonlyArray<SegmentFeatureSourceRow>, minWeeks: number): SegmentFeatures => {
  const kept: Array<SegmentFeatureSourceRow> = []
  const tooLittleHistory: Array<string> = []
  for (const r of rows) {
    if (r.practice_weeks >= minWeeks && r.kpi_weeks >= 1) kept.push(r)
    else tooLittleHistory.push(r.user_id)
  }
  const trends = shrunkAccuracyTrends(
    kept.map((r) => ({
      slopePerWeek: r.accuracy_slope_per_week,
      weeks: r.practice_weeks,
      weekSpread: r.accuracy_slope_week_spread,
      residualSs: r.accuracy_slope_residual_ss
    }))
  )
  const features = kept.map(
    (r, i): ClusterFeatureRow => ({
      user_id: r.user_id,
      engagement: r.engagement,
      improvement: trends.slopes[i] ?? null,
      efficiency: r.mean_response_ms === null || r.mean_response_ms <= 0 ? null : Math.log(60_000 / r.mean_response_ms),
      recovery: r.recovery,
      accuracy: r.accuracy,
      hint_rate: r.hint_rate,
      sessions: r.sessions,
      mean_gap_days: r.mean_gap_days
    })
  )
  return { features, tooLittleHistory, trendShrinkage: trends.shrinkage }
}
