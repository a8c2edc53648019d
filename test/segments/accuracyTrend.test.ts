import { assert, describe, it } from "@effect/vitest"
import { type AccuracyTrendFit, shrunkAccuracyTrends } from "../../stages/segments/AccuracyTrend.ts"
import { seededRandom } from "../support/simulate.ts"

/** Least squares through (week, accuracy) points, computed here independently of the SQL that does it in the pipeline. */
const lineThrough = (accuracy: ReadonlyArray<number>): AccuracyTrendFit => {
  const n = accuracy.length
  const meanWeek = (n - 1) / 2
  const meanAccuracy = accuracy.reduce((s, y) => s + y, 0) / n
  let sxx = 0
  let sxy = 0
  accuracy.forEach((y, w) => {
    sxx += (w - meanWeek) ** 2
    sxy += (w - meanWeek) * (y - meanAccuracy)
  })
  const slope = sxy / sxx
  const residualSs = accuracy.reduce((s, y, w) => s + (y - meanAccuracy - slope * (w - meanWeek)) ** 2, 0)
  return { slopePerWeek: slope, weeks: n, weekSpread: sxx, residualSs }
}

describe("accuracy trends shrunk by their precision", () => {
  it("estimates the noise and the real spread of slopes, and lands closer to the true slopes than the raw ones", () => {
    const random = seededRandom(17)
    const users = Array.from({ length: 600 }, () => {
      const trueSlope = random.normal(0.01, 0.02)
      const weeks = 3 + Math.floor(random.uniform() * 10)
      const start = random.normal(0.6, 0.1)
      return {
        trueSlope,
        fit: lineThrough(Array.from({ length: weeks }, (_, w) => start + trueSlope * w + random.normal(0, 0.1)))
      }
    })
    const { shrinkage, slopes } = shrunkAccuracyTrends(users.map((u) => u.fit))
    assert.isNotNull(shrinkage)
    assert.closeTo(shrinkage!.residualSd, 0.1, 0.01)
    assert.closeTo(shrinkage!.slopeSdBetweenUsers, 0.02, 0.006)
    assert.closeTo(shrinkage!.meanSlopePerWeek, 0.01, 0.004)
    const meanSquaredError = (estimates: ReadonlyArray<number | null>) =>
      users.reduce((s, u, i) => s + (estimates[i]! - u.trueSlope) ** 2, 0) / users.length
    const raw = meanSquaredError(users.map((u) => u.fit.slopePerWeek))
    const shrunk = meanSquaredError(slopes)
    assert.isBelow(shrunk, raw / 2, `shrunk ${shrunk} against raw ${raw}`)
  })

  it("pulls a slope from three weeks towards the mean further than the same slope from twelve", () => {
    const random = seededRandom(3)
    const cohort = Array.from({ length: 200 }, () =>
      lineThrough(Array.from({ length: 8 }, (_, w) => 0.5 + random.normal(0, 0.02) * w + random.normal(0, 0.08)))
    )
    const short: AccuracyTrendFit = { slopePerWeek: 0.05, weeks: 3, weekSpread: 2, residualSs: 0.01 }
    const long: AccuracyTrendFit = { slopePerWeek: 0.05, weeks: 12, weekSpread: 143, residualSs: 0.07 }
    const { shrinkage, slopes } = shrunkAccuracyTrends([...cohort, short, long])
    const mean = shrinkage!.meanSlopePerWeek
    const [shortShrunk, longShrunk] = slopes.slice(-2) as [number, number]
    assert.isBelow(shortShrunk - mean, longShrunk - mean)
    assert.isAbove(shortShrunk, mean, "shrinking never crosses the mean")
    assert.isBelow(longShrunk, 0.05)
  })

  it("keeps slopes when the noise cannot be estimated, and missing slopes stay missing", () => {
    const twoWeeks: Array<AccuracyTrendFit> = [
      { slopePerWeek: 0.1, weeks: 2, weekSpread: 0.5, residualSs: 0 },
      { slopePerWeek: -0.05, weeks: 2, weekSpread: 0.5, residualSs: 0 },
      { slopePerWeek: null, weeks: 1, weekSpread: 0, residualSs: null }
    ]
    assert.deepStrictEqual(shrunkAccuracyTrends(twoWeeks), { slopes: [0.1, -0.05, null], shrinkage: null })
    const withNoise = shrunkAccuracyTrends([
      lineThrough([0.5, 0.6, 0.55, 0.7]),
      lineThrough([0.4, 0.3, 0.45]),
      twoWeeks[2]!
    ])
    assert.isNull(withNoise.slopes[2]!)
  })
})
