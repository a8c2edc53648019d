import { Command } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { repositoryRoot, sharedCacheDir } from "../support/rServices.ts"

/**
 * brms is the reference of the growth model. r-services/tests/growth_reference.R fits one generated cohort (50
 * students, 4–8 weeks each, 3–40 graded attempts a week) twice: with brms, sampling every student's effects
 * (`z | se(se_z, sigma = TRUE) ~ u + (u | student)`, the service's priors), and with the service's marginal model,
 * where the effects are integrated out. The two must describe the same posterior.
 */
const Summary = Schema.Struct({ mean: Schema.Number, sd: Schema.Number, ess_bulk: Schema.Number })
const Population = Schema.Struct({
  intercept: Summary,
  slope: Summary,
  sd_student_intercept: Summary,
  sd_student_slope: Summary,
  cor_student_intercept_slope: Summary,
  sigma: Summary
})
const Student = Schema.Struct({
  student: Schema.String,
  p: Schema.Number,
  expected_mean: Schema.Number,
  slope_mean: Schema.Number
})
const Side = Schema.Struct({
  population: Population,
  diagnostics: Schema.Struct({ max_rhat: Schema.Number, min_ess_bulk: Schema.Number }),
  students: Schema.Array(Student)
})
const Comparison = Schema.Struct({
  n_students: Schema.Int,
  seconds: Schema.Struct({ brms: Schema.Number, marginal: Schema.Number }),
  brms: Side,
  marginal: Side
})

const Algebra = Schema.Struct({
  log_density: Schema.Struct({
    stan_differences: Schema.Array(Schema.Number),
    direct_differences: Schema.Array(Schema.Number)
  }),
  students: Schema.Struct({
    max_abs_p: Schema.Number,
    max_abs_mean: Schema.Number,
    max_abs_sd: Schema.Number,
    forked_max_abs_p: Schema.Number,
    chunked_same_students: Schema.Boolean,
    chunked_max_abs: Schema.Number,
    n: Schema.Int
  })
})

/** Runs one of the R test scripts with the shared model cache and decodes the JSON it prints last. */
const rScript = <A, I>(script: string, schema: Schema.Schema<A, I>) =>
  Command.make("Rscript", `${repositoryRoot}r-services/tests/${script}`, "--cache-dir", sharedCacheDir).pipe(
    Command.env({ TZ: "UTC" }),
    Command.string,
    Effect.flatMap((output) => Schema.decodeUnknown(Schema.parseJson(schema))(output.trim().split("\n").at(-1)!)),
    Effect.provide(NodeContext.layer)
  )

describe("the growth model's algebra against the direct computation", () => {
  it.effect(
    "Stan's marginal log density and the per-student posteriors equal the full-matrix formulas",
    () =>
      Effect.gen(function* () {
        const result = yield* rScript("growth_algebra.R", Algebra)
        const { direct_differences, stan_differences } = result.log_density
        assert.strictEqual(stan_differences.length, 2)
        stan_differences.forEach((d, i) =>
          assert.approximately(d, direct_differences[i]!, 1e-8, "log density difference")
        )
        assert.isBelow(result.students.max_abs_p, 1e-10)
        assert.isBelow(result.students.max_abs_mean, 1e-10)
        assert.isBelow(result.students.max_abs_sd, 1e-10)
        // the draws split over two forked processes give the same posteriors
        assert.isBelow(result.students.forked_max_abs_p, 1e-12)
        // the students computed in chunks (as the pipeline spreads them over replicas) give the same numbers exactly
        assert.isTrue(result.students.chunked_same_students)
        assert.strictEqual(result.students.chunked_max_abs, 0)
      }),
    { timeout: 600_000 }
  )
})

describe("the growth model against brms (the reference)", () => {
  it.effect(
    "population posteriors agree within Monte Carlo error; per-student P within 0.05 for ≥ 95% of students",
    () =>
      Effect.gen(function* () {
        const result = yield* rScript("growth_reference.R", Comparison)
        assert.isBelow(result.brms.diagnostics.max_rhat, 1.01, "the reference itself converged")

        for (const name of Object.keys(result.brms.population) as Array<keyof typeof result.brms.population>) {
          const b = result.brms.population[name]
          const m = result.marginal.population[name]
          // Monte Carlo standard error of each posterior mean: sd / sqrt(ESS)
          const mcse = Math.sqrt(b.sd ** 2 / b.ess_bulk + m.sd ** 2 / m.ess_bulk)
          const z = (m.mean - b.mean) / mcse
          console.log(
            `growth reference: ${name} brms ${b.mean.toFixed(5)} ± ${b.sd.toFixed(5)} (ESS ${b.ess_bulk.toFixed(0)}), ` +
              `marginal ${m.mean.toFixed(5)} ± ${m.sd.toFixed(5)} (ESS ${m.ess_bulk.toFixed(0)}): z = ${z.toFixed(2)}`
          )
          assert.isBelow(Math.abs(z), 4, `${name}: means differ by ${z.toFixed(2)} Monte Carlo SEs`)
          assert.approximately(m.sd / b.sd, 1, 0.2, `${name}: posterior SDs ${m.sd} vs ${b.sd}`)
        }

        const brmsP = new Map(result.brms.students.map((s) => [s.student, s.p]))
        assert.strictEqual(result.marginal.students.length, result.n_students)
        const gaps = result.marginal.students.map((s) => Math.abs(s.p - brmsP.get(s.student)!))
        const within = gaps.filter((g) => g <= 0.05).length / gaps.length
        console.log(
          `growth reference: per-student |ΔP| ≤ 0.05 for ${(within * 100).toFixed(1)}% of ${gaps.length}, max ${Math.max(
            ...gaps
          ).toFixed(3)}; brms ${result.seconds.brms.toFixed(1)} s, marginal ${result.seconds.marginal.toFixed(1)} s`
        )
        assert.isAtLeast(within, 0.95)
      }),
    { timeout: 900_000 }
  )
})
