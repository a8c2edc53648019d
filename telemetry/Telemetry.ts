import { FetchHttpClient } from "@effect/platform"
import { type ConfigError, Duration, Effect, Layer, Logger, Option, Redacted } from "effect"
import { TelemetrySettings } from "../config/TelemetrySettings.ts"

/**
 * Logs as one JSON object per line (LOG_FORMAT=json), else human-readable; on stderr either way, so stdout stays the
 * command's output (`--json`).
 */
export const loggerLayer = (format: TelemetrySettings["logFormat"]): Layer.Layer<never> =>
  Logger.replace(
    Logger.defaultLogger,
    // the pretty logger writes to the console itself (its result is void, so it is not wrapped like the JSON one)
    format === "json" ? Logger.withConsoleError(Logger.jsonLogger) : Logger.prettyLogger({ stderr: true })
  )

const EXPORT_INTERVAL = Duration.seconds(1)

/**
 * Before the exporter closes, one more periodic export runs to its end. The exporter's periodic export takes the
 * pending spans out of its buffer and sends them; closing interrupts that export with them in flight (they are lost),
 * while its own final flush only sends what is still buffered. So the process waits one interval plus time for the
 * request: the last periodic export then carries every pending span, and the next one finds nothing to send.
 */
const drainPeriodicExport = Layer.scopedDiscard(
  Effect.addFinalizer(() => Effect.sleep(Duration.sum(EXPORT_INTERVAL, Duration.seconds(2))))
)

/**
 * Traces (and Effect metrics and logs) exported over OTLP/HTTP with JSON bodies to `<endpoint>/v1/traces` …, by
 * `@effect/opentelemetry`'s own exporter. The module is imported only here, so a process without an endpoint never
 * loads it. Spans are batched and flushed when the layer's scope closes (the end of a command).
 */
export const otlpLayer = (settings: TelemetrySettings, endpoint: string): Layer.Layer<never> =>
  // the exporter is built first and released last, after `drainPeriodicExport`
  drainPeriodicExport.pipe(Layer.provideMerge(exporter(settings, endpoint)))

const exporter = (settings: TelemetrySettings, endpoint: string): Layer.Layer<never> =>
  Layer.unwrapEffect(
    Effect.promise(() => import("@effect/opentelemetry/Otlp")).pipe(
      Effect.map((Otlp) =>
        Otlp.layerJson({
          baseUrl: endpoint.replace(/\/+$/, ""),
          resource: { serviceName: settings.serviceName },
          headers: Redacted.value(settings.headers),
          // short intervals: a CLI run lasts seconds, and what is pending is flushed at exit anyway
          tracerExportInterval: EXPORT_INTERVAL,
          shutdownTimeout: "5 seconds"
        }).pipe(Layer.provide(FetchHttpClient.layer))
      )
    )
  )

/**
 * The process's telemetry from the standard environment: the logger for LOG_FORMAT, and with
 * OTEL_EXPORTER_OTLP_ENDPOINT set, the OTLP exporter; without it nothing is loaded or sent.
 */
export const layer: Layer.Layer<never, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(TelemetrySettings, (settings) =>
    Option.match(settings.endpoint, {
      onNone: () => loggerLayer(settings.logFormat),
      onSome: (endpoint) => Layer.merge(loggerLayer(settings.logFormat), otlpLayer(settings, endpoint))
    })
  )
)
