import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import * as Generator from "../../cohort/Generator.ts"
import { seedCohort } from "../../cohort/Loader.ts"
import * as Runner from "../../engine/Runner.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { fitBayesianGrowth } from "../../pipelines/fitBayesianGrowth.ts"
import {
  growthWeeks,
  MIN_GRADED_PER_WEEK,
  MIN_WEEKS_PER_STUDENT,
  weeklyAccuracy
} from "../../sources/WeeklyAccuracyQuery.ts"
import { BrmsClient } from "../../stages/models/BrmsClient.ts"
import { reportWeek } from "../../stages/report/ReportWeek.ts"
import { runtimeFor } from "../kpi/support.ts"
import { platformLayer, type RunningRService, startRService } from "../support/rServices.ts"
import { databases, embedded } from "../support/TestDatabase.ts"

// a Sunday: the as-of week is complete
const LAST_DAY = "2026-05-31"
const COHORT: Generator.CohortOptions = { students: 70, weeks: 14, seed: 11, endDate: LAST_DAY }
const LOOKBACK_WEEKS = 12
const FIT = { asOf: LAST_DAY, lookbackWeeks: String(LOOKBACK_WEEKS), iter: "1500", chains: "2" }
const WEEK = 7 * 86_400_000

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

/**
 * Every generated student's weekly accuracy in the growth lookback, and the planted slope on the model's scale,
 * computed from the generator's parameters, not from the outcomes: the generator plants a slope on the logit scale
 * (`growth_per_week`) and does not store one on the accuracy scale, so the expected accuracy of each attempt —
 * sigmoid(ability0 + growth·t + anomaly shift − item difficulty + 0.6·hint) — is averaged per week and the least-
 * squares slope of those expectations over the student's counted weeks is the slope a linear growth model estimates.
 */
const plantedCohort = (options: Generator.CohortOptions) => {
  const plan = Generator.plan(options)
  const difficulty = new Map(plan.items.map((i) => [i.id, i.difficulty]))
  const weeks = growthWeeks(LAST_DAY, LOOKBACK_WEEKS)
  const lo = Date.parse(`${weeks.firstWeek}T00:00:00Z`)
  const hi = Date.parse(`${weeks.scanTo}T00:00:00Z`)
  const anomaly = Date.parse(`${plan.anomalyWeekStart}T00:00:00Z`)
  const students = new Map<
    string,
    { archetype: Generator.Archetype; slope: number; observed: Map<number, { graded: number; correct: number }> }
  >()
  for (let i = 0; i < options.students; i++) {
    const { attempts, truth } = Generator.generateStudent(plan, i)
    const perWeek = new Map<number, { graded: number; correct: number; expected: number }>()
    for (const a of attempts) {
      if (a.started_at < lo || a.started_at >= hi) continue
      const week = Math.floor((a.started_at - lo) / WEEK)
      const shift = a.started_at >= anomaly && a.started_at < anomaly + WEEK ? plan.anomalyLogitShift : 0
      const ability = truth.ability0 + truth.growth_per_week * ((a.started_at - plan.startMs) / WEEK) + shift
      const w = perWeek.get(week) ?? { graded: 0, correct: 0, expected: 0 }
      w.graded++
      w.correct += a.correct ? 1 : 0
      w.expected += sigmoid(ability - difficulty.get(a.item_id)! + (a.hint_used ? 0.6 : 0))
      perWeek.set(week, w)
    }
    const counted = [...perWeek].filter(([, w]) => w.graded >= MIN_GRADED_PER_WEEK)
    if (counted.length < MIN_WEEKS_PER_STUDENT) continue
    const xs = counted.map(([week]) => week)
    const ys = counted.map(([, w]) => w.expected / w.graded)
    const mx = xs.reduce((s, x) => s + x, 0) / xs.length
    const my = ys.reduce((s, y) => s + y, 0) / ys.length
    const slope = xs.reduce((s, x, k) => s + (x - mx) * (ys[k]! - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0)
    students.set(truth.student_id, { archetype: truth.archetype, slope, observed: new Map(counted) })
  }
  return students
}

/** Probability that a random improver has a higher P than a random struggler (ties count half). */
const rankAuc = (positives: ReadonlyArray<number>, negatives: ReadonlyArray<number>) => {
  let wins = 0
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0
  return wins / (positives.length * negatives.length)
}

const readPosterior = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{
    run_id: string
    user_id: string
    week_start: string
    p_goal: number
    sigma: number
    lower95: number
    upper95: number
  }>`
    SELECT run_id, user_id, week_start::text AS week_start, p_goal, sigma, lower95, upper95
    FROM growth_brms_posterior ORDER BY user_id`
})

