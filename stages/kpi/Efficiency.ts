import { clamp, finiteOrNull } from "./Numbers.ts"

/**
 * E_t: how much faster correct answers got, `clamp((median_prev − median_recent) / median_prev, 0, 1)` over the
 * median response times (ms) of correct attempts in two consecutive 28-day windows; null when either window has no
 * correct attempt with a valid response time.
 */
export const efficiency = (medianRecentMs: number | null, medianPreviousMs: number | null): number | null =>
  medianRecentMs === null || medianPreviousMs === null || !(medianPreviousMs > 0)
    ? null
    : finiteOrNull(clamp((medianPreviousMs - medianRecentMs) / medianPreviousMs, 0, 1))
