import { assert, layer } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Redacted } from "effect"
import { ForecastClient, make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import type { ForecastSeries } from "../../stages/models/schemas/Forecast.ts"
import type { SurvivalPredictRequest, SurvivalRow } from "../../stages/models/schemas/Survival.ts"
import { platformLayer, type RunningRService, startRService } from "../support/rServices.ts"
import { addDays, seededRandom } from "../support/simulate.ts"

class Forecast extends Context.Tag("test/RunningForecast")<Forecast, RunningRService>() {}

const running = Layer.scoped(Forecast, startRService("forecast"))
const client = Layer.unwrapEffect(Effect.map(Forecast, (service) => ForecastClient.layer(service.connection())))
const TestLayer = client.pipe(Layer.provideMerge(running), Layer.provideMerge(platformLayer))

const weeks = (values: ReadonlyArray<number | null>, start = "2024-01-01") =>
  values.map((value, i) => ({ week_start: addDays(start, 7 * i), value }))

/** A linear trend of 0.02 per week plus noise; one point pushed far off at week 7. */
const trendSeries = (id: string, seed: number, spikeAt?: number): typeof ForecastSeries.Type => {
  const random = seededRandom(seed)
  const values = Array.from(
    { length: 12 },
    (_, w) => 0.1 + 0.02 * w + random.normal(0, 0.01) + (w === spikeAt ? 0.3 : 0)
  )
  return { id, points: weeks(values) }
}

const CUTOFF = "2024-06-30"

/**
 * Students with known return hazard ratios: gaps between active days are exponential, rounded up to whole days, with
 * rate 0.05 · exp(1.2 A_t − 0.8 E_t); each starts within 180–160 days before the cutoff.
 */
const simulateSurvival = (n: number, seed: number): Array<SurvivalRow> => {
  const random = seededRandom(seed)
  return Array.from({ length: n }, (_, i) => {
    const A_t = random.uniform()
    const E_t = random.uniform()
    const active_days: Array<string> = []
    for (
      let day = -180 + Math.floor(21 * random.uniform());
      day <= 0;
      day += Math.ceil(random.exponential(0.05 * Math.exp(1.2 * A_t - 0.8 * E_t)))
    )
      active_days.push(addDays(CUTOFF, day))
    return { user_id: `u${i}`, active_days, A_t, E_t }
  })
}

const daysBetween = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000)

