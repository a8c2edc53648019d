import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { Command, Options } from "@effect/cli"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql/SqlClient"
import { Context, Effect, Layer, Option, Console as Stdio } from "effect"
import { ConsoleSettings } from "../../config/ConsoleSettings.ts"
import * as ConsoleApp from "../../console/ConsoleApp.ts"
import { ConsoleRunFailed, type ConsoleRunner } from "../../console/ConsoleOptions.ts"
import { ConsoleRefused, isLoopback } from "../../console/ConsoleRefused.ts"
import { ConsoleStore } from "../../console/ConsoleStore.ts"
import { describe } from "../../engine/Errors.ts"
import { Redactor } from "../../engine/Redactor.ts"
import type { RunStore } from "../../engine/RunStore.ts"
import type { Requirements } from "../../pipelines/registry.ts"
import { DataLayer } from "../Environment.ts"
import { dryRunPipeline, registry, runPipeline } from "../Registry.ts"
import { loadSchedule } from "../Schedule.ts"

/** `seedtest ui [--port N] [--host H]`: the operations console in a browser. */
export const ui = Command.make(
  "ui",
  {
    port: Options.integer("port").pipe(
      Options.withDefault(4800),
      Options.withDescription("the port to serve on (0 = any free port)")
    ),
    host: Options.text("host").pipe(
      Options.withDefault("127.0.0.1"),
      Options.withDescription("the address to bind; anything but loopback needs SEEDTEST_UI_TOKEN")
    )
  },
  ({ host, port }) =>
    Effect.gen(function* () {
      const settings = yield* ConsoleSettings
      if (!isLoopback(host) && Option.isNone(settings.token))
        return yield* new ConsoleRefused({ reason: "PublicWithoutToken", host })
      const reg = yield* registry
      const { entries } = yield* loadSchedule(reg)
      return yield* Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Effect.context<Requirements | SqlClient | RunStore | Redactor>()
          const redactor = yield* Redactor
          const failed = (pipeline: string) => (error: unknown) =>
            new ConsoleRunFailed({ pipeline, message: redactor.scrub(describe(error)) })
          const runner: ConsoleRunner = {
            run: (p, params, runId) =>
              runPipeline(p, { params, runId, trigger: "manual" }).pipe(
                Effect.mapError(failed(p.name)),
                Effect.provide(context)
              ),
            dryRun: (p, params) =>
              dryRunPipeline(p, { params }).pipe(Effect.mapError(failed(p.name)), Effect.provide(context))
          }
          const app = ConsoleApp.router({
            registry: reg,
            schedule: entries,
            reportsRoot: settings.reportsRoot,
            token: settings.token,
            runner,
            csrfSecret: randomBytes(24).toString("base64url")
          })
          const server = HttpServer.serve(app).pipe(
            Layer.provideMerge(NodeHttpServer.layer(createServer, { port, host })),
            Layer.provide(ConsoleStore.Default),
            Layer.provide(Layer.succeedContext(context))
          )
          const built = yield* Layer.build(server)
          const address = HttpServer.formatAddress(Context.get(built, HttpServer.HttpServer).address)
          yield* Stdio.error(
            `seedtest console on ${address} (${Option.isNone(settings.token) ? "read-only: set SEEDTEST_UI_TOKEN to run pipelines from it" : "runs enabled"}); Ctrl-C stops it`
          )
          return yield* Effect.never
        })
      ).pipe(Effect.provide(DataLayer))
    })
).pipe(
  Command.withDescription(
    "The operations console in a browser: the pipeline graph, runs, schedule, models and reports. Read-only unless SEEDTEST_UI_TOKEN is set."
  )
)
