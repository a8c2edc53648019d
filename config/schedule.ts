import { Schema } from "effect"

/** One scheduled pipeline: when it fires (cron, in its time zone), with which parameters, and whether it is on. */
export class ScheduleEntry extends Schema.Class<ScheduleEntry>("ScheduleEntry")({
  pipeline: Schema.String,
  cron: Schema.String,
  timezone: Schema.optionalWith(Schema.String, { default: () => "UTC" }),
  params: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { default: () => ({}) }),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true })
}) {}

/** The default schedules (mission.md); the report's clock time matters less than its inputs: it waits for them. */
export const defaultSchedule: ReadonlyArray<ScheduleEntry> = [
  new ScheduleEntry({ pipeline: "compute-daily-kpis", cron: "10 2 * * *" }),
  new ScheduleEntry({ pipeline: "aggregate-features-daily", cron: "25 2 * * *" }),
  new ScheduleEntry({ pipeline: "fit-bayesian-growth", cron: "30 4 * * 1" }),
  new ScheduleEntry({ pipeline: "forecast-prophet", cron: "0 5 * * 1" }),
  new ScheduleEntry({ pipeline: "fit-survival-churn", cron: "0 5 * * *" }),
  new ScheduleEntry({ pipeline: "cluster-segments", cron: "0 7 1,15 * *" }),
  new ScheduleEntry({ pipeline: "generate-weekly-report", cron: "0 6 * * 1" })
]
