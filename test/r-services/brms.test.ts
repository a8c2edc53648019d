import { assert, layer } from "@effect/vitest"
import { Context, Effect, Either, Layer, Redacted, Schema } from "effect"
import { studentChunks } from "../../stages/growth/StudentChunks.ts"
import { BrmsClient, make as makeBrmsClient } from "../../stages/models/BrmsClient.ts"
import * as RServiceClient from "../../stages/models/RServiceClient.ts"
import type { GrowthFitRequest } from "../../stages/models/schemas/Growth.ts"
import { platformLayer, type RunningRService, rawPost, startRService } from "../support/rServices.ts"
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
    for (let week = 0; week < 10; week++)
      rows.push({ student, week, score: intercept + slope * week + random.normal(0, 0.05) })
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
  it.effect(
    "recovers simulated growth slopes within their 95% intervals, without compiling",
    () =>
      Effect.gen(function* () {
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
        console.log(
          `slopes inside their 95% interval: ${inside}/40; population slope`,
          fit.population.slope,
          "timing",
          fit.timing
        )
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
          assert.isTrue(
            s.interval95.lower <= s.expected_score_at_horizon.mean &&
              s.expected_score_at_horizon.mean <= s.interval95.upper
          )
        }

        // /growth/predict, from the fit's thinned population draws, gives the students the same posterior (it is the
        // same exact conditional computation, over 200 of the fit's draws instead of all of them)
        assert.isNotNull(fit.population_draws)
        assert.strictEqual(fit.population_draws!.sigma.length, 200)
        const predicted = yield* brms.predict({
          target: 0.7,
          horizon_weeks: 4,
          as_of_week: fit.as_of_week,
          population: { standardisation: fit.model.standardisation, draws: fit.population_draws! },
          rows: request.rows
        })
        assert.strictEqual(predicted.n_draws, 200)
        const fitted = new Map(fit.students.map((s) => [s.student, s]))
        const gaps = predicted.students.map((p) =>
          Math.abs(p.probability_reach_target01 - fitted.get(p.student)!.probability_reach_target01)
        )
        console.log(
          `predict vs fit: mean |ΔP| ${(gaps.reduce((a, b) => a + b, 0) / gaps.length).toFixed(4)}, max ${Math.max(...gaps).toFixed(4)}`
        )
        assert.isBelow(Math.max(...gaps), 0.03)
        // a student who arrives after the fit with two weeks of data: conditioned on the stored population
        const late = yield* brms.predict({
          target: 0.7,
          horizon_weeks: 4,
          as_of_week: fit.as_of_week,
          population: { standardisation: fit.model.standardisation, draws: fit.population_draws! },
          rows: [
            { student: "late", week: 8, score: 0.9 },
            { student: "late", week: 9, score: 0.92 }
          ]
        })
        assert.strictEqual(late.students[0]!.student, "late")
        assert.isAbove(
          late.students[0]!.probability_reach_target01,
          0.5,
          "a student already at 0.9 is likely to be above 0.7"
        )
      }),
    { timeout: 600_000 }
  )

  it.effect(
    "a fit without students, then its students in chunks through /growth/predict: exactly the fit's students",
    () =>
      Effect.gen(function* () {
        const brms = yield* BrmsClient
        // with graded attempts, so that each week's known variance is part of the computation
        const graded = { ...request, seed: 11, rows: request.rows.map((r, i) => ({ ...r, graded: 4 + (i % 9) * 3 })) }
        const whole = yield* brms.fit(graded)
        const { student_draws, ...population } = yield* brms.fit({ ...graded, students: false })
        assert.lengthOf(population.students, 0)
        assert.deepStrictEqual(population.population, whole.population, "the same population posterior")
        assert.isAbove(
          student_draws!.sigma.length,
          population.population_draws!.sigma.length,
          "every draw, not thinned"
        )
        const answers = yield* Effect.forEach(studentChunks(graded.rows, 7), (rows) =>
          brms.predict({
            rows,
            target: graded.target,
            horizon_weeks: graded.horizon_weeks,
            as_of_week: population.as_of_week,
            population: { standardisation: population.model.standardisation, draws: student_draws! }
          })
        )
        assert.strictEqual(answers.length, 6, "40 students in chunks of 7")
        assert.deepStrictEqual(
          answers.flatMap((a) => a.students),
          whole.students
        )
      }),
    { timeout: 600_000 }
  )

  it.effect(
    "works on any score scale: percent scores give slopes 100 times larger",
    () =>
      Effect.gen(function* () {
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
      }),
    { timeout: 600_000 }
  )

  it.effect(
    "weighs each week by its graded attempts: one lucky 3-attempt week does not make an improver",
    () =>
      Effect.gen(function* () {
        const brms = yield* BrmsClient
        const random = seededRandom(31)
        const binomial = (n: number, p: number) =>
          Array.from({ length: n }, () => (random.uniform() < p ? 1 : 0)).reduce((a: number, b: number) => a + b, 0)
        const rows: Array<{ student: string; week: number; score: number; graded: number }> = []
        const week = (student: string, w: number, graded: number, p: number) =>
          rows.push({ student, week: w, graded, score: binomial(graded, p) / graded })
        // 30 steady students and 8 real improvers (+3 points a week), 40 graded attempts every week
        for (let s = 0; s < 30; s++) for (let w = 0; w < 10; w++) week(`steady-${s}`, w, 40, 0.55)
        for (let s = 0; s < 8; s++) for (let w = 0; w < 10; w++) week(`improver-${s}`, w, 40, 0.45 + 0.03 * w)
        // steady at 0.5 on 40 attempts a week, then a last week of 3 attempts, all correct
        for (let w = 0; w < 9; w++) rows.push({ student: "lucky", week: w, graded: 40, score: 0.5 })
        rows.push({ student: "lucky", week: 9, graded: 3, score: 1 })
        const fitWith = (body: ReadonlyArray<{ student: string; week: number; score: number; graded?: number }>) =>
          brms.fit({ ...request, target: 0.7, rows: body })
        const weighted = yield* fitWith(rows)
        const unweighted = yield* fitWith(rows.map(({ graded: _, ...row }) => row))
        const slopeOf = (fit: typeof weighted) => new Map(fit.students.map((s) => [s.student, s.coefficients.slope]))
        const rank = (fit: typeof weighted) =>
          [...fit.students].sort((a, b) => b.coefficients.slope.mean - a.coefficients.slope.mean).map((s) => s.student)
        const luckyWeighted = slopeOf(weighted).get("lucky")!
        console.log(
          `lucky week: slope ${luckyWeighted.mean.toFixed(4)} [${luckyWeighted.q2_5!.toFixed(4)}, ${luckyWeighted.q97_5!.toFixed(4)}] weighted, rank ${rank(weighted).indexOf("lucky") + 1}; ` +
            `${slopeOf(unweighted).get("lucky")!.mean.toFixed(4)} unweighted, rank ${rank(unweighted).indexOf("lucky") + 1}`
        )
        assert.isTrue(weighted.model.measurement_error)
        assert.isFalse(unweighted.model.measurement_error)
        // weighted: below every real improver, and its interval does not claim growth
        assert.isAbove(rank(weighted).indexOf("lucky"), 7)
        assert.isAtMost(luckyWeighted.q2_5!, 0)
        // the same rows without their attempt counts would rank the lucky student among the improvers
        assert.isBelow(rank(unweighted).indexOf("lucky"), rank(weighted).indexOf("lucky"))
      }),
    { timeout: 600_000 }
  )

  it.effect("refuses a missing or wrong token with reason Unauthorized", () =>
    Effect.gen(function* () {
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
    })
  )

  it.effect("answers invalid bodies with 4xx naming the field: reason InvalidRequest", () =>
    Effect.gen(function* () {
      const service = yield* Brms
      const raw = yield* RServiceClient.make(service.connection())
      const send = raw.endpoint("/growth/fit", Schema.Unknown, Schema.Unknown)
      const bad = yield* Effect.flip(
        send({
          rows: [
            { student: "a", week: "x", score: 1 },
            { student: "b", week: 1, score: 0 },
            { student: "b", week: 2, score: 1 }
          ],
          target: 0.7
        })
      )
      assert.strictEqual(bad.reason, "InvalidRequest")
      assert.strictEqual(bad.status, 422)
      assert.strictEqual(bad.field, "rows[0].week")
      const missing = yield* Effect.flip(send({ rows: simulated.rows.slice(0, 30) }))
      assert.strictEqual(missing.field, "target")
      const malformed = yield* rawPost(`${service.url}/growth/fit`, '{"rows": [', {
        "X-Internal-Token": Redacted.value(service.token)
      })
      assert.strictEqual(malformed.status, 400)
      assert.include(malformed.text, "malformed JSON")
    })
  )
})
