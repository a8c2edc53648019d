import { Option } from "effect"
import * as Param from "../engine/Param.ts"
import { asOf, goalHorizonWeeks, goalTarget } from "./KpiSettings.ts"

/** The parameters of `fit-bayesian-growth`, under the environment variable names users already have. */
export const GrowthSettings = {
  asOf,
  lookbackWeeks: Param.int({
    env: "LOOKBACK_WEEKS",
    description: "weeks of weekly accuracy (ending with the as-of week) the growth model is fitted on",
    default: 12,
    min: 2
  }),
  iter: Param.int({
    env: "BRMS_ITER",
    description: "Stan iterations per chain (half of them warm-up)",
    default: 1000,
    min: 100
  }),
  chains: Param.int({ env: "BRMS_CHAINS", description: "Stan chains", default: 2, min: 1, max: 64 }),
  family: Param.literal(["gaussian", "student"], {
    env: "BRMS_FAMILY",
    description: "response family of the growth model",
    default: "gaussian"
  }),
  target: goalTarget,
  horizonWeeks: goalHorizonWeeks,
  timeoutSeconds: Param.int({
    env: "R_BRMS_TIMEOUT_SECS",
    description: "seconds the brms fit may take before the run fails (nothing is written)",
    default: 600,
    min: 1
  }),
  studentsPerRequest: Param.int({
    description: "students per /growth/predict request after the fit (the per-student step, spread over the replicas)",
    default: 1000,
    min: 1
  }),
  concurrency: Param.optionalInt({
    env: "GROWTH_CONCURRENCY",
    description: "/growth/predict requests in flight at once; empty = the R_BRMS_URL instances × 2",
    default: Option.none(),
    min: 1
  }),
  seed: Param.int({
    description: "Stan seed: the same data and seed give the same posterior",
    default: 20240101,
    min: 0
  })
}
