import { HttpClient } from "@effect/platform"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import { ClusterClient, make as makeClusterClient } from "../../stages/models/ClusterClient.ts"
import * as RServiceClient from "../../stages/models/RServiceClient.ts"
import { openApiDocument } from "../../stages/models/RServiceOpenApi.ts"
import type { ClusterFeatureRow } from "../../stages/models/schemas/Cluster.ts"
import { platformLayer, type RunningRService, rawPost, startRService } from "../support/rServices.ts"
import { adjustedRandIndex, seededRandom } from "../support/simulate.ts"

class Cluster extends Context.Tag("test/RunningCluster")<Cluster, RunningRService>() {}

const running = Layer.scoped(Cluster, startRService("cluster"))
const client = Layer.unwrapEffect(Effect.map(Cluster, (service) => ClusterClient.layer(service.connection())))
const TestLayer = client.pipe(Layer.provideMerge(running), Layer.provideMerge(platformLayer))

/** Three known groups: engaged improvers, a flat low-engagement group, and efficient hint users. */
const groups = [
  { name: "improving", engagement: 0.8, improvement: 0.3, efficiency: 0.5, hint_rate: 0.2 },
  { name: "flat", engagement: 0.3, improvement: -0.3, efficiency: 0.2, hint_rate: 0.1 },
  { name: "hints", engagement: 0.5, improvement: 0.0, efficiency: 0.8, hint_rate: 0.8 }
] as const

const simulateUsers = (n: number, seed: number) => {
  const random = seededRandom(seed)
  const truth: Array<string> = []
  const features: Array<ClusterFeatureRow> = Array.from({ length: n }, (_, i) => {
    const group = groups[i % 3]!
    truth.push(group.name)
    return {
      user_id: `u${i}`,
      engagement: group.engagement + random.normal(0, 0.07),
      improvement: group.improvement + random.normal(0, 0.07),
      efficiency: group.efficiency + random.normal(0, 0.07),
      hint_rate: group.hint_rate + random.normal(0, 0.07)
    }
  })
  return { truth, features }
}

layer(TestLayer, { timeout: 300_000, excludeTestServices: true })("r-cluster-plumber", (it) => {
  it.effect("recovers simulated clusters, picks k = 3, labels them from their centres, stably", () =>
    Effect.gen(function* () {
      const cluster = yield* ClusterClient
      const users = simulateUsers(240, 5)
      const fit = yield* cluster.fit({ features: users.features })
      const ari = adjustedRandIndex(
        users.truth,
        fit.segments.map((s) => s.cluster)
      )
      console.log(
        "ARI",
        ari,
        "k",
        fit.segment_meta.n_clusters,
        "labels",
        fit.segment_meta.centers.map((c) => c.label),
        fit.segment_meta.k_selection.scores
      )
      assert.isAbove(ari, 0.95)
      assert.strictEqual(fit.segment_meta.n_clusters, 3)
      const labelOfGroup = (name: string) => {
        const index = users.truth.indexOf(name)
        return fit.segments[index]!.segment_label
      }
      assert.strictEqual(labelOfGroup("hints"), "hint-heavy")
      assert.strictEqual(labelOfGroup("flat"), "struggling")
      assert.notStrictEqual(labelOfGroup("improving"), labelOfGroup("flat"))
      assert.strictEqual(new Set(fit.segment_meta.centers.map((c) => c.label)).size, 3)

      const again = yield* cluster.fit({ features: [...users.features].reverse() })
      const labelsAgain = new Map(again.segments.map((s) => [s.user_id, s.segment_label]))
      assert.isTrue(fit.segments.every((s) => labelsAgain.get(s.user_id) === s.segment_label))

      const predicted = yield* cluster.predict({
        scaling: fit.segment_meta.scaling,
        centers: fit.segment_meta.centers,
        features: users.features.slice(0, 30)
      })
      predicted.segments.forEach((p, i) => {
        assert.strictEqual(p.cluster, fit.segments[i]!.cluster)
        assert.approximately(p.distance, fit.segments[i]!.distance, 1e-9)
      })
    })
  )

  it.effect("honours a given k", () =>
    Effect.gen(function* () {
      const cluster = yield* ClusterClient
      const fit = yield* cluster.fit({ features: simulateUsers(90, 9).features, n_clusters: 2 })
      assert.strictEqual(fit.segment_meta.n_clusters, 2)
      assert.strictEqual(fit.segment_meta.k_selection.criterion, "given")
    })
  )

  it.effect("refuses missing and wrong tokens, and malformed bodies, with typed reasons", () =>
    Effect.gen(function* () {
      const service = yield* Cluster
      const users = simulateUsers(12, 1).features
      for (const token of ["", "not-the-token"]) {
        const wrong = yield* makeClusterClient({ ...service.connection(), token: Redacted.make(token) })
        const refused = yield* Effect.flip(wrong.fit({ features: users }))
        assert.strictEqual(refused.reason, "Unauthorized")
        assert.strictEqual(refused.status, 401)
      }
      const bearer = yield* rawPost(`${service.url}/cluster/fit`, JSON.stringify({ features: users }), {
        Authorization: `Bearer ${Redacted.value(service.token)}`
      })
      assert.strictEqual(bearer.status, 200)
      const raw = yield* RServiceClient.make(service.connection())
      const invalid = yield* Effect.flip(
        raw.endpoint(
          "/cluster/fit",
          Schema.Unknown,
          Schema.Unknown
        )({ features: [{ user_id: "a", engagement: "high" }] })
      )
      assert.strictEqual(invalid.reason, "InvalidRequest")
      assert.strictEqual(invalid.field, "features")
      const typo = yield* Effect.flip(
        raw.endpoint(
          "/cluster/fit",
          Schema.Unknown,
          Schema.Unknown
        )({ features: [users[0], { ...users[1], engagement: "high" }, users[2]] })
      )
      assert.strictEqual(typo.field, "features[1].engagement")
      const malformed = yield* rawPost(`${service.url}/cluster/fit`, "{features", {
        "X-Internal-Token": Redacted.value(service.token)
      })
      assert.strictEqual(malformed.status, 400)
    })
  )

  it.effect("publishes the OpenAPI document generated from the client schemas", () =>
    Effect.gen(function* () {
      const service = yield* Cluster
      const http = yield* HttpClient.HttpClient
      const served = yield* http.get(`${service.url}/openapi.json`).pipe(
        Effect.flatMap((res) => res.json),
        Effect.scoped
      )
      assert.deepStrictEqual(served, JSON.parse(JSON.stringify(openApiDocument("cluster"))))
    })
  )
})
