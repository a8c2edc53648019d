import { clamp, finiteOrNull } from "./Numbers.ts"

/** What engagement is computed from, over the last 28 days; null = not observable. */
export interface EngagementInputs {
  readonly sessions: number
  /** Mean days between consecutive session starts (null with fewer than two sessions). */
  readonly meanGapDays: number | null
  /** Hints per attempt (null without attempts). */
  readonly avgHints: number | null
  /** Mean session length in seconds (null without a session of valid length). */
  readonly avgSessionSeconds: number | null
}

/** The value of a component that cannot be observed. */
export const MISSING_COMPONENT = 0.5

const component = (value: number | null, f: (v: number) => number): number => {
  if (value === null || Number.isNaN(value)) return MISSING_COMPONENT
  const c = f(value)
  return Number.isFinite(c) ? clamp(c) : MISSING_COMPONENT
}

/**
 * A_t engagement in [0, 1]: `0.35·min(1, sessions/28) + 0.25·min(1, 1/mean_gap_days) + 0.20·(1 − avg_hints/3)
 * + 0.20·min(1, avg_session_seconds/900)`; a missing component counts 0.5. A gap of zero days (sessions started
 * together) counts as the most regular (1).
 */
export const engagement = (inputs: EngagementInputs): number | null =>
  finiteOrNull(
    0.35 * component(inputs.sessions, (s) => Math.min(1, s / 28)) +
      0.25 * component(inputs.meanGapDays, (g) => (g <= 0 ? 1 : Math.min(1, 1 / g))) +
      0.2 * component(inputs.avgHints, (h) => 1 - h / 3) +
      0.2 * component(inputs.avgSessionSeconds, (s) => Math.min(1, s / 900))
  )
