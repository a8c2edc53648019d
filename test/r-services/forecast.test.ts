import { assert, layer } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Redacted } from "effect"
import { ForecastClient, make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import type { ForecastSeries } from "../../stages/models/schemas/Forecast.ts"
import type { SurvivalRow } from "../../stages/models/schemas/Survival.ts"
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
  const values = Array.from({ length: 12 }, (_, w) => 0.1 + 0.02 * w + random.normal(0, 0.01) + (w === spikeAt ? 0.3 : 0))
  return { id, points: weeks(values) }
}

/** Students with known hazard ratios: exp(-1.5) per unit of A_t, exp(0.8) per unit of E_t. */
const simulateSurvival = (n: number, seed: number): Array<SurvivalRow> => {
  const random = seededRandom(seed)
  return Array.from({ length: n }, (_, i) => {
    const A_t = random.uniform()
    const E_t = random.uniform()
    const eventTime = random.exponential(0.02 * Math.exp(-1.5 * A_t + 0.8 * E_t))
    const censorTime = 20 + 70 * random.uniform()
    return {
      user_id: `u${i}`,
      time_days: Math.min(eventTime, censorTime),
      event: eventTime <= censorTime,
      A_t,
      E_t
    }
  })
}

layer(TestLayer, { timeout: 600_000, excludeTestServices: true })("r-forecast-plumber", (it) => {
  it.effect("forecasts a batch: trend continued, injected anomaly found, short and constant series answered per series", () =>
    Effect.gen(function*() {
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
        assert.deepStrictEqual(spiked.anomalies.map((a) => a.week_start), [addDays("2024-01-01", 49)])
        assert.isAbove(spiked.anomalies[0]!.anomaly_score, 2.5)
      }
      assert.strictEqual(byId.get("short")!.status, "insufficient_data")
      assert.strictEqual(byId.get("constant")!.status, "constant_series")
      assert.deepInclude(result.summary, { ok: 2, insufficient_data: 1, constant_series: 1, failed: 0 })
    }), { timeout: 300_000 })

  it.effect("recovers simulated hazard ratios within their 95% intervals", () =>
    Effect.gen(function*() {
      const forecast = yield* ForecastClient
      const rows = simulateSurvival(400, 11)
      const fit = yield* forecast.survivalFit({ rows, event_threshold_days: 14, horizon_days: 14, covariates: ["A_t", "E_t"] })
      const hr = new Map(fit.hazard_ratios.map((h) => [h.name, h]))
      console.log("hazard ratios", fit.hazard_ratios, "concordance", fit.concordance)
      const a = hr.get("A_t")!
      const e = hr.get("E_t")!
      assert.isTrue(a.lower95 <= Math.exp(-1.5) && Math.exp(-1.5) <= a.upper95)
      assert.isTrue(e.lower95 <= Math.exp(0.8) && Math.exp(0.8) <= e.upper95)
      assert.strictEqual(fit.events, rows.filter((r) => r.event).length)
      assert.isAbove(fit.concordance, 0.55)
      // Higher engagement lowers the churn probability at equal follow-up and E_t.
      const predicted = yield* forecast.survivalPredict({
        coefficients: fit.coefficients,
        baseline_hazard: fit.baseline_hazard,
        horizon_days: 14,
        rows: [{ user_id: "low", time_days: 10, A_t: 0.1, E_t: 0.5 }, { user_id: "high", time_days: 10, A_t: 0.9, E_t: 0.5 }]
      })
      assert.isAbove(predicted.risk_scores[0]!.churn_probability01, predicted.risk_scores[1]!.churn_probability01)
      // Stateless predict reproduces the fit's own risk scores.
      const again = yield* forecast.survivalPredict({
        coefficients: fit.coefficients,
        baseline_hazard: fit.baseline_hazard,
        horizon_days: 14,
        // time_days as the service echoed them, so follow-up and baseline times share one JSON rounding.
        rows: rows.slice(0, 20).map((r, i) => ({
          user_id: r.user_id,
          time_days: fit.risk_scores[i]!.time_days,
          A_t: r.A_t ?? null,
          E_t: r.E_t ?? null
        }))
      })
      again.risk_scores.forEach((r, i) => assert.approximately(r.churn_probability01, fit.risk_scores[i]!.churn_probability01, 1e-9))
    }), { timeout: 120_000 })

  it.effect("derives right-censored outcomes from active days", () =>
    Effect.gen(function*() {
      const forecast = yield* ForecastClient
      const fit = yield* forecast.survivalFit({
        cutoff: "2024-03-31",
        event_threshold_days: 14,
        covariates: ["A_t"],
        rows: [
          // 16 inactive days after Jan 3: event; follow-up Jan 1 → gap start Jan 4 = 3 days.
          { user_id: "gap", active_days: ["2024-01-01", "2024-01-03", "2024-01-20", "2024-03-30"], A_t: 0.2 },
          // active every 9 days until the cutoff: censored at the cutoff, 91 days of follow-up.
          { user_id: "steady", active_days: Array.from({ length: 11 }, (_, i) => addDays("2024-01-01", 9 * i)), A_t: 0.7 },
          // last seen Mar 10, 21 inactive days by the cutoff: event at the start of that trailing gap.
          { user_id: "gone", active_days: ["2024-02-01", "2024-02-10", "2024-02-20", "2024-03-01", "2024-03-10"], A_t: 0.3 },
          // last seen Mar 25, only 6 inactive days (and no earlier gap of 14): censored, not an event.
          { user_id: "recent", active_days: ["2024-03-01", "2024-03-12", "2024-03-25"], A_t: 0.6 },
          // 18 inactive days after Feb 1 (before returning): the event is that first gap, at day 1.
          { user_id: "returned", active_days: ["2024-02-01", "2024-02-20", "2024-03-28"], A_t: 0.4 },
          { user_id: "early", active_days: ["2024-01-10", "2024-01-12"], A_t: 0.1 }
        ]
      })
      const outcome = new Map(fit.risk_scores.map((r) => [r.user_id, [r.time_days, r.event] as const]))
      assert.deepStrictEqual(outcome.get("gap"), [3, true])
      assert.deepStrictEqual(outcome.get("steady"), [91, false])
      assert.deepStrictEqual(outcome.get("gone"), [39, true])
      assert.deepStrictEqual(outcome.get("recent"), [31, false])
      assert.deepStrictEqual(outcome.get("early"), [3, true])
      assert.deepStrictEqual(outcome.get("returned"), [1, true])
      assert.isTrue(fit.warnings.some((w) => w.includes("fewer than 10 per covariate")))
    }))

  it.effect("refuses a wrong token and invalid bodies with typed reasons", () =>
    Effect.gen(function*() {
      const service = yield* Forecast
      const wrong = yield* makeForecastClient({ ...service.connection(), token: Redacted.make("nope") })
      const refused = yield* Effect.flip(wrong.prophetFit({ series: [trendSeries("x", 1)], horizon_weeks: 4, anomaly_threshold: 2.5 }))
      assert.strictEqual(refused.reason, "Unauthorized")
      const forecast = yield* ForecastClient
      const invalid = yield* Effect.flip(forecast.survivalFit({ rows: simulateSurvival(10, 3).map((r) => ({ ...r, event: false })), event_threshold_days: 14 }))
      assert.strictEqual(invalid.reason, "InvalidRequest")
      assert.strictEqual(invalid.status, 422)
      assert.strictEqual(invalid.field, "rows")
    }))

  it.scoped("a service killed mid-request surfaces as a typed Transport error", () =>
    Effect.gen(function*() {
      const doomed = yield* startRService("forecast")
      const forecast = yield* makeForecastClient(doomed.connection({ retries: 1 }))
      const series = Array.from({ length: 150 }, (_, i) => trendSeries(`s${i}`, i))
      const call = yield* Effect.fork(forecast.prophetFit({ series, horizon_weeks: 4, anomaly_threshold: 2.5 }))
      yield* Effect.sleep(Duration.seconds(2))
      yield* doomed.kill
      const error = yield* Effect.flip(Fiber.join(call))
      assert.strictEqual(error._tag, "RServiceError")
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.endpoint, "/prophet/fit")
    }), { timeout: 120_000 })
})
