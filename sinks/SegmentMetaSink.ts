import * as Resource from "../engine/Resource.ts"
import { replacing } from "./ReplacingWriter.ts"

/** One segmentation: the mission's columns, the as-of day it was made for, and what `/cluster/predict` needs. */
export interface SegmentMetaRow extends Record<string, unknown> {
  readonly run_id: string
  readonly as_of: string
  readonly method: string
  readonly n_clusters: number
  readonly centers: unknown
  readonly metrics: unknown
  /** Scaling, features, k selection, seed and warnings of the fit. */
  readonly model: unknown
}

/** `segment_meta`: one row per fit; a re-run for the same as-of day replaces the earlier run's row. */
export const SegmentMetaSink = replacing<SegmentMetaRow>({
  table: "segment_meta",
  scope: "as_of",
  columns: {
    run_id: "text",
    as_of: "date",
    method: "text",
    n_clusters: "int4",
    centers: "jsonb",
    metrics: "jsonb",
    model: "jsonb"
  },
  writes: Resource.many("segment_meta")
})
