import { clamp, finiteOrNull } from "./Numbers.ts"

/** Correct and graded attempts in one window (attempts with unknown correctness are not graded). */
export interface AccuracyWindow {
  readonly graded: number
  readonly correct: number
}

/**
 * I_t: accuracy over the last 14 days minus accuracy over the 14 days before, times the small-sample penalty
 * `1 − min(0.5, 1.96·sqrt(p(1−p)/n))` of the recent window (p, n its accuracy and size), clamped to [−1, 1];
 * null when either window has no graded attempt.
 */
export const improvement = (recent: AccuracyWindow, previous: AccuracyWindow): number | null => {
  if (recent.graded <= 0 || previous.graded <= 0) return null
  const p = recent.correct / recent.graded
  const q = previous.correct / previous.graded
  const penalty = 1 - Math.min(0.5, 1.96 * Math.sqrt((p * (1 - p)) / recent.graded))
  return finiteOrNull(clamp((p - q) * penalty, -1, 1))
}
