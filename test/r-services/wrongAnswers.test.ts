import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { make as makeClusterClient } from "../../stages/models/ClusterClient.ts"
import type { ClusterFitRequest, ClusterFitResponse } from "../../stages/models/schemas/Cluster.ts"
import { platformLayer, startRService } from "../support/rServices.ts"
import { seededRandom } from "../support/simulate.ts"

// A service that answers with a stored body: the real service's answer, tampered with. The real service never answers
// about users it was not sent, so a stand-in has to (a wrong URL, a proxy's cache, a service of another release).
const replaying = (body: () => string) =>
  Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(body())
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

const random = seededRandom(11)
const request: ClusterFitRequest = {
  features: Array.from({ length: 30 }, (_, i) => ({
    user_id: `u${i}`,
    accuracy: (i % 3) * 0.3 + random.normal(0, 0.02),
    efficiency: ((i + 1) % 3) * 0.3 + random.normal(0, 0.02),
    hint_rate: random.uniform()
  })),
  feature_names: ["accuracy", "efficiency", "hint_rate"],
  n_clusters: 3,
  seed: 1
}

describe("a well-formed but wrong model answer", () => {
  it.live(
    "is rejected before anyone uses it, naming what does not fit the request",
    () =>
      Effect.gen(function* () {
        const service = yield* startRService("cluster")
        const real = yield* makeClusterClient(service.connection())
        // the real answer passes the same checks
        const answer: ClusterFitResponse = yield* real.fit(request)
        let body = JSON.stringify(answer)
        const server = yield* replaying(() => body)
        const lying = yield* makeClusterClient({
          ...service.connection(),
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          retries: 0
        })
        const wrong = (tampered: ClusterFitResponse) =>
          Effect.gen(function* () {
            body = JSON.stringify(tampered)
            const error = yield* Effect.flip(lying.fit(request))
            assert.strictEqual(error.reason, "InconsistentAnswer")
            assert.include(
              error.message,
              "r-cluster-plumber gave an answer that does not fit the request at /cluster/fit"
            )
            return error.message
          })
        const first = answer.segments[0]!
        const ghost = yield* wrong({ ...answer, segments: [...answer.segments, { ...first, user_id: "ghost" }] })
        assert.include(ghost, `segments.30 is "ghost", which was never sent`)
        const twice = yield* wrong({
          ...answer,
          segments: [first, { ...answer.segments[1]!, user_id: first.user_id }, ...answer.segments.slice(2)]
        })
        assert.include(twice, `segments.1: "${first.user_id}" is answered twice`)
        const unknownCluster = yield* wrong({
          ...answer,
          segments: [{ ...first, cluster: 99 }, ...answer.segments.slice(1)]
        })
        assert.include(unknownCluster, "segments.0.cluster is 99, which is not one of the clusters")
      }).pipe(Effect.scoped, Effect.provide(platformLayer)),
    Duration.toMillis(Duration.minutes(3))
  )
})
