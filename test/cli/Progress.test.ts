import { assert, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, TestClock } from "effect"
import * as Progress from "../../cli/Progress.ts"
import { RunObserver } from "../../engine/RunObserver.ts"

it.scoped("prints each stage as it finishes and names long-running stages periodically", () =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const observer = yield* Layer.build(Progress.layer((line) => void lines.push(line), Duration.seconds(20))).pipe(
      Effect.map((ctx) => Context.get(ctx, RunObserver))
    )
    yield* observer.onEvent({ _tag: "StageStarted", runId: "r", stage: "growthFit", kind: "model" })
    yield* TestClock.adjust(Duration.seconds(45))
    assert.deepStrictEqual(
      lines.filter((l) => l.includes("still running")),
      ["  … still running: growthFit (20.0 s)", "  … still running: growthFit (40.0 s)"]
    )
    yield* observer.onEvent({
      _tag: "StageSucceeded",
      runId: "r",
      stage: "growthFit",
      kind: "model",
      millis: 61_000,
      rows: 200
    })
    yield* TestClock.adjust(Duration.seconds(60))
    assert.strictEqual(lines.filter((l) => l.includes("still running")).length, 2)
    assert.include(lines.at(-1)!, "✓ model     growthFit  61.0 s  200 rows")
  })
)
