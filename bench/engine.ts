/**
 * Kernel benchmarks (issue 2). Run: `npx tsx bench/engine.ts`.
 *  1. framework overhead per stage: a 1,000-stage DAG of trivial transforms through Runner.dryRun vs the same
 *     functions run by a bare Effect.forEach (ratio and per-stage difference, same process, interleaved rounds);
 *  2. planning a 1,000-stage graph: validation (duplicates, inputs, cycle) + execution levels;
 *  3. cold `seedtest plan` from the shell.
 */

import { execFileSync } from "node:child_process"
import { Effect, Either } from "effect"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Plan from "../engine/Plan.ts"
import * as Runner from "../engine/Runner.ts"

const STAGES = 1000
const ROUNDS = 15

// stage i consumes stages i-1 and i-7 (when they exist): a long DAG with some fan-in, like real pipelines
const inputsOf = (i: number): ReadonlyArray<string> => [i - 1, i - 7].filter((j) => j >= 0).map((j) => `s${j}`)
const work = (values: Record<string, unknown>): number =>
  Object.values(values).reduce<number>((sum, v) => sum + (v as number), 1) % 1_000_003

const stages = Array.from({ length: STAGES }, (_, i) => Pipeline.transformStage(`s${i}`, inputsOf(i), work))
const pipeline = Either.getOrThrow(Pipeline.fromStages({ name: "bench", description: "", params: {} }, stages))

const bare = Effect.gen(function* () {
  const outputs = new Map<string, number>()
  yield* Effect.forEach(
    stages,
    (stage, i) =>
      Effect.sync(() => {
        const values: Record<string, unknown> = {}
        for (const name of inputsOf(i)) values[name] = outputs.get(name)
        outputs.set(stage.name, work(values))
      }),
    { discard: true }
  )
  return outputs.get(`s${STAGES - 1}`)
})

const ours = Runner.dryRun(pipeline) as Effect.Effect<Runner.DryRunReport, unknown, never>

const time = async (effect: Effect.Effect<unknown, unknown, never>): Promise<number> => {
  const start = performance.now()
  await Effect.runPromise(effect)
  return performance.now() - start
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const main = async () => {
  // warm-up both paths
  for (let i = 0; i < 3; i++) {
    await time(bare)
    await time(ours)
  }
  const bareTimes: Array<number> = []
  const ourTimes: Array<number> = []
  for (let i = 0; i < ROUNDS; i++) {
    bareTimes.push(await time(bare))
    ourTimes.push(await time(ours))
  }
  const b = median(bareTimes)
  const o = median(ourTimes)
  console.log(`1. ${STAGES}-stage DAG of trivial transforms (median of ${ROUNDS} interleaved rounds)`)
  console.log(
    `   bare Effect.forEach: ${b.toFixed(1)} ms   Runner.dryRun: ${o.toFixed(1)} ms   ratio ${(o / b).toFixed(1)}×`
  )
  console.log(`   framework overhead per stage: ${(((o - b) / STAGES) * 1000).toFixed(1)} µs (target < 1000 µs)`)

  const planTimes: Array<number> = []
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now()
    const built = Either.getOrThrow(Pipeline.fromStages({ name: "bench", description: "", params: {} }, stages))
    Plan.ofPipeline(built)
    planTimes.push(performance.now() - start)
  }
  console.log(
    `2. planning a ${STAGES}-stage graph (validate + levels): median ${median(planTimes).toFixed(2)} ms (target < 50 ms)`
  )

  const coldTimes: Array<number> = []
  for (let i = 0; i < 5; i++) {
    const start = performance.now()
    execFileSync(process.execPath, ["bin/seedtest.mjs", "plan"], { stdio: "ignore" })
    coldTimes.push(performance.now() - start)
  }
  console.log(
    `3. cold \`seedtest plan\` from the shell: median of 5 ${median(coldTimes).toFixed(0)} ms (target < 1500 ms)`
  )
}

void main()
