import { spawn } from "node:child_process"
import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import type { ForecastSeries } from "../../stages/models/schemas/Forecast.ts"
import { platformLayer, startRService } from "../support/rServices.ts"
import { addDays } from "../support/simulate.ts"

/** Whether the port refuses a connection now (nothing listens), rather than accepting it. */
const refuses = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(false))
    })
    socket.once("error", () => resume(Effect.succeed(true)))
  })

/** Polls until the port refuses connections; the seconds it took, or undefined if it still accepts after `within`. */
const refusedWithin = (port: number, within: Duration.DurationInput) =>
  Effect.gen(function* () {
    const started = Date.now()
    const deadline = started + Duration.toMillis(within)
    while (Date.now() < deadline) {
      if (yield* refuses(port)) return (Date.now() - started) / 1000
      yield* Effect.sleep(Duration.millis(250))
    }
    return undefined
  })

const series = (id: string): typeof ForecastSeries.Type => ({
  id,
  points: Array.from({ length: 12 }, (_, w) => ({
    week_start: addDays("2024-01-01", 7 * w),
    value: 0.1 + 0.02 * w + 0.01 * Math.sin(w + id.length)
  }))
})

describe("a dead R service", () => {
  it.live(
    "refuses connections within seconds when its parent is killed mid-batch, though its forked workers were busy",
    () =>
      Effect.gen(function* () {
        const doomed = yield* startRService("forecast", { args: ["--workers", "2"] })
        const port = Number(new URL(doomed.url).port)
        const forecast = yield* makeForecastClient(doomed.connection({ retries: 0 }))
        const call = yield* Effect.fork(
          forecast.prophetFit({
            series: Array.from({ length: 200 }, (_, i) => series(`s${i}`)),
            horizon_weeks: 4,
            anomaly_threshold: 2.5
          })
        )
        // the batch is in its forked workers by now
        yield* Effect.sleep(Duration.seconds(3))
        // a crash of the service's own process, not of its group: what the supervisor sees when R dies
        process.kill(doomed.pid, "SIGKILL")
        const seconds = yield* refusedWithin(port, Duration.seconds(10))
        assert.isDefined(seconds, "an orphaned worker still accepts connections on the dead service's port")
        yield* Fiber.interrupt(call)
      }).pipe(Effect.scoped, Effect.provide(platformLayer)),
    180_000
  )

  it.live(
    "stops by itself, port and all, when the process that started it disappears (a SIGKILL runs no cleanup)",
    () =>
      Effect.gen(function* () {
        // stands in for a CLI killed with SIGKILL: its finalizers never run, only the service's own watchdog can act
        const parent = spawn("sleep", ["600"], { stdio: "ignore" })
        yield* Effect.addFinalizer(() => Effect.sync(() => parent.kill("SIGKILL")))
        const service = yield* startRService("cluster", { args: ["--parent-pid", String(parent.pid)] })
        const port = Number(new URL(service.url).port)
        assert.isFalse(yield* refuses(port))
        parent.kill("SIGKILL")
        const seconds = yield* refusedWithin(port, Duration.seconds(10))
        assert.isDefined(seconds, "the service still listens after the process that started it died")
      }).pipe(Effect.scoped, Effect.provide(platformLayer)),
    180_000
  )
})
