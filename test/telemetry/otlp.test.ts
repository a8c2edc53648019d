import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Plan from "../../engine/Plan.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { loggerLayer } from "../../telemetry/Telemetry.ts"
import { seedtest } from "../console/support.ts"

interface Received {
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: unknown
}

/** A stand-in OTLP/HTTP collector: records every POST, answers 200 as a collector does. */
const collector = () =>
  new Promise<{ readonly url: string; readonly received: Array<Received>; readonly close: () => Promise<void> }>(
    (resolve) => {
      const received: Array<Received> = []
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // not JSON: kept as text, and the test will say so
          }
          received.push({ path: req.url ?? "", headers: req.headers, body })
          res.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resolve({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          received,
          close: () => new Promise((done) => server.close(() => done()))
        })
      )
    }
  )

interface Span {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
}

const spansOf = (received: ReadonlyArray<Received>): ReadonlyArray<Span> =>
  received
    .filter((r) => r.path === "/v1/traces")
    .flatMap((r) =>
      (
        (r.body as { resourceSpans?: Array<{ scopeSpans: Array<{ spans: Array<Span> }> }> }).resourceSpans ?? []
      ).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))
    )

describe("telemetry", { timeout: 600_000 }, () => {
  it("exports a run's trace over OTLP/HTTP: the run span with its stage spans beneath it", async () => {
    const otlp = await collector()
    try {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-otlp-"))
      const base = { SEEDTEST_DATA_DIR: dataDir, DATABASE_URL: undefined }
      const seeded = await seedtest(["seed", "--students", "30", "--weeks", "5"], base)
      assert.strictEqual(seeded.code, 0, seeded.stderr)

      const run = await seedtest(["run", "compute-daily-kpis"], {
        ...base,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_SERVICE_NAME: "seedtest-under-test",
        OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=key%20one"
      })
      assert.strictEqual(run.code, 0, run.stderr)
      const traces = otlp.received.filter((r) => r.path === "/v1/traces")
      assert.isNotEmpty(traces, `requests: ${otlp.received.map((r) => r.path).join(", ")}`)
      assert.strictEqual(traces[0]!.headers["x-api-key"], "key one")
      const service = JSON.stringify(
        (traces[0]!.body as { resourceSpans: Array<{ resource: unknown }> }).resourceSpans[0]!.resource
      )
      assert.include(service, "seedtest-under-test")

      const spans = spansOf(otlp.received)
      const runSpan = spans.find((s) => s.name === "pipeline compute-daily-kpis")
      assert.isDefined(runSpan, `span names: ${spans.map((s) => s.name).join(", ")}`)
      const byId = new Map(spans.map((s) => [s.spanId, s] as const))
      const underRun = (s: Span): boolean => {
        for (let p = s.parentSpanId; p !== undefined && p !== ""; p = byId.get(p)?.parentSpanId)
          if (p === runSpan!.spanId) return true
        return false
      }
      const stageNames = Plan.ofPipeline(computeDailyKpis)
        .levels.flat()
        .map((s) => s.name)
      for (const stage of stageNames) {
        const span = spans.find((s) => s.name === `stage ${stage}`)
        assert.isDefined(span, `stage ${stage} has a span`)
        assert.strictEqual(span!.traceId, runSpan!.traceId)
        assert.isTrue(underRun(span!), `stage ${stage} is inside the run's span`)
      }

      // the run's metrics leave with it: its duration, tagged with the pipeline and outcome, and the rows it wrote
      const metrics = JSON.stringify(otlp.received.filter((r) => r.path === "/v1/metrics").map((r) => r.body))
      assert.include(metrics, "seedtest_run_duration_seconds")
      assert.include(metrics, "seedtest_rows_written_total")
      assert.include(metrics, "compute-daily-kpis")
    } finally {
      await otlp.close()
    }
  })

  it.effect("logs one JSON object per line with LOG_FORMAT=json", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const original = globalThis.console.error
      globalThis.console.error = (...args: Array<unknown>) => void lines.push(args.map(String).join(" "))
      yield* Effect.logWarning("slot late").pipe(
        Effect.annotateLogs({ pipeline: "compute-daily-kpis", runId: "run_x" }),
        Effect.provide(loggerLayer("json")),
        Effect.ensuring(Effect.sync(() => (globalThis.console.error = original)))
      )
      assert.strictEqual(lines.length, 1)
      const entry = JSON.parse(lines[0]!) as {
        message: unknown
        logLevel: string
        annotations: Record<string, unknown>
      }
      assert.deepStrictEqual(entry.message, "slot late")
      assert.strictEqual(entry.logLevel, "WARN")
      assert.deepStrictEqual(entry.annotations, { pipeline: "compute-daily-kpis", runId: "run_x" })
    })
  )
})