const readMeta = (runId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{
      diagnostics: { accepted: boolean; reasons: Array<string>; max_rhat: number }
      posterior_summary: { students: Record<string, { slope: { mean: number; q2_5?: number; q97_5?: number } }> }
    }>`
      SELECT diagnostics, posterior_summary FROM growth_brms_meta WHERE run_id = ${runId}`
    return row!
  })

const seeded = Layer.effectDiscard(seedCohort(COHORT))

describe_sources()

describe("the weeks a growth fit reads", () => {
  it("end with the last complete week, the week the report of the same day describes", () => {
    // Tuesday 2026-12-01: the week of 11-30 has only begun, so the fit ends with the week of 11-23, as the report does
    assert.deepStrictEqual(growthWeeks("2026-12-01", 12), {
      firstWeek: "2026-09-07",
      lastWeek: "2026-11-23",
      scanTo: "2026-11-30",
      asOfWeek: 11
    })
    assert.strictEqual(reportWeek("2026-12-01").weekStart, growthWeeks("2026-12-01", 12).lastWeek)
    // a Sunday completes its week
    assert.strictEqual(growthWeeks("2026-11-29", 12).lastWeek, "2026-11-23")
    assert.strictEqual(growthWeeks("2026-11-30", 12).lastWeek, "2026-11-23")
  })
})

class Brms extends Context.Tag("test/RunningBrms")<Brms, RunningRService>() {}
const running = Layer.scoped(Brms, startRService("brms"))
const client = Layer.unwrapEffect(Effect.map(Brms, (service) => BrmsClient.layer(service.connection())))
const database = Layer.provideMerge(seeded, runtimeFor(embedded))
const TestLayer = Layer.merge(client, database).pipe(Layer.provideMerge(running), Layer.provideMerge(platformLayer))

