import { Schema } from "effect"

/** A probability in [0, 1]. */
export const Probability01 = Schema.Number.pipe(Schema.between(0, 1), Schema.brand("Probability01"))
export type Probability01 = typeof Probability01.Type

/** A calendar date as the services exchange it: `YYYY-MM-DD` (UTC). */
export const IsoDate = Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}$/), Schema.annotations({ format: "date" }))

/** The JSON error body every service answers with on 4xx/5xx. */
export const ServiceErrorBody = Schema.Struct({
  error: Schema.String,
  field: Schema.optional(Schema.String),
  message: Schema.String
})

/** What `/health` answers on every service; brms adds its compile state. */
export const ServiceHealth = Schema.Struct({
  service: Schema.String,
  ready: Schema.Boolean,
  versions: Schema.Record({ key: Schema.String, value: Schema.String }),
  uptime_seconds: Schema.Number,
  /** Answered requests per endpoint since the service started. */
  requests: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Int }))
})
