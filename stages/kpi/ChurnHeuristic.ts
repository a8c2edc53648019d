import { clamp, finiteOrNull } from "./Numbers.ts"

/** What the rule-based churn risk looks at. */
export interface ChurnInputs {
  /** Days from the last activity (attempt or session) to the end of the week's window. */
  readonly daysSinceLast: number
  /** Mean days between sessions over 28 days (null with fewer than two sessions: counts 0.5). */
  readonly meanGapDays: number | null
  /** Sessions over 28 days. */
  readonly sessions: number
}

/**
 * The rule-based churn risk in [0, 1], stored as `churn_heuristic` (the survival model owns `S`):
 * `0.6·clamp(days_since_last/14) + 0.25·clamp(mean_gap/7) + 0.15·clamp(1 − sessions/10)`; an unknown mean gap counts
 * 0.5, like a missing engagement component.
 */
export const churnHeuristic = (inputs: ChurnInputs): number | null =>
  finiteOrNull(
    0.6 * clamp(inputs.daysSinceLast / 14) +
      0.25 *
        (inputs.meanGapDays === null || !Number.isFinite(inputs.meanGapDays) ? 0.5 : clamp(inputs.meanGapDays / 7)) +
      0.15 * clamp(1 - inputs.sessions / 10)
  )
