import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { findRepositoryRoot, platformLayer, repositoryRoot, startRService } from "../../stages/models/LocalRServices.ts"

describe("local R services", () => {
  it("find the repository root from the sources and from the bundle's folder alike", () => {
    assert.isTrue(fs.existsSync(path.join(repositoryRoot, "r-services", "cluster", "main.R")))
    // the module runs from stages/models/ (sources) and from dist/ (the bundle): two depths, one root
    assert.strictEqual(findRepositoryRoot(path.join(repositoryRoot, "stages", "models")), repositoryRoot)
    assert.strictEqual(findRepositoryRoot(path.join(repositoryRoot, "dist")), repositoryRoot)
  })

  it.live(
    "report a service that exits before it is ready at once, with what R said",
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        // R takes the last --port: not a number, so plumber stops with an error before it listens
        const exit = yield* Effect.exit(
          startRService("cluster", { args: ["--port", "notaport"], readyWithin: "2 minutes" })
        )
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          assert.instanceOf(error, Error)
          const message = (error as Error).message
          assert.include(message, "cluster R service exited with code 1 before it was ready")
          assert.include(message, "missing value where TRUE/FALSE needed")
        }
        // well before the readiness limit (the clock is the real one: it.live)
        assert.isBelow(Date.now() - started, 60_000)
      }).pipe(Effect.scoped, Effect.provide(platformLayer)),
    90_000
  )
})
