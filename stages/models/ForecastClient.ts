import type { HttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { idsWereSent } from "./AnswerCheck.ts"
import * as RServiceClient from "./RServiceClient.ts"
import { ForecastHealth, ProphetFitRequest, ProphetFitResponse } from "./schemas/Forecast.ts"
import {
  SurvivalFitRequest,
  SurvivalFitResponse,
  SurvivalPredictRequest,
  SurvivalPredictResponse
} from "./schemas/Survival.ts"

/** `R_FORECAST_URL`, `R_FORECAST_INTERNAL_TOKEN`, `R_FORECAST_TIMEOUT_SECS` (default 300). */
export const connectionConfig = RServiceClient.connectionConfig({
  service: "r-forecast-plumber",
  prefix: "R_FORECAST",
  defaultTimeoutSeconds: 300
})

/** Build the forecast client for an explicit connection. */
export const make = (connection: RServiceClient.RServiceConnection) =>
  Effect.gen(function* () {
    const client = yield* RServiceClient.make(connection)
    const prophet = client.endpoint("/prophet/fit", ProphetFitRequest, ProphetFitResponse, (request, answer) =>
      idsWereSent(
        request.series.map((s) => s.id),
        answer.series.map((s) => s.id),
        "series"
      )
    )
    const survivalFit = client.endpoint("/survival/fit", SurvivalFitRequest, SurvivalFitResponse, (request, answer) =>
      idsWereSent(
        request.rows.map((r) => r.user_id),
        answer.risk_scores.map((r) => r.user_id),
        "risk_scores"
      )
    )
    const survivalPredict = client.endpoint(
      "/survival/predict",
      SurvivalPredictRequest,
      SurvivalPredictResponse,
      (request, answer) =>
        idsWereSent(
          request.rows.map((r) => r.user_id),
          answer.risk_scores.map((r) => r.user_id),
          "risk_scores"
        )
    )
    return {
      /** The instances' base URLs and the calls worth having in flight at once over them. */
      instances: client.instances,
      concurrency: client.concurrency,
      /** Answers and failures per instance so far. */
      stats: client.stats,
      /** Prophet fits of many weekly series in one request; each series answers on its own. */
      prophetFit: Effect.fn("ForecastClient.prophetFit")(function* (
        request: ProphetFitRequest,
        options?: RServiceClient.CallOptions
      ) {
        yield* Effect.annotateCurrentSpan({ series: request.series.length })
        return yield* prophet(request, options)
      }),
      /** Cox proportional-hazards churn model and per-student churn probabilities. */
      survivalFit: Effect.fn("ForecastClient.survivalFit")(function* (
        request: SurvivalFitRequest,
        options?: RServiceClient.CallOptions
      ) {
        yield* Effect.annotateCurrentSpan({ rows: request.rows.length })
        return yield* survivalFit(request, options)
      }),
      /** Churn probabilities from stored coefficients and baseline hazard (stateless). */
      survivalPredict: Effect.fn("ForecastClient.survivalPredict")(function* (
        request: SurvivalPredictRequest,
        options?: RServiceClient.CallOptions
      ) {
        return yield* survivalPredict(request, options)
      }),
      health: Effect.fn("ForecastClient.health")(function* () {
        return yield* client.health(ForecastHealth)
      })
    }
  })

/** Typed client of r-forecast-plumber (prophet and survival). */
export class ForecastClient extends Effect.Service<ForecastClient>()("seedtest/stages/models/ForecastClient", {
  effect: Effect.flatMap(connectionConfig, make)
}) {
  /** The client for an explicit connection instead of the environment. */
  static layer(
    connection: RServiceClient.RServiceConnection
  ): Layer.Layer<ForecastClient, never, HttpClient.HttpClient> {
    return Layer.effect(
      ForecastClient,
      Effect.map(make(connection), (client) => ForecastClient.make(client))
    )
  }
}
