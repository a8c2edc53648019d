import { spawn } from "node:child_process"
import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Redacted } from "effect"
import { make as makeForecastClient } from "../../stages/models/ForecastClient.ts"
import { platformLayer } from "../support/rServices.ts"
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

describe("r-services/start", () => {
  it.live(
    "stops its services, forked workers and all, on SIGTERM: the port refuses connections within seconds",
    () =>
      Effect.gen(function* () {
        const script = spawn("r-services/start", ["--services", "forecast", "--ready-timeout", "120"], {
          stdio: ["ignore", "pipe", "pipe"],
          detached: false
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => script.kill("SIGKILL")))
        // its export line: R_FORECAST_URL=… R_FORECAST_INTERNAL_TOKEN=…
        const exported = yield* Effect.async<string>((resume) => {
          let out = ""
          script.stdout!.on("data", (chunk) => {
            out += String(chunk)
            if (out.includes("\n")) resume(Effect.succeed(out))
          })
        }).pipe(Effect.timeout(Duration.minutes(2)))
        const url = /R_FORECAST_URL=(\S+)/.exec(exported)![1]!
        const token = /R_FORECAST_INTERNAL_TOKEN=(\S+)/.exec(exported)![1]!
        const port = Number(new URL(url).port)
        const forecast = yield* makeForecastClient({
          service: "r-forecast-plumber",
          url,
          token: Redacted.make(token),
          timeout: Duration.minutes(5),
          retries: 0,
          retryBase: Duration.millis(100)
        })
        const series = Array.from({ length: 200 }, (_, i) => ({
          id: `s${i}`,
          points: Array.from({ length: 12 }, (_, w) => ({
            week_start: addDays("2024-01-01", 7 * w),
            value: 0.1 + 0.02 * w + 0.01 * Math.sin(w + i)
          }))
        }))
        const call = yield* Effect.fork(forecast.prophetFit({ series, horizon_weeks: 4, anomaly_threshold: 2.5 }))
        // the batch is in its forked workers by now
        yield* Effect.sleep(Duration.seconds(3))
        script.kill("SIGTERM")
        const started = Date.now()
        let refused = false
        while (!refused && Date.now() - started < 15_000) {
          refused = yield* refuses(port)
          if (!refused) yield* Effect.sleep(Duration.millis(250))
        }
        assert.isTrue(refused, "something still accepts connections on the stopped service's port")
        yield* Fiber.interrupt(call)
      }).pipe(Effect.scoped, Effect.provide(platformLayer)),
    240_000
  )
})
