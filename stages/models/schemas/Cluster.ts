import { Schema } from "effect"
import { ServiceHealth } from "./Common.ts"

/** Features the segment labels know how to name. */
export const ClusterFeatureName = Schema.Literal(
  "engagement",
  "improvement",
  "efficiency",
  "recovery",
  "accuracy",
  "hint_rate",
  "sessions",
  "mean_gap_days"
)
export type ClusterFeatureName = typeof ClusterFeatureName.Type

const feature = Schema.optional(Schema.NullOr(Schema.Number))

/** One user's features; missing values are imputed with the cohort median (z = 0). */
export const ClusterFeatureRow = Schema.Struct({
  user_id: Schema.String,
  engagement: feature,
  improvement: feature,
  efficiency: feature,
  recovery: feature,
  accuracy: feature,
  hint_rate: feature,
  sessions: feature,
  mean_gap_days: feature
})
export type ClusterFeatureRow = typeof ClusterFeatureRow.Type

/** `POST /cluster/fit`; without `n_clusters`, k is chosen by the gap statistic over 1..k_max (at least 2). */
export const ClusterFitRequest = Schema.Struct({
  features: Schema.Array(ClusterFeatureRow).pipe(Schema.minItems(3)),
  feature_names: Schema.optional(Schema.Array(ClusterFeatureName)),
  n_clusters: Schema.optional(Schema.Int.pipe(Schema.greaterThanOrEqualTo(2))),
  k_max: Schema.optional(Schema.Int.pipe(Schema.greaterThanOrEqualTo(2))),
  /** Uniform reference data sets of the gap statistic (default 50). */
  gap_references: Schema.optional(Schema.Int.pipe(Schema.between(10, 500))),
  method: Schema.optional(Schema.Literal("kmeans")),
  nstart: Schema.optional(Schema.Int.pipe(Schema.between(25, 1000))),
  seed: Schema.optional(Schema.Int)
})
export type ClusterFitRequest = typeof ClusterFitRequest.Type

const NumberByFeature = Schema.Record({ key: Schema.String, value: Schema.Number })

/** A user's segment and distance to its centre (in standardised units). */
export const SegmentAssignment = Schema.Struct({
  user_id: Schema.String,
  cluster: Schema.Int,
  segment_label: Schema.String,
  distance: Schema.NonNegative
})
export type SegmentAssignment = typeof SegmentAssignment.Type

/** A cluster centre, its label and the traits that define it. */
export const SegmentCenter = Schema.Struct({
  cluster: Schema.Int,
  label: Schema.String,
  size: Schema.Int,
  center_scaled: NumberByFeature,
  center_original: NumberByFeature,
  traits: Schema.Array(Schema.Struct({ feature: Schema.String, z: Schema.Number, description: Schema.String }))
})

/** The gap statistic at one k: the observed log W_k against its expectation without clusters. */
export const GapScore = Schema.Struct({
  k: Schema.Int,
  gap: Schema.Number,
  se: Schema.NonNegative,
  log_w: Schema.Number,
  expected_log_w: Schema.Number
})

/** Why this k: the criterion in words, the gap statistic's own answer (1 = no structure) and its value per k. */
export const KSelection = Schema.Struct({
  criterion: Schema.String,
  k_gap: Schema.optional(Schema.Int),
  scores: Schema.Array(GapScore)
})
export type KSelection = typeof KSelection.Type

/** The stored model: scaling, centres, k selection and quality metrics. */
export const SegmentMeta = Schema.Struct({
  method: Schema.Literal("kmeans"),
  n_clusters: Schema.Int,
  k_selection: KSelection,
  features: Schema.Array(Schema.String),
  nstart: Schema.Int,
  seed: Schema.Int,
  scaling: Schema.Struct({ center: NumberByFeature, scale: NumberByFeature }),
  centers: Schema.Array(SegmentCenter),
  metrics: Schema.Struct({
    silhouette: Schema.NullOr(Schema.Number),
    tot_withinss: Schema.Number,
    betweenss: Schema.Number,
    between_ratio: Schema.Number,
    iterations: Schema.Int
  }),
  warnings: Schema.Array(Schema.String)
})
export type SegmentMeta = typeof SegmentMeta.Type

/** `POST /cluster/fit` answer. */
export const ClusterFitResponse = Schema.Struct({
  segments: Schema.Array(SegmentAssignment),
  segment_meta: SegmentMeta,
  timing: Schema.Struct({ total_seconds: Schema.Number })
})
export type ClusterFitResponse = typeof ClusterFitResponse.Type

/** `POST /cluster/predict`: assign users to stored centres with the stored scaling. */
export const ClusterPredictRequest = Schema.Struct({
  scaling: Schema.Struct({ center: NumberByFeature, scale: NumberByFeature }),
  centers: Schema.Array(
    Schema.Struct({ cluster: Schema.Int, label: Schema.String, center_scaled: NumberByFeature })
  ).pipe(Schema.minItems(1)),
  features: Schema.Array(ClusterFeatureRow).pipe(Schema.minItems(1))
})
export type ClusterPredictRequest = typeof ClusterPredictRequest.Type

/** `POST /cluster/predict` answer. */
export const ClusterPredictResponse = Schema.Struct({ segments: Schema.Array(SegmentAssignment) })
export type ClusterPredictResponse = typeof ClusterPredictResponse.Type

/** cluster `/health`. */
export const ClusterHealth = ServiceHealth
