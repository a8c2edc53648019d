import { FeatureSettings } from "../config/KpiSettings.ts"
import { addDays, daysBetween } from "../engine/Calendar.ts"
import * as Pipeline from "../engine/Pipeline.ts"
import * as Resource from "../engine/Resource.ts"
import { FeaturesTopicDailySink } from "../sinks/FeaturesTopicDailySink.ts"
import { topicDays } from "../sources/TopicFeaturesQuery.ts"

/**
 * `aggregate-features-daily`: per student, topic and day, practice volume, accuracy, timing, hints and short-term
 * improvement into `features_topic_daily` (read by the segments model).
 */
export const aggregateFeaturesDaily = Pipeline.make({
  name: "aggregate-features-daily",
  description: "Daily per-topic practice features per student into features_topic_daily.",
  params: FeatureSettings,
  partitions: {
    table: "features_topic_daily",
    column: "date",
    unit: "day",
    since: { table: "attempt", column: "started_at" },
    window: ({ asOf, lookbackDays }) => ({ first: addDays(asOf, -lookbackDays), last: asOf }),
    startingAt: (params, firstDay) => ({ ...params, lookbackDays: daysBetween(firstDay, params.asOf) })
  }
})
  .relation("topicDays", {
    description:
      "Attempts aggregated per student, topic and UTC day over the lookback, set-based, with a 28-day " +
      "baseline; the rows stay in the database.",
    reads: Resource.columns("attempt", [
      "id",
      "student_id",
      "topic_id",
      "correct",
      "response_time_ms",
      "hint_used",
      "started_at",
      "completed_at"
    ]),
    run: ({ params, record }) => {
      const range = { firstDay: addDays(params.asOf, -params.lookbackDays), scanTo: addDays(params.asOf, 1) }
      record("days", range)
      return topicDays(range)
    }
  })
  .sink("featuresTopicDaily", {
    description: "Upsert the day rows into features_topic_daily by (user_id, topic_id, date), as one INSERT … SELECT.",
    inputs: ["topicDays"],
    writer: FeaturesTopicDailySink,
    relation: ({ topicDays }) => topicDays
  })
