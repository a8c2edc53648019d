import * as Resource from "../engine/Resource.ts"
import * as TableWriter from "./TableWriter.ts"

/** A user's current segment, with the features it was assigned from. */
export interface UserSegmentRow extends Record<string, unknown> {
  readonly user_id: string
  readonly segment_label: string
  /** The features sent to the model, the cluster, the distance to its centre, the run id and the as-of day. */
  readonly features_snapshot: unknown
}

/** Upserts `user_segment` by user_id (one current segment per user); `assigned_at` is stamped on every write. */
export const UserSegmentSink = TableWriter.upsert<UserSegmentRow>({
  table: "user_segment",
  key: ["user_id"],
  columns: { user_id: "text", segment_label: "text", features_snapshot: "jsonb" },
  touch: "assigned_at",
  writes: Resource.many("user_segment")
})
