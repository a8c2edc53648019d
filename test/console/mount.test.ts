import * as os from "node:os"
import { HttpClient, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Context, Duration, Effect, Either, Layer, Option } from "effect"
import { ConsoleRunFailed, ConsoleStore, router } from "../../console/ConsoleApp.ts"
import * as Registry from "../../engine/Registry.ts"
import { RunStore } from "../../engine/RunStore.ts"
import { pipelines } from "../../pipelines/registry.ts"
import { embedded } from "../support/TestDatabase.ts"

// a library user's own service: its routes and the console's, on its own server and database layers
layer(Layer.provideMerge(RunStore.Default, embedded), { timeout: Duration.minutes(2) })(
  "the console inside a host service",
  (it) => {
    it.scoped("serves the console's pages next to the host's own routes", () =>
      Effect.gen(function* () {
        const store = yield* RunStore
        yield* store.start({ id: "run_hosted_1", pipeline: "compute-daily-kpis", params: {}, trigger: "library" })
        const refuse = (name: string) => Effect.fail(new ConsoleRunFailed({ pipeline: name, message: "not here" }))
        const app = HttpRouter.concat(
          HttpRouter.empty.pipe(HttpRouter.get("/health", HttpServerResponse.text("ok"))),
          router({
            registry: Either.getOrThrow(Registry.make(pipelines)),
            schedule: [],
            reportsRoot: os.tmpdir(),
            token: Option.none(),
            runner: { run: (p) => refuse(p.name), dryRun: (p) => refuse(p.name) },
            csrfSecret: "host"
          })
        )
        const context = yield* Effect.context<RunStore | SqlClient.SqlClient>()
        const built = yield* Layer.build(
          HttpServer.serve(app).pipe(
            Layer.provideMerge(NodeHttpServer.layerTest),
            Layer.provide(ConsoleStore.Default),
            Layer.provide(Layer.succeedContext(context))
          )
        )
        const client = Context.get(built, HttpClient.HttpClient)
        const get = (path: string) =>
          client.get(path).pipe(Effect.flatMap((r) => Effect.map(r.text, (text) => ({ status: r.status, text }))))
        assert.deepStrictEqual(yield* get("/health"), { status: 200, text: "ok" })
        const runs = yield* get("/runs")
        assert.strictEqual(runs.status, 200)
        assert.include(runs.text, `data-run="run_hosted_1"`)
        assert.include(runs.text, `data-status="running"`)
        assert.strictEqual((yield* get("/no-such-page")).status, 404)
      })
    )
  }
)
