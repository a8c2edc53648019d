/**
 * r-forecast-plumber answers /prophet/fit by a direct path (prophet's Stan program and optimizer called without the
 * package's data-frame plumbing, the predictive simulation vectorised). The reference is prophet's own
 * `prophet()` + `predict()`, served by the same service started with `--prophet-path package`. On a cohort of series
 * with a planted truth (each student's own line, some with a level shift, Gaussian noise, 4 weeks after the history
 * kept back as the truth), both must give the same fit, intervals of the same width (within 5%) and the same
 * coverage of the held-back weeks (within 5 points).
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import type { ForecastSeries, SeriesForecast } from "../../stages/models/schemas/Forecast.ts"
import { platformLayer, type RunningRService, startRService } from "../support/rServices.ts"
import { addDays, seededRandom } from "../support/simulate.ts"

class Direct extends Context.Tag("test/ProphetDirect")<Direct, RunningRService>() {}
class Package extends Context.Tag("test/ProphetPackage")<Package, RunningRService>() {}

const services = Layer.merge(
  Layer.scoped(Direct, startRService("forecast")),
  Layer.scoped(Package, startRService("forecast", { args: ["--prophet-path", "package"] }))
)
const TestLayer = services.pipe(Layer.provideMerge(platformLayer))

const STUDENTS = 120
const HISTORY = 12
const HORIZON = 4
const START = "2026-02-02"

/** A student's 16 weekly values: a line, for a third of them a level shift in week 4–9, noise of their own size. */
const plantedCohort = (seed: number) => {
  const random = seededRandom(seed)
  return Array.from({ length: STUDENTS }, (_, i) => {
    const level = random.normal(0, 0.05)
    const slope = random.normal(0, 0.015)
    const noise = 0.02 + 0.08 * random.uniform()
    const shiftAt = random.uniform() < 1 / 3 ? 4 + Math.floor(6 * random.uniform()) : HISTORY + HORIZON
    const shift = random.normal(0, 0.15)
    const values = Array.from(
      { length: HISTORY + HORIZON },
      (_, w) => level + slope * w + (w >= shiftAt ? shift : 0) + random.normal(0, noise)
    )
    return { id: `student-${i}`, values }
  })
}

const request = (cohort: ReturnType<typeof plantedCohort>) => ({
  series: cohort.map((s): typeof ForecastSeries.Type => ({
    id: s.id,
    points: s.values.slice(0, HISTORY).map((value, w) => ({ week_start: addDays(START, 7 * w), value }))
  })),
  horizon_weeks: HORIZON,
  anomaly_threshold: 2.5
})

type Ok = Extract<SeriesForecast, { status: "ok" }>
const okById = (series: ReadonlyArray<SeriesForecast>) =>
  new Map(series.filter((s): s is Ok => s.status === "ok").map((s) => [s.id, s]))

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length

/** Mean band width and share of the truth inside the band, over the forecast weeks and over the history. */
const intervalSummary = (answers: Map<string, Ok>, cohort: ReturnType<typeof plantedCohort>) => {
  const ahead = cohort.flatMap((s) => answers.get(s.id)!.forecast.map((p, h) => ({ p, truth: s.values[HISTORY + h]! })))
  const history = cohort.flatMap((s) => answers.get(s.id)!.fit.map((p) => ({ p, truth: p.value })))
  const width = (xs: typeof ahead) => mean(xs.map(({ p }) => p.yhat_upper - p.yhat_lower))
  const coverage = (xs: typeof ahead) =>
    mean(xs.map(({ p, truth }) => (p.yhat_lower <= truth && truth <= p.yhat_upper ? 1 : 0)))
  return {
    aheadWidth: width(ahead),
    aheadCoverage: coverage(ahead),
    fitWidth: width(history),
    fitCoverage: coverage(history)
  }
}

layer(TestLayer, { timeout: 600_000, excludeTestServices: true })(
  "prophet: the direct path against prophet's own",
  (it) => {
    it.effect(
      "same fit, intervals as wide (±5%) and covering as often (±5 points) on a planted cohort",
      () =>
        Effect.gen(function* () {
          const cohort = plantedCohort(14)
          const direct = yield* makeForecastClient((yield* Direct).connection())
          const reference = yield* makeForecastClient((yield* Package).connection())
          const [fast, slow] = yield* Effect.all(
            [direct.prophetFit(request(cohort)), reference.prophetFit(request(cohort))],
            {
              concurrency: 2
            }
          )
          const fastOk = okById(fast.series)
          const slowOk = okById(slow.series)
          assert.strictEqual(fastOk.size, STUDENTS)
          assert.strictEqual(slowOk.size, STUDENTS)
          // the same model, data, start and optimizer: the same optimum, point by point
          for (const s of cohort) {
            const a = fastOk.get(s.id)!
            const b = slowOk.get(s.id)!
            a.fit.forEach((p, w) => assert.approximately(p.yhat, b.fit[w]!.yhat, 1e-6, `${s.id} week ${w}`))
            a.forecast.forEach((p, h) => assert.approximately(p.yhat, b.forecast[h]!.yhat, 1e-6, `${s.id} ahead ${h}`))
            assert.deepStrictEqual(
              a.changepoints.map((c) => c.week_start),
              b.changepoints.map((c) => c.week_start)
            )
            assert.approximately(a.trend_rate_per_week, b.trend_rate_per_week, 1e-6)
          }
          const ours = intervalSummary(fastOk, cohort)
          const theirs = intervalSummary(slowOk, cohort)
          console.log(
            `prophet intervals: direct ${JSON.stringify(ours)}; package ${JSON.stringify(theirs)}; ` +
              `R seconds direct ${fast.timing.total_seconds.toFixed(1)}, package ${slow.timing.total_seconds.toFixed(1)}`
          )
          assert.approximately(ours.aheadWidth / theirs.aheadWidth, 1, 0.05, "forecast band width")
          assert.approximately(ours.fitWidth / theirs.fitWidth, 1, 0.05, "in-sample band width")
          assert.approximately(ours.aheadCoverage, theirs.aheadCoverage, 0.05, "coverage of the held-back weeks")
          assert.approximately(ours.fitCoverage, theirs.fitCoverage, 0.05, "in-sample coverage")
          // and both are intervals worth the name on the planted truth (the noise is Gaussian; the line is the truth)
          assert.isAbove(theirs.fitCoverage, 0.85)
          assert.isAbove(ours.fitCoverage, 0.85)
        }),
      { timeout: 600_000 }
    )
  }
)
