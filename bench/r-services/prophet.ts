// Prophet per-series time: a batch of N series in one request against one series per request.
// Prints ratios; never asserts. Run: npx tsx bench/r-services/prophet.ts [500] [--workers W]
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import { platformLayer, startRService } from "../../test/support/rServices.ts"
import { addDays, seededRandom } from "../../test/support/simulate.ts"

const args = process.argv.slice(2)
const workersAt = args.indexOf("--workers")
const workers = workersAt >= 0 ? (args[workersAt + 1] ?? "1") : "1"
const batchSize = Number(args.find((a, i) => i !== workersAt + 1 && /^\d+$/.test(a)) ?? 500)
const singles = 20

const seriesFor = (count: number) => {
  const random = seededRandom(count)
  return Array.from({ length: count }, (_, i) => ({
    id: `s${i}`,
    points: Array.from({ length: 12 }, (_, w) => ({
      week_start: addDays("2024-01-01", 7 * w),
      value: random.normal(0.02 * w, 0.05)
    }))
  }))
}

const program = Effect.gen(function* () {
  const service = yield* startRService("forecast", { args: ["--workers", workers] })
  const forecast = yield* makeForecastClient(service.connection())
  const request = (series: ReturnType<typeof seriesFor>) => ({ series, horizon_weeks: 4, anomaly_threshold: 2.5 })
  yield* forecast.prophetFit(request(seriesFor(2)))
  const one = seriesFor(singles)
  const startedSingles = performance.now()
  for (const s of one) yield* forecast.prophetFit(request([s]))
  const perSingle = (performance.now() - startedSingles) / 1000 / singles
  const batch = seriesFor(batchSize)
  const startedBatch = performance.now()
  const result = yield* forecast.prophetFit(request(batch))
  const perBatched = (performance.now() - startedBatch) / 1000 / batchSize
  console.log(
    `prophet (workers ${workers}): one series per request ${(perSingle * 1000).toFixed(0)} ms/series (${singles} requests); ` +
      `batch of ${batchSize}: ${(perBatched * 1000).toFixed(0)} ms/series end-to-end ` +
      `(R ${(result.timing.per_series_seconds * 1000).toFixed(0)} ms/series, ok ${result.summary.ok}); ratio single/batched ${(perSingle / perBatched).toFixed(2)}`
  )
}).pipe(Effect.scoped, Effect.provide(platformLayer))

NodeRuntime.runMain(program)
