import { assert, layer } from "@effect/vitest"
import { Context, Effect, Either, Layer, Redacted, Schema } from "effect"
import { BrmsClient, make as makeBrmsClient } from "../../stages/models/BrmsClient.ts"
import * as RServiceClient from "../../stages/models/RServiceClient.ts"
import type { GrowthFitRequest } from "../../stages/models/schemas/Growth.ts"
import { platformLayer, rawPost, type RunningRService, startRService } from "../support/rServices.ts"
import { seededRandom } from "../support/simulate.ts"

class Brms extends Context.Tag("test/RunningBrms")<Brms, RunningRService>() {}

const running = Layer.scoped(Brms, startRService("brms"))
const client = Layer.unwrapEffect(Effect.map(Brms, (service) => BrmsClient.layer(service.connection())))
const TestLayer = client.pipe(Layer.provideMerge(running), Layer.provideMerge(platformLayer))

/** 40 students × 10 weeks with known intercepts and slopes (accuracy scale, noise sd 0.05). */
const simulateGrowth = (seed: number) => {
  const random = seededRandom(seed)
  const truth = new Map<string, { intercept: number; slope: number }>()
  const rows: Array<{ student: string; week: number; score: number }> = []
  for (let s = 0; s < 40; s++) {
    const student = `student-${s}`
    const intercept = random.normal(0.5, 0.08)
    const slope = random.normal(0.015, 0.012)
    truth.set(student, { intercept, slope })
    for (let week = 0; week < 10; week++) rows.push({ student, week, score: intercept + slope * week + random.normal(0, 0.05) })
  }
  return { truth, rows }
}

const simulated = simulateGrowth(7)
const request: GrowthFitRequest = {
  rows: simulated.rows,
  target: 0.7,
  horizon_weeks: 4,
  iter: 1000,
  chains: 2,
  family: "gaussian"
}

layer(TestLayer, { timeout: 600_000, excludeTestServices: true })("r-brms-plumber", (it) => {
  it.effect("recovers simulated growth slopes within their 95% intervals, without compiling", () =>
    Effect.gen(function*() {
      const brms = yield* BrmsClient
      const before = yield* brms.health()
      assert.isTrue(before.ready)
      const fit = yield* brms.fit(request)
      const after = yield* brms.health()
      assert.strictEqual(after.compiles, before.compiles, "a fit request must not compile")
      assert.isFalse(fit.compiled)
      assert.strictEqual(fit.n_students, 40)

      const inside = fit.students.filter((s) => {
        const truth = simulated.truth.get(s.student)!
        const slope = s.coefficients.slope
        return slope.q2_5! <= truth.slope && truth.slope <= slope.q97_5!
      }).length
      console.log(`slopes inside their 95% interval: ${inside}/40; population slope`, fit.population.slope, "timing", fit.timing)
      assert.isAtLeast(inside, 34)
      assert.isTrue(fit.population.slope.q2_5 <= 0.015 && 0.015 <= fit.population.slope.q97_5)
      assert.isTrue(fit.population.sigma.q2_5 <= 0.05 && 0.05 <= fit.population.sigma.q97_5)
      assert.isBelow(fit.diagnostics.max_rhat!, 1.1)
      assert.isAbove(fit.diagnostics.min_ess_bulk!, 50)

      // Students whose true expected score at the horizon is far from the target get confident probabilities.
      for (const s of fit.students) {
        const truth = simulated.truth.get(s.student)!
        const expected = truth.intercept + truth.slope * fit.horizon_week
        if (expected > 0.85) assert.isAbove(s.probability_reach_target01, 0.9, s.student)
        if (expected < 0.55) assert.isBelow(s.probability_reach_target01, 0.1, s.student)
        assert.isTrue(s.interval95.lower <= s.expected_score_at_horizon.mean && s.expected_score_at_horizon.mean <= s.interval95.upper)
      }

      // /growth/predict from the stored coefficients agrees with the posterior (normal approximation).
      const predicted = yield* brms.predict({
        target: 0.7,
        horizon_weeks: 4,
        as_of_week: fit.as_of_week,
        students: fit.students.map((s) => ({ student: s.student, coefficients: s.coefficients }))
      })
      const gaps = predicted.students.map((p, i) => Math.abs(p.probability_reach_target01 - fit.students[i]!.probability_reach_target01))
      assert.isBelow(gaps.reduce((a, b) => a + b, 0) / gaps.length, 0.05)
    }), { timeout: 600_000 })

  it.effect("works on any score scale: percent scores give slopes 100 times larger", () =>
    Effect.gen(function*() {
      const brms = yield* BrmsClient
      const percent = yield* brms.fit({
        ...request,
        target: 70,
        rows: request.rows.map((r) => ({ ...r, score: r.score * 100 }))
      })
      const inside = percent.students.filter((s) => {
        const truth = simulated.truth.get(s.student)!.slope * 100
        return s.coefficients.slope.q2_5! <= truth && truth <= s.coefficients.slope.q97_5!
      }).length
      assert.isAtLeast(inside, 34)
      assert.isTrue(percent.population.slope.q2_5 <= 1.5 && 1.5 <= percent.population.slope.q97_5)
    }), { timeout: 600_000 })

  it.effect("refuses a missing or wrong token with reason Unauthorized", () =>
    Effect.gen(function*() {
      const service = yield* Brms
      for (const token of ["", "wrong-token"]) {
        const brms = yield* makeBrmsClient({ ...service.connection(), token: Redacted.make(token) })
        const result = yield* Effect.either(brms.fit(request))
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) {
          assert.strictEqual(result.left.reason, "Unauthorized")
          assert.strictEqual(result.left.status, 401)
          assert.notInclude(JSON.stringify(result.left), Redacted.value(service.token))
        }
      }
    }))

  it.effect("answers invalid bodies with 4xx naming the field: reason InvalidRequest", () =>
    Effect.gen(function*() {
      const service = yield* Brms
      const raw = yield* RServiceClient.make(service.connection())
      const send = raw.endpoint("/growth/fit", Schema.Unknown, Schema.Unknown)
      const bad = yield* Effect.flip(send({ rows: [{ student: "a", week: "x", score: 1 }, { student: "b", week: 1, score: 0 }, { student: "b", week: 2, score: 1 }], target: 0.7 }))
      assert.strictEqual(bad.reason, "InvalidRequest")
      assert.strictEqual(bad.status, 422)
      assert.strictEqual(bad.field, "rows[0].week")
      const missing = yield* Effect.flip(send({ rows: simulated.rows.slice(0, 30) }))
      assert.strictEqual(missing.field, "target")
      const malformed = yield* rawPost(`${service.url}/growth/fit`, "{\"rows\": [", { "X-Internal-Token": Redacted.value(service.token) })
      assert.strictEqual(malformed.status, 400)
      assert.include(malformed.text, "malformed JSON")
    }))
})
