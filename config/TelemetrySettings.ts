import { Config, Option, Redacted } from "effect"

/** The standard OpenTelemetry variables the exporter reads, and the log format. */
export interface TelemetrySettings {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL (`/v1/traces` is appended); none = no telemetry. */
  readonly endpoint: Option.Option<string>
  /** OTEL_SERVICE_NAME, default `seedtest`. */
  readonly serviceName: string
  /** OTEL_EXPORTER_OTLP_HEADERS (`key=value,key2=value2`, values URL-encoded): may hold an API key. */
  readonly headers: Redacted.Redacted<Readonly<Record<string, string>>>
  /** LOG_FORMAT: `json` for one JSON object per line (containers), else human-readable. */
  readonly logFormat: "json" | "text"
}

const parseHeaders = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(",")
      .map((pair) => pair.trim())
      .filter((pair) => pair.includes("="))
      .map((pair) => {
        const at = pair.indexOf("=")
        return [decodeURIComponent(pair.slice(0, at).trim()), decodeURIComponent(pair.slice(at + 1).trim())] as const
      })
  )

/** Reads the OpenTelemetry variables (the headers as a secret) and LOG_FORMAT. */
export const TelemetrySettings: Config.Config<TelemetrySettings> = Config.all({
  endpoint: Config.string("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(
    Config.option,
    Config.map(Option.filter((url) => url.trim().length > 0))
  ),
  serviceName: Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("seedtest")),
  headers: Config.redacted("OTEL_EXPORTER_OTLP_HEADERS").pipe(
    Config.withDefault(Redacted.make("")),
    Config.map((raw) => Redacted.make(parseHeaders(Redacted.value(raw))))
  ),
  logFormat: Config.literal("json", "text")("LOG_FORMAT").pipe(Config.withDefault("text" as const))
})
