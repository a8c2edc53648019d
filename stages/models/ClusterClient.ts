import type { HttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { clustersAreDefined, firstProblem, idsWereSent } from "./AnswerCheck.ts"
import * as RServiceClient from "./RServiceClient.ts"
import {
  ClusterFitRequest,
  ClusterFitResponse,
  ClusterHealth,
  ClusterPredictRequest,
  ClusterPredictResponse
} from "./schemas/Cluster.ts"

/** `R_CLUSTER_URL`, `R_CLUSTER_INTERNAL_TOKEN`, `R_CLUSTER_TIMEOUT_SECS` (default 120). */
export const connectionConfig = RServiceClient.connectionConfig({
  service: "r-cluster-plumber",
  prefix: "R_CLUSTER",
  defaultTimeoutSeconds: 120
})

/** What a fit or predict answer must hold: segments of users that were sent, each in a cluster that exists. */
const segmentsAnswer = (
  sent: ReadonlyArray<{ readonly user_id: string }>,
  centers: ReadonlyArray<{ readonly cluster: number }>,
  segments: ReadonlyArray<{ readonly user_id: string; readonly cluster: number }>
) =>
  firstProblem(
    () =>
      idsWereSent(
        sent.map((f) => f.user_id),
        segments.map((s) => s.user_id),
        "segments"
      ),
    () =>
      clustersAreDefined(
        centers.map((c) => c.cluster),
        segments,
        "segments"
      )
  )

/** Build the cluster client for an explicit connection. */
export const make = (connection: RServiceClient.RServiceConnection) =>
  Effect.gen(function* () {
    const client = yield* RServiceClient.make(connection)
    const fit = client.endpoint("/cluster/fit", ClusterFitRequest, ClusterFitResponse, (request, answer) =>
      segmentsAnswer(request.features, answer.segment_meta.centers, answer.segments)
    )
    const predict = client.endpoint(
      "/cluster/predict",
      ClusterPredictRequest,
      ClusterPredictResponse,
      (request, answer) => segmentsAnswer(request.features, request.centers, answer.segments)
    )
    return {
      /** The instances' base URLs and the calls worth having in flight at once over them. */
      instances: client.instances,
      concurrency: client.concurrency,
      /** Answers and failures per instance so far. */
      stats: client.stats,
      /** Segment users: scaled features, k-means, labels from the centres. */
      fit: Effect.fn("ClusterClient.fit")(function* (request: ClusterFitRequest, options?: RServiceClient.CallOptions) {
        yield* Effect.annotateCurrentSpan({ users: request.features.length })
        return yield* fit(request, options)
      }),
      /** Assign users to stored centres with the stored scaling (stateless). */
      predict: Effect.fn("ClusterClient.predict")(function* (
        request: ClusterPredictRequest,
        options?: RServiceClient.CallOptions
      ) {
        return yield* predict(request, options)
      }),
      health: Effect.fn("ClusterClient.health")(function* () {
        return yield* client.health(ClusterHealth)
      })
    }
  })

/** Typed client of r-cluster-plumber. */
export class ClusterClient extends Effect.Service<ClusterClient>()("seedtest/stages/models/ClusterClient", {
  effect: Effect.flatMap(connectionConfig, make)
}) {
  /** The client for an explicit connection instead of the environment. */
  static layer(
    connection: RServiceClient.RServiceConnection
  ): Layer.Layer<ClusterClient, never, HttpClient.HttpClient> {
    return Layer.effect(
      ClusterClient,
      Effect.map(make(connection), (client) => ClusterClient.make(client))
    )
  }
}
