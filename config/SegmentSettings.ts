import { Option } from "effect"
import * as Param from "../engine/Param.ts"
import { asOf } from "./KpiSettings.ts"

/** The parameters of `cluster-segments`, under the environment variable names users already have. */
export const SegmentSettings = {
  asOf,
  lookbackWeeks: Param.int({
    env: "CLUSTER_LOOKBACK_WEEKS",
    description: "weeks up to the as-of week whose weekly_kpi and features_topic_daily rows form the features",
    default: 12,
    min: 1
  }),
  nClusters: Param.optionalInt({
    env: "CLUSTER_N_CLUSTERS",
    description: "number of segments; empty = chosen by the gap statistic (segment_meta.metrics.k_selection says why)",
    default: Option.none(),
    min: 2
  }),
  method: Param.literal(["kmeans"], {
    env: "CLUSTER_METHOD",
    description: "clustering method",
    default: "kmeans"
  }),
  minWeeks: Param.int({
    description: "weeks with KPIs a user needs in the lookback to be segmented (others are listed in the run record)",
    default: 3,
    min: 1
  })
}
