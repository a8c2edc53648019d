import { Effect, Layer } from "effect"
import * as Fill from "../engine/Fill.ts"
import * as RedactorModule from "../engine/Redactor.ts"
import { Redactor } from "../engine/Redactor.ts"
import { RunStore } from "../engine/RunStore.ts"
import { pipelines } from "../pipelines/registry.ts"
import * as Database from "../sources/Database.ts"
import * as RunMetrics from "../telemetry/RunMetrics.ts"
import * as Progress from "./Progress.ts"
import { RServicesLayer, tokenSecrets } from "./RServices.ts"

/**
 * What commands that touch data need: the database (DATABASE_URL or the embedded one, migrated on start), the run
 * history, the R service clients (remote, or local processes started on first use), progress on stderr, and a
 * Redactor that knows the database password and the R tokens; the registered pipelines as the readers whose needs a
 * writer's run fills.
 */
export const DataLayer = RunStore.Default.pipe(
  Layer.provideMerge(Database.migrated(Database.layer)),
  Layer.provideMerge(RServicesLayer),
  Layer.provideMerge(RunMetrics.observing(Progress.layer())),
  Layer.provideMerge(
    Layer.effect(
      Redactor,
      Effect.flatMap(tokenSecrets, (tokens) => Effect.map(Redactor, (r) => RedactorModule.extend(r, tokens)))
    )
  ),
  Layer.provideMerge(Database.redactorLayer),
  Layer.provideMerge(Layer.succeed(Fill.Readers, { pipelines }))
)

/** Scrubs the process's secrets from a text about to be printed. */
export const scrub = (text: string) => Effect.map(Redactor, (r) => r.scrub(text))

/** A Redactor for a process that did not build the data layer (e.g. the top-level error printer). */
export const RedactorFromConfig = Layer.effect(
  Redactor,
  Effect.gen(function* () {
    const current = yield* Redactor
    return RedactorModule.extend(current, [])
  })
).pipe(
  Layer.provide(Database.redactorLayer),
  Layer.catchAll(() => Layer.succeed(Redactor, RedactorModule.make([])))
)