layer(TestLayer, { timeout: 900_000, excludeTestServices: true })(
  "fit-bayesian-growth on the embedded database with r-brms-plumber",
  (it) => {
    const planted = plantedCohort(COHORT)

    it.effect(
      "ranks planted improvers above strugglers and covers the planted slopes",
      () =>
        Effect.gen(function* () {
          const result = yield* Runner.run(fitBayesianGrowth, { params: FIT })
          const meta = yield* readMeta(result.runId)
          assert.isTrue(meta.diagnostics.accepted, `diagnostics: ${JSON.stringify(meta.diagnostics)}`)
          const posterior = yield* readPosterior
          assert.deepStrictEqual(
            posterior.map((p) => p.user_id),
            [...planted.keys()].sort(),
            "one row per student the fit could use"
          )
          assert.isTrue(posterior.every((p) => p.run_id === result.runId && p.week_start === "2026-05-25"))
          assert.isTrue(posterior.every((p) => p.lower95 <= p.upper95 && p.sigma > 0))

          const pOf = (kind: Generator.Archetype) =>
            posterior.filter((p) => planted.get(p.user_id)!.archetype === kind).map((p) => p.p_goal)
          const improvers = pOf("improver")
          const strugglers = pOf("struggler")
          assert.isAtLeast(improvers.length, 4)
          assert.isAtLeast(strugglers.length, 4)
          const auc = rankAuc(improvers, strugglers)
          console.log(
            `growth: AUC improvers vs strugglers = ${auc.toFixed(3)} (${improvers.length} vs ${strugglers.length})`
          )
          assert.isAbove(auc, 0.8)

          let covered = 0
          const misses: Array<string> = []
          for (const [student, truth] of planted) {
            const slope = meta.posterior_summary.students[student]!.slope
            assert.isDefined(slope.q2_5)
            if (slope.q2_5! <= truth.slope && truth.slope <= slope.q97_5!) covered++
            else
              misses.push(
                `${student} (${truth.archetype}) planted ${truth.slope.toFixed(4)} ∉ [${slope.q2_5!.toFixed(4)}, ${slope.q97_5!.toFixed(4)}]`
              )
          }
          const coverage = covered / planted.size
          console.log(
            `growth: 95% slope interval covers the planted slope for ${covered}/${planted.size} = ${(coverage * 100).toFixed(1)}%`
          )
          if (misses.length > 0) console.log(`growth: misses\n  ${misses.join("\n  ")}`)
          assert.isAtLeast(coverage, 0.9)
        }),
      { timeout: 300_000 }
    )

    it.effect(
      "with METRICS_USE_BAYESIAN=true the KPI run takes P and sigma from the stored posterior",
      () =>
        Effect.gen(function* () {
          const posterior = new Map((yield* readPosterior).map((p) => [p.user_id, p]))
          assert.isAbove(posterior.size, 0)
          yield* Runner.run(computeDailyKpis, { params: { asOf: LAST_DAY, lookbackDays: "6", useBayesian: "true" } })
          const sql = yield* SqlClient.SqlClient
          const kpis = yield* sql<{ user_id: string; p: number | null; sigma: number | null }>`
        SELECT user_id, (kpis ->> 'P')::float8 AS p, (kpis ->> 'sigma')::float8 AS sigma
        FROM weekly_kpi WHERE week_start = '2026-05-25'`
          let compared = 0
          for (const row of kpis) {
            const stored = posterior.get(row.user_id)
            if (stored === undefined) {
              assert.isNull(row.p, `${row.user_id} has no posterior, so no Bayesian P`)
              continue
            }
            assert.strictEqual(row.p, stored.p_goal, `P of ${row.user_id}`)
            assert.strictEqual(row.sigma, stored.sigma, `sigma of ${row.user_id}`)
            compared++
          }
          // students who stopped before the as-of week (churners) have a posterior but no KPI row for it
          assert.isAtLeast(compared, posterior.size - 10)
        }),
      { timeout: 300_000 }
    )

    it.effect(
      "a fit with failing diagnostics is recorded as rejected and leaves the last good posterior",
      () =>
        Effect.gen(function* () {
          const before = yield* readPosterior
          // 100 iterations (50 of warm-up): the chains cannot agree on the hierarchical variances
          const result = yield* Runner.run(fitBayesianGrowth, { params: { ...FIT, iter: "100", seed: "3" } })
          const meta = yield* readMeta(result.runId)
          assert.isFalse(meta.diagnostics.accepted, `diagnostics: ${JSON.stringify(meta.diagnostics)}`)
          assert.isAbove(meta.diagnostics.reasons.length, 0)
          console.log(`growth: rejected fit: ${meta.diagnostics.reasons.join("; ")}`)
          assert.deepStrictEqual(yield* readPosterior, before)
          assert.deepStrictEqual(
            result.sinks.map((s) => [s.target, s.inserted, s.deleted]),
            [
              ["growth_brms_meta", 1, 0],
              ["growth_brms_posterior", 0, 0]
            ]
          )
          const record = Option.getOrThrow(yield* (yield* RunStore).get(result.runId))
          const notes = record.stages.find((s) => s.name === "acceptance")!.notes
          assert.match(String(notes["rejected"]), /posterior not replaced/)
        }),
      { timeout: 300_000 }
    )

    it.effect(
      "a dry run reports what it would replace and writes nothing; a re-run replaces the week's rows",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const count = (table: string) =>
            sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(table)}`.pipe(Effect.map((r) => r[0]!.n))
          const before = yield* readPosterior
          const metaBefore = yield* count("growth_brms_meta")
          const preview = yield* Runner.dryRun(fitBayesianGrowth, { params: FIT })
          const [metaPreview, posteriorPreview] = preview.sinks
          assert.deepInclude(metaPreview!, { target: "growth_brms_meta", inserts: 1 })
          assert.deepInclude(posteriorPreview!, {
            target: "growth_brms_posterior",
            inserts: before.length,
            deletes: before.length
          })
          assert.isAbove(posteriorPreview!.sample.length, 0)
          assert.deepStrictEqual(yield* readPosterior, before, "dry run wrote nothing")
          assert.strictEqual(yield* count("growth_brms_meta"), metaBefore)

          const again = yield* Runner.run(fitBayesianGrowth, { params: FIT })
          const after = yield* readPosterior
          assert.strictEqual(after.length, before.length, "no duplicates")
          assert.isTrue(after.every((p) => p.run_id === again.runId))
        }),
      { timeout: 300_000 }
    )
  }
)

/** The weekly accuracy source against the generator's attempts, on both databases (no R needed). */
function describe_sources() {
  for (const [name, db] of databases) {
    layer(Layer.provideMerge(seeded, db), { timeout: 300_000 })(
      `weekly accuracy source on the ${name} database`,
      (it) => {
        it.effect("equals the weekly accuracy counted from the generated attempts", () =>
          Effect.gen(function* () {
            const { excluded, rows } = yield* weeklyAccuracy(growthWeeks(LAST_DAY, LOOKBACK_WEEKS))
            const planted = plantedCohort(COHORT)
            const expected = [...planted]
              .flatMap(([student, s]) =>
                [...s.observed].map(([week, w]) => ({ student, week, graded: w.graded, score: w.correct / w.graded }))
              )
              .sort((a, b) => a.student.localeCompare(b.student) || a.week - b.week)
            assert.strictEqual(rows.length, expected.length)
            rows.forEach((r, i) => {
              const e = expected[i]!
              assert.deepStrictEqual([r.student, r.week, r.graded], [e.student, e.week, e.graded])
              assert.approximately(r.score, e.score, 1e-12)
            })
            assert.strictEqual(
              new Set(rows.map((r) => r.student)).size + excluded.students.length,
              new Set([...planted.keys(), ...excluded.students]).size
            )
          })
        )
      }
    )
  }
}
