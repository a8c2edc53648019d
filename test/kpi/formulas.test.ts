import { assert, describe, it } from "@effect/vitest"
import { mondayOf } from "../../engine/Calendar.ts"
import { churnHeuristic } from "../../stages/kpi/ChurnHeuristic.ts"
import { efficiency } from "../../stages/kpi/Efficiency.ts"
import { engagement } from "../../stages/kpi/Engagement.ts"
import { goalAttainment } from "../../stages/kpi/GoalAttainment.ts"
import { improvement } from "../../stages/kpi/Improvement.ts"
import { kpiWeeks } from "../../stages/kpi/KpiWeeks.ts"
import { normalCdf } from "../../stages/kpi/NormalDistribution.ts"
import { recovery } from "../../stages/kpi/Recovery.ts"
import { type WeeklyWindows, weeklyKpis } from "../../stages/kpi/WeeklyKpis.ts"

const close = (actual: number | null, expected: number, digits = 12) => {
  assert.isNotNull(actual)
  assert.closeTo(actual!, expected, 10 ** -digits)
}

describe("KPI formulas (hand-computed fixtures)", () => {
  it("I_t: accuracy change times the small-sample penalty of the recent window", () => {
    // recent 8/10 = 0.8, previous 6/10 = 0.6; penalty 1 − min(0.5, 1.96·sqrt(0.16/10)) = 1 − 0.2479190...
    close(improvement({ graded: 10, correct: 8 }, { graded: 10, correct: 6 }), 0.2 * (1 - 1.96 * Math.sqrt(0.016)))
    close(improvement({ graded: 10, correct: 8 }, { graded: 10, correct: 6 }), 0.1504154863, 10)
    // n = 2, p = 0.5: 1.96·sqrt(0.125) = 0.693 → the penalty is capped at 0.5
    close(improvement({ graded: 2, correct: 1 }, { graded: 4, correct: 0 }), 0.25)
    // p = 1 has no sampling spread: no penalty
    close(improvement({ graded: 5, correct: 5 }, { graded: 5, correct: 0 }), 1)
    close(improvement({ graded: 5, correct: 0 }, { graded: 5, correct: 5 }), -1)
  })

  it("I_t: null when either window is empty", () => {
    assert.isNull(improvement({ graded: 0, correct: 0 }, { graded: 10, correct: 6 }))
    assert.isNull(improvement({ graded: 10, correct: 6 }, { graded: 0, correct: 0 }))
  })

  it("E_t: relative speed-up of correct answers, clamped to [0, 1]", () => {
    close(efficiency(30_000, 40_000), 0.25)
    assert.strictEqual(efficiency(50_000, 40_000), 0, "slower clamps to 0")
    assert.strictEqual(efficiency(0, 40_000), 1)
    assert.isNull(efficiency(null, 40_000))
    assert.isNull(efficiency(30_000, null))
    assert.isNull(efficiency(30_000, 0), "a zero previous median is no baseline")
  })

  it("R_t: share of returned wrong items now right; null without earlier wrong answers", () => {
    close(recovery(4, 3), 0.75)
    assert.strictEqual(recovery(2, 0), 0)
    assert.isNull(recovery(0, 0))
  })

  it("A_t: weighted components, missing ones count 0.5", () => {
    // 0.35·(14/28) + 0.25·min(1, 1/2) + 0.20·(1 − 0.3/3) + 0.20·min(1, 450/900)
    close(
      engagement({ sessions: 14, meanGapDays: 2, avgHints: 0.3, avgSessionSeconds: 450 }),
      0.175 + 0.125 + 0.18 + 0.1
    )
    // one session, no timing, no attempts: 0.35/28 + 0.25·0.5 + 0.20·0.5 + 0.20·0.5
    close(engagement({ sessions: 1, meanGapDays: null, avgHints: null, avgSessionSeconds: null }), 0.0125 + 0.325)
    // saturation: every component at 1
    close(engagement({ sessions: 40, meanGapDays: 0.5, avgHints: 0, avgSessionSeconds: 2000 }), 1)
    close(engagement({ sessions: 40, meanGapDays: 0, avgHints: 0, avgSessionSeconds: 2000 }), 1)
    // more than 3 hints per attempt clamps the hint component at 0
    close(engagement({ sessions: 0, meanGapDays: null, avgHints: 6, avgSessionSeconds: null }), 0.125 + 0.1)
  })

  it("churn heuristic: days since last, mean gap and sessions, each clamped", () => {
    // 0.6·(7/14) + 0.25·(3.5/7) + 0.15·(1 − 4/10)
    close(churnHeuristic({ daysSinceLast: 7, meanGapDays: 3.5, sessions: 4 }), 0.3 + 0.125 + 0.09)
    close(churnHeuristic({ daysSinceLast: 40, meanGapDays: 20, sessions: 0 }), 1)
    close(churnHeuristic({ daysSinceLast: 0, meanGapDays: 0, sessions: 12 }), 0)
    close(churnHeuristic({ daysSinceLast: 0, meanGapDays: null, sessions: 12 }), 0.125, 12)
  })

  it("Φ: matches tabulated values", () => {
    close(normalCdf(0), 0.5, 15)
    close(normalCdf(1.959963984540054), 0.975, 14)
    close(normalCdf(-1), 0.15865525393145707, 14)
    close(normalCdf(3), 0.9986501019683699, 14)
    close(normalCdf(-6), 9.865876450376946e-10, 15) // absolute accuracy: the far tail keeps ~1e-15, not relative precision
    assert.strictEqual(normalCdf(-40), 0)
    assert.strictEqual(normalCdf(40), 1)
  })

  it("P: a rising line projected to the horizon, with its prediction uncertainty", () => {
    // weeks x = −1 (10 graded, 5 correct) and x = 0 (10 graded, 7 correct): slope 0.2/week, x̄ = −0.5,
    // μ at h = 2: 0.6 + 0.2·2.5 = 1.1; Sxx = 5; p̃ = 12.5/21; σ² = p̃(1−p̃)(1/20 + 6.25/5)
    const g = goalAttainment({ graded: 20, correct: 12, sumX: -10, sumXX: 10, sumKX: -5 }, 0.7, 2)!
    const pt = 12.5 / 21
    const sigma = Math.sqrt(pt * (1 - pt) * (0.05 + 1.25))
    close(g.sigma, sigma)
    close(g.probability01, 1 - normalCdf((0.7 - 1.1) / sigma))
    // one week only: no slope, σ² = p̃(1−p̃)/N
    const flat = goalAttainment({ graded: 10, correct: 7, sumX: 0, sumXX: 0, sumKX: 0 }, 0.7, 4)!
    close(flat.sigma, Math.sqrt(((7.5 / 11) * (3.5 / 11)) / 10))
    close(flat.probability01, 0.5)
    // a single correct attempt: finite, uncertain
    const single = goalAttainment({ graded: 1, correct: 1, sumX: 0, sumXX: 0, sumKX: 0 }, 0.7, 4)!
    close(single.sigma, Math.sqrt(0.75 * 0.25))
    assert.isNull(goalAttainment({ graded: 0, correct: 0, sumX: 0, sumXX: 0, sumKX: 0 }, 0.7, 4))
  })

  it("P stays in [0, 1] where 1 − Φ alone leaves it by rounding (far below or far above the target)", () => {
    // one week each: 10 of 35 correct against a 90% target, and 33 of 35 against 60%, are ~8 σ from the target,
    // where the Φ series sums to 1 ± 2e-16 (before the clamp: −8.9e-16 and 1.0000000000000004)
    const far = [
      { trend: { graded: 35, correct: 10, sumX: 0, sumXX: 0, sumKX: 0 }, target: 0.9, expected: 0 },
      { trend: { graded: 37, correct: 11, sumX: 0, sumXX: 0, sumKX: 0 }, target: 0.9, expected: 0 },
      { trend: { graded: 35, correct: 33, sumX: 0, sumXX: 0, sumKX: 0 }, target: 0.6, expected: 1 },
      { trend: { graded: 90, correct: 79, sumX: 0, sumXX: 0, sumKX: 0 }, target: 0.6, expected: 1 }
    ]
    for (const { expected, target, trend } of far) {
      const p = goalAttainment(trend, target, 4)!.probability01
      assert.isTrue(p >= 0 && p <= 1, `P = ${p} for ${trend.correct}/${trend.graded} against ${target}`)
      // within rounding of the exact tail, which is below 1e-15 from 0 or 1 there
      assert.isTrue(Math.abs(p - expected) < 1e-9, `P = ${p} is the tail ${expected}`)
    }
    // a sweep of every one-week record up to 200 attempts against five targets: none leaves [0, 1]
    for (let n = 1; n <= 200; n++) {
      for (let k = 0; k <= n; k++) {
        for (const target of [0.5, 0.6, 0.7, 0.8, 0.9]) {
          const p = goalAttainment({ graded: n, correct: k, sumX: 0, sumXX: 0, sumKX: 0 }, target, 4)!.probability01
          if (!(p >= 0 && p <= 1)) assert.fail(`P = ${p} for ${k}/${n} against ${target}`)
        }
      }
    }
  })

  it("weeklyKpis: never NaN or Infinity, null instead", () => {
    const empty: WeeklyWindows = {
      user_id: "u",
      week_start: "2026-05-25",
      graded_14: 0,
      correct_14: 0,
      graded_prev_14: 0,
      correct_prev_14: 0,
      median_rt_28: null,
      median_rt_prev_28: null,
      returned_items: 0,
      recovered_items: 0,
      attempts_28: 0,
      hints_28: 0,
      sessions_28: 0,
      mean_gap_days: null,
      avg_session_seconds: null,
      days_since_last: 30,
      trend_graded: 0,
      trend_correct: 0,
      trend_sum_x: 0,
      trend_sum_xx: 0,
      trend_sum_kx: 0
    }
    const kpis = weeklyKpis(empty, { probability01: Number.NaN, sigma: Number.POSITIVE_INFINITY })
    assert.deepStrictEqual(kpis, {
      I_t: null,
      E_t: null,
      R_t: null,
      A_t: 0.325,
      P: null,
      sigma: null,
      sessions: 0,
      mean_gap: null,
      churn_heuristic: 0.875
    })
  })

  it("KPI weeks: every Monday-to-Sunday week overlapping the lookback, and the 8 weeks before the first", () => {
    assert.strictEqual(mondayOf("2026-05-31"), "2026-05-25")
    assert.strictEqual(mondayOf("2026-05-25"), "2026-05-25")
    assert.deepStrictEqual(kpiWeeks("2026-05-31", 30), {
      firstWeek: "2026-04-27",
      lastWeek: "2026-05-25",
      scanFrom: "2026-03-09",
      scanTo: "2026-06-01"
    })
    assert.deepStrictEqual(kpiWeeks("2026-05-27", 0), {
      firstWeek: "2026-05-25",
      lastWeek: "2026-05-25",
      scanFrom: "2026-04-06",
      scanTo: "2026-05-28"
    })
  })
})
