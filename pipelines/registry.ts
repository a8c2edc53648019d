import type * as Pipeline from "../engine/Pipeline.ts"
import { aggregateFeaturesDaily } from "./aggregateFeaturesDaily.ts"
import { clusterSegments } from "./clusterSegments.ts"
import { computeDailyKpis } from "./computeDailyKpis.ts"
import { fitBayesianGrowth } from "./fitBayesianGrowth.ts"
import { fitSurvivalChurn } from "./fitSurvivalChurn.ts"
import { forecastProphet } from "./forecastProphet.ts"
import { generateWeeklyReport } from "./generateWeeklyReport.ts"

const all = [
  computeDailyKpis,
  aggregateFeaturesDaily,
  fitSurvivalChurn,
  clusterSegments,
  fitBayesianGrowth,
  forecastProphet,
  generateWeeklyReport
] as const

/**
 * Every pipeline of the project. The scheduler, `plan`, `list` and `run` read this list; the cross-pipeline order
 * comes from what each pipeline declares it reads and writes, never from the order here.
 */
export const pipelines: ReadonlyArray<Registered> = all

/** What running any of the pipelines needs (database, R service clients, …), for the layers at the edge. */
export type Requirements = Pipeline.Requirements<(typeof all)[number]>

/** A pipeline of the project, with the joint requirements of all of them. */
export type Registered = Pipeline.Pipeline<any, any, any, Requirements>
