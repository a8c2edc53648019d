import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { ClusterClient } from "../../stages/models/ClusterClient.ts"
import { otlpLayer } from "../../telemetry/Telemetry.ts"
import { platformLayer, startRService } from "../support/rServices.ts"

interface Attribute {
  readonly key: string
  readonly value: { readonly doubleValue?: number; readonly intValue?: string | number; readonly stringValue?: string }
}
interface ExportedSpan {
  readonly name: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes?: ReadonlyArray<Attribute>
}

/** A stand-in OTLP/HTTP collector that keeps the spans it receives. */
const collector = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly spans: Array<ExportedSpan>; readonly server: http.Server }>(
    (resume) => {
      const spans: Array<ExportedSpan> = []
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          if (req.url === "/v1/traces") {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
              resourceSpans?: Array<{ scopeSpans: Array<{ spans: Array<ExportedSpan> }> }>
            }
            for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
          }
          res.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server }))
      )
    }
  ),
  ({ server }) =>
    Effect.async<void>((resume) => {
      // the exporter's fetch keeps its connection alive; close it, or close() waits for it
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

const numberOf = (attribute: Attribute | undefined): number | undefined =>
  attribute === undefined ? undefined : Number(attribute.value.doubleValue ?? attribute.value.intValue)

describe("telemetry of R calls", { timeout: 300_000 }, () => {
  it.scopedLive(
    "the R call's span carries the service's own handling time (Server-Timing), within the call's duration",
    () =>
      Effect.gen(function* () {
        const otlp = yield* collector
        const service = yield* startRService("cluster")
        const features = Array.from({ length: 60 }, (_, i) => ({
          user_id: `u${i}`,
          engagement: (i % 3) / 3 + (i % 7) / 70,
          improvement: ((i + 1) % 3) / 3 - (i % 5) / 50,
          efficiency: ((i + 2) % 3) / 3 + (i % 4) / 40,
          hint_rate: (i % 3) / 4 + (i % 6) / 60
        }))
        const settings = {
          endpoint: Option.some(otlp.url),
          serviceName: "seedtest-r-timing",
          headers: Redacted.make({}),
          logFormat: "text" as const
        }
        // the exporter's layer closes (and flushes its spans) when the provided effect ends
        yield* Effect.gen(function* () {
          const cluster = yield* ClusterClient
          yield* cluster.fit({ features })
        }).pipe(
          Effect.provide(ClusterClient.layer(service.connection())),
          Effect.provide(otlpLayer(settings, otlp.url))
        )

        const call = otlp.spans.find((s) => s.name === "RServiceClient.call")
        assert.isDefined(call, `spans: ${otlp.spans.map((s) => s.name).join(", ")}`)
        const callAttributes = call!.attributes ?? []
        assert.strictEqual(callAttributes.find((a) => a.key === "r.endpoint")?.value.stringValue, "/cluster/fit")
        // each attempt at an instance has its span under the call's, with the instance's own handling time
        const attempt = otlp.spans.find((s) => s.name === "RServiceClient.attempt" && s.parentSpanId === call!.spanId)
        assert.isDefined(attempt, `spans: ${otlp.spans.map((s) => s.name).join(", ")}`)
        const attributes = attempt!.attributes ?? []
        assert.strictEqual(attributes.find((a) => a.key === "r.instance")?.value.stringValue, service.url)
        const serverMs = numberOf(attributes.find((a) => a.key === "r.server_ms"))
        assert.isDefined(serverMs, `attributes: ${JSON.stringify(attributes)}`)
        const attemptMs = Number(BigInt(attempt!.endTimeUnixNano) - BigInt(attempt!.startTimeUnixNano)) / 1e6
        // measured by the service itself: positive, and inside the attempt that waited for it
        assert.isAbove(serverMs!, 0)
        assert.isAtMost(serverMs!, attemptMs)
      }).pipe(Effect.provide(platformLayer))
  )
})