layer(TestLayer, { timeout: 600_000, excludeTestServices: true })("r-forecast-plumber", (it) => {
  it.effect(
    "forecasts a batch: trend continued, injected anomaly found, short and constant series answered per series",
    () =>
      Effect.gen(function* () {
        const forecast = yield* ForecastClient
        const result = yield* forecast.prophetFit({
          series: [
            trendSeries("trend", 1),
            trendSeries("spiked", 2, 7),
            { id: "short", points: weeks([0.1, 0.2, null, 0.3]) },
            { id: "constant", points: weeks(Array.from({ length: 8 }, () => 0.25)) }
          ],
          horizon_weeks: 4,
          anomaly_threshold: 2.5
        })
        const byId = new Map(result.series.map((s) => [s.id, s]))
        const trend = byId.get("trend")!
        assert.strictEqual(trend.status, "ok")
        if (trend.status === "ok") {
          assert.strictEqual(trend.forecast.length, 4)
          assert.strictEqual(trend.forecast[0]!.week_start, "2024-03-25")
          // Truth at week 15 is 0.1 + 0.02 * 15 = 0.40.
          const last = trend.forecast[3]!
          assert.approximately(last.yhat, 0.4, 0.05)
          assert.isTrue(last.yhat_lower < 0.4 && 0.4 < last.yhat_upper)
          assert.approximately(trend.trend_rate_per_week, 0.02, 0.006)
          assert.lengthOf(trend.anomalies, 0)
        }
        const spiked = byId.get("spiked")!
        assert.strictEqual(spiked.status, "ok")
        if (spiked.status === "ok") {
          assert.deepStrictEqual(
            spiked.anomalies.map((a) => a.week_start),
            [addDays("2024-01-01", 49)]
          )
          assert.isAbove(spiked.anomalies[0]!.anomaly_score, 2.5)
        }
        assert.strictEqual(byId.get("short")!.status, "insufficient_data")
        assert.strictEqual(byId.get("constant")!.status, "constant_series")
        assert.deepInclude(result.summary, { ok: 2, insufficient_data: 1, constant_series: 1, failed: 0 })
      }),
    { timeout: 300_000 }
  )

  it.effect(
    "recovers simulated return hazard ratios; S is 1 once lapsed and grows with the days since the last active day",
    () =>
      Effect.gen(function* () {
        const forecast = yield* ForecastClient
        const rows = simulateSurvival(200, 11)
        const fit = yield* forecast.survivalFit({
          rows,
          cutoff: CUTOFF,
          event_threshold_days: 14,
          covariates: ["A_t", "E_t"]
        })
        const hr = new Map(fit.hazard_ratios.map((h) => [h.name, h]))
        console.log("return hazard ratios", fit.hazard_ratios, "concordance", fit.concordance)
        const a = hr.get("A_t")!
        const e = hr.get("E_t")!
        assert.isTrue(a.lower95 <= Math.exp(1.2) && Math.exp(1.2) <= a.upper95)
        assert.isTrue(e.lower95 <= Math.exp(-0.8) && Math.exp(-0.8) <= e.upper95)
        assert.isAbove(fit.concordance, 0.55)
        // the gaps, counted here: one return per pair of consecutive active days, plus the open gap unless active on the cutoff
        const last = rows.map((r) => r.active_days[r.active_days.length - 1]!)
        const since = last.map((day) => daysBetween(day, CUTOFF))
        assert.strictEqual(
          fit.returns,
          rows.reduce((n, r) => n + r.active_days.length - 1, 0)
        )
        assert.strictEqual(fit.gaps, fit.returns + since.filter((d) => d > 0).length)
        assert.deepStrictEqual(
          fit.risk_scores.map((r) => r.time_days),
          since
        )
        fit.risk_scores.forEach((r) => assert.strictEqual(r.churn_probability01 === 1, r.time_days >= 14, r.user_id))

        const score = (rows: SurvivalPredictRequest["rows"]) =>
          forecast
            .survivalPredict({
              coefficients: fit.coefficients,
              baseline_hazard: fit.baseline_hazard,
              event_threshold_days: 14,
              rows
            })
            .pipe(Effect.map((p) => p.risk_scores.map((r) => r.churn_probability01 as number)))
        // the same student, further into a gap: more likely to stay away, certain once 14 days are reached
        const byDays = yield* score(
          Array.from({ length: 16 }, (_, d) => ({ user_id: `d${d}`, days_since_last: d, A_t: 0.5, E_t: 0.5 }))
        )
        byDays.slice(1, 14).forEach((s, d) => assert.isAbove(s, byDays[d]!, `day ${d + 1}`))
        assert.deepStrictEqual(byDays.slice(14), [1, 1])
        // higher engagement returns sooner: a lower churn probability at equal days since last and E_t
        const [low, high] = yield* score([
          { user_id: "low", days_since_last: 5, A_t: 0.1, E_t: 0.5 },
          { user_id: "high", days_since_last: 5, A_t: 0.9, E_t: 0.5 }
        ])
        assert.isAbove(low!, high!)
        // stateless predict reproduces the fit's own scores
        const again = yield* score(
          rows
            .slice(0, 20)
            .map((r, i) => ({ user_id: r.user_id, days_since_last: since[i]!, A_t: r.A_t ?? null, E_t: r.E_t ?? null }))
        )
        again.forEach((s, i) => assert.approximately(s, fit.risk_scores[i]!.churn_probability01, 1e-9))
      }),
    { timeout: 120_000 }
  )

  it.effect(
    "builds gaps from active days: returns between them, the open gap censored, churn runs counted per student",
    () =>
      Effect.gen(function* () {
        const forecast = yield* ForecastClient
        const jan = (...days: Array<number>) => days.map((d) => addDays("2023-12-31", d))
        const fit = yield* forecast.survivalFit({
          cutoff: "2024-01-20",
          event_threshold_days: 14,
          covariates: ["A_t"],
          rows: [
            // returns after 1 and 8 days, open for 10: no run of 14 inactive days
            { user_id: "example", active_days: jan(1, 2, 10), A_t: 0.5 },
            // 17 days since the last active day: lapsed
            { user_id: "gone", active_days: jan(1, 3), A_t: 0.2 },
            // 14 inactive days (Jan 2–15) before returning: a churn run, though active again
            { user_id: "came-back", active_days: jan(1, 16), A_t: 0.3 },
            // 13 inactive days before returning: not one
            { user_id: "almost", active_days: jan(1, 15), A_t: 0.7 },
            // active on the cutoff day: no open gap
            { user_id: "today", active_days: jan(5, 12, 20), A_t: 0.9 },
            // exactly 14 inactive days by the cutoff
            { user_id: "fourteen", active_days: jan(6), A_t: 0.4 },
            // a day after the cutoff is not seen
            { user_id: "late", active_days: jan(2, 25), A_t: 0.6 }
          ]
        })
        const outcome = new Map(
          fit.risk_scores.map((r) => [r.user_id, [r.time_days, r.event, r.churn_probability01 === 1] as const])
        )
        assert.deepStrictEqual(Object.fromEntries(outcome), {
          example: [10, false, false],
          gone: [17, true, true],
          "came-back": [4, true, false],
          almost: [5, false, false],
          today: [0, false, false],
          fourteen: [14, true, true],
          late: [18, true, true]
        })
        assert.deepStrictEqual([fit.n, fit.events, fit.returns, fit.gaps], [7, 4, 7, 13])
        assert.isTrue(fit.warnings.some((w) => w.includes("fewer than 10 per covariate")))
      })
  )

  it.effect("refuses a wrong token and invalid bodies with typed reasons", () =>
    Effect.gen(function* () {
      const service = yield* Forecast
      const wrong = yield* makeForecastClient({ ...service.connection(), token: Redacted.make("nope") })
      const refused = yield* Effect.flip(
        wrong.prophetFit({ series: [trendSeries("x", 1)], horizon_weeks: 4, anomaly_threshold: 2.5 })
      )
      assert.strictEqual(refused.reason, "Unauthorized")
      const forecast = yield* ForecastClient
      // one active day each: nobody returns, so there is no return hazard to estimate
      const once = simulateSurvival(10, 3).map((r) => ({ ...r, active_days: r.active_days.slice(0, 1) }))
      const invalid = yield* Effect.flip(forecast.survivalFit({ rows: once, cutoff: CUTOFF, event_threshold_days: 14 }))
      assert.strictEqual(invalid.reason, "InvalidRequest")
      assert.strictEqual(invalid.status, 422)
      assert.strictEqual(invalid.field, "rows")
    })
  )

  it.scoped(
    "a service killed mid-request surfaces as a typed Transport error",
    () =>
      Effect.gen(function* () {
        const doomed = yield* startRService("forecast")
        const forecast = yield* makeForecastClient(doomed.connection({ retries: 1 }))
        // enough series to keep the service busy for seconds on the fast path (~10 ms a series per worker)
        const series = Array.from({ length: 2000 }, (_, i) => trendSeries(`s${i}`, i))
        const call = yield* Effect.fork(forecast.prophetFit({ series, horizon_weeks: 4, anomaly_threshold: 2.5 }))
        yield* Effect.sleep(Duration.seconds(2))
        yield* doomed.kill
        const error = yield* Effect.flip(Fiber.join(call))
        assert.strictEqual(error._tag, "RServiceError")
        assert.strictEqual(error.reason, "Transport")
        assert.strictEqual(error.endpoint, "/prophet/fit")
      }),
    { timeout: 120_000 }
  )
})
