import type { TopicDayRow } from "../sources/TopicFeaturesQuery.ts"
import * as TableWriter from "./TableWriter.ts"

/** One row of `features_topic_daily` as the features pipeline writes it. */
export type FeaturesTopicDailyRow = TopicDayRow & Record<string, unknown>

/** Upserts `features_topic_daily` by (user_id, topic_id, date); `computed_at` is stamped on every write. */
export const FeaturesTopicDailySink = TableWriter.upsert<FeaturesTopicDailyRow>({
  table: "features_topic_daily",
  key: ["user_id", "topic_id", "date"],
  columns: {
    user_id: "text",
    topic_id: "text",
    date: "date",
    attempts: "int4",
    correct: "int4",
    avg_time_ms: "float8",
    hints: "int4",
    rt_median: "float8",
    improvement: "float8",
    last_seen_at: "timestamptz"
  },
  touch: "computed_at"
})
