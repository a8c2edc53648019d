// Growth fit time (the marginal model: population by Stan, students exact) for N students × 12 weeks of binomial
// weekly accuracy with their graded counts, compiles after warm-up, client end-to-end time against the R-internal
// time, and the population diagnostics acceptance looks at. Prints ratios; never asserts.
// Run: npx tsx bench/r-services/brms.ts [200 2000 10000]
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { make as makeBrmsClient } from "../../stages/models/BrmsClient.ts"
import { platformLayer, startRService } from "../../test/support/rServices.ts"
import { seededRandom } from "../../test/support/simulate.ts"

const args = process.argv.slice(2)
// `--seeds K`: also fit the first size with K sampler seeds and count how many fits the acceptance rule takes
const seeds = args.includes("--seeds") ? Number(args[args.indexOf("--seeds") + 1]) : 0
const sizes = args
  .filter((_, i) => args[i - 1] !== "--seeds")
  .map(Number)
  .filter((n) => n > 0)

const rowsFor = (students: number) => {
  const random = seededRandom(students)
  return Array.from({ length: students }, (_, s) => {
    const intercept = random.normal(0.5, 0.08)
    const slope = random.normal(0.015, 0.012)
    return Array.from({ length: 12 }, (_, week) => {
      const graded = 5 + Math.floor(random.uniform() * 50)
      const p = Math.min(0.98, Math.max(0.02, intercept + slope * week))
      let correct = 0
      for (let k = 0; k < graded; k++) correct += random.uniform() < p ? 1 : 0
      return { student: `s${s}`, week, score: correct / graded, graded }
    })
  }).flat()
}

const program = Effect.gen(function* () {
  const service = yield* startRService("brms")
  const brms = yield* makeBrmsClient(service.connection())
  const warm = yield* brms.fit({
    rows: rowsFor(30),
    target: 0.7,
    horizon_weeks: 4,
    iter: 1000,
    chains: 2,
    family: "gaussian"
  })
  const compilesAfterWarmUp = (yield* brms.health()).compiles
  console.log(`warm-up fit: ${warm.timing.total_seconds.toFixed(2)} s R-internal`)
  for (const students of sizes.length > 0 ? sizes : [200]) {
    const started = performance.now()
    const fit = yield* brms.fit({
      rows: rowsFor(students),
      target: 0.7,
      horizon_weeks: 4,
      iter: 1000,
      chains: 2,
      family: "gaussian"
    })
    const endToEnd = (performance.now() - started) / 1000
    const compiles = (yield* brms.health()).compiles - compilesAfterWarmUp
    console.log(
      `${students} students × 12 weeks: end-to-end ${endToEnd.toFixed(2)} s; R total ${fit.timing.total_seconds.toFixed(2)} s ` +
        `(sampling ${fit.timing.sampling_seconds.toFixed(2)} s, Stan ${fit.timing.stan_seconds.toFixed(2)} s per chain, ` +
        `students ${fit.timing.student_seconds.toFixed(2)} s, summaries ${fit.timing.postprocess_seconds.toFixed(2)} s); transport+validation overhead ` +
        `${(100 * (endToEnd / fit.timing.total_seconds - 1)).toFixed(1)}% of R time; ` +
        `end-to-end / sampling = ${(endToEnd / fit.timing.sampling_seconds).toFixed(3)}; compiles since warm-up: ${compiles}; ` +
        `population: max R-hat ${fit.diagnostics.max_rhat?.toFixed(4)}, min bulk ESS ${fit.diagnostics.min_ess_bulk?.toFixed(0)}, ` +
        `min tail ESS ${fit.diagnostics.min_ess_tail?.toFixed(0)}, divergences ${fit.diagnostics.divergences}, converged ${fit.diagnostics.converged}`
    )
  }
  const first = (sizes.length > 0 ? sizes : [200])[0]!
  let accepted = 0
  for (let seed = 1; seed <= seeds; seed++) {
    const fit = yield* brms.fit({
      rows: rowsFor(first),
      target: 0.7,
      horizon_weeks: 4,
      iter: 1000,
      chains: 2,
      family: "gaussian",
      seed
    })
    if (fit.diagnostics.converged) accepted++
    console.log(
      `  seed ${seed}: max R-hat ${fit.diagnostics.max_rhat?.toFixed(4)}, min bulk ESS ${fit.diagnostics.min_ess_bulk?.toFixed(0)}, ` +
        `min tail ESS ${fit.diagnostics.min_ess_tail?.toFixed(0)}, divergences ${fit.diagnostics.divergences}`
    )
  }
  if (seeds > 0)
    console.log(
      `${first} students, default settings: ${accepted}/${seeds} seeds accepted (R-hat ≤ 1.01, ESS ≥ 400, no divergences)`
    )
}).pipe(Effect.scoped, Effect.provide(platformLayer))

NodeRuntime.runMain(program)
