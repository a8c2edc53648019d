import type { HttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import * as RServiceClient from "./RServiceClient.ts"
import {
  BrmsHealth,
  GrowthFitRequest,
  GrowthFitResponse,
  GrowthPredictRequest,
  GrowthPredictResponse
} from "./schemas/Growth.ts"

/** `R_BRMS_URL`, `R_BRMS_INTERNAL_TOKEN`, `R_BRMS_TIMEOUT_SECS` (default 600). */
export const connectionConfig = RServiceClient.connectionConfig({
  service: "r-brms-plumber",
  prefix: "R_BRMS",
  defaultTimeoutSeconds: 600
})

/** Build the brms client for an explicit connection. */
export const make = (connection: RServiceClient.RServiceConnection) =>
  Effect.gen(function* () {
    const client = yield* RServiceClient.make(connection)
    const fit = client.endpoint("/growth/fit", GrowthFitRequest, GrowthFitResponse)
    const predict = client.endpoint("/growth/predict", GrowthPredictRequest, GrowthPredictResponse)
    return {
      /** The instances' base URLs and the calls worth having in flight at once over them. */
      instances: client.instances,
      concurrency: client.concurrency,
      /** Answers and failures per instance so far. */
      stats: client.stats,
      /** Fit `score ~ week + (week | student)` and get the per-student goal posterior. */
      fit: Effect.fn("BrmsClient.fit")(function* (request: GrowthFitRequest, options?: RServiceClient.CallOptions) {
        yield* Effect.annotateCurrentSpan({ rows: request.rows.length, iter: request.iter, chains: request.chains })
        return yield* fit(request, options)
      }),
      /** Goal probability from stored per-student coefficients (stateless). */
      predict: Effect.fn("BrmsClient.predict")(function* (
        request: GrowthPredictRequest,
        options?: RServiceClient.CallOptions
      ) {
        return yield* predict(request, options)
      }),
      /** Readiness (compiled model loaded) and the compile count. */
      health: Effect.fn("BrmsClient.health")(function* () {
        return yield* client.health(BrmsHealth)
      })
    }
  })

/** Typed client of r-brms-plumber. */
export class BrmsClient extends Effect.Service<BrmsClient>()("seedtest/stages/models/BrmsClient", {
  effect: Effect.flatMap(connectionConfig, make)
}) {
  /** The client for an explicit connection instead of the environment. */
  static layer(connection: RServiceClient.RServiceConnection): Layer.Layer<BrmsClient, never, HttpClient.HttpClient> {
    return Layer.effect(
      BrmsClient,
      Effect.map(make(connection), (client) => BrmsClient.make(client))
    )
  }
}
