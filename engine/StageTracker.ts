import type * as Pipeline from "./Pipeline.ts"
import { StageRecord } from "./RunStore.ts"
import type { StageKind } from "./Stage.ts"

/** One stage's entry in the run record while the run is going: the runner fills it in as the stage runs. */
export interface TrackedStage {
  name: string
  kind: StageKind
  status: StageRecord["status"]
  startedAt: string | null
  millis: number | null
  rows: number | null
  attempts: number
  notes: Record<string, unknown>
  error: string | null
}

/** The entries of every stage of one run, by stage name. */
export interface StageTracker {
  readonly records: ReadonlyMap<string, TrackedStage>
  /** The entry of a stage of the run's pipeline. */
  readonly of: (stage: string) => TrackedStage
}

/** Every stage of the pipeline as "not run". */
export const make = (pipeline: Pipeline.Any): StageTracker => {
  const records = new Map<string, TrackedStage>(
    pipeline.stages.map((s) => [
      s.name,
      {
        name: s.name,
        kind: s.kind,
        status: "not run",
        startedAt: null,
        millis: null,
        rows: null,
        attempts: 0,
        notes: {},
        error: null
      }
    ])
  )
  return {
    records,
    // the tracker is made from the same validated pipeline whose stages the runner runs
    of: (stage) => records.get(stage)!
  }
}

/** The stage entries as they are now, for the live run record (a stage under way is `running`). */
export const snapshot = (tracker: StageTracker): ReadonlyArray<StageRecord> =>
  [...tracker.records.values()].map((r) => new StageRecord({ ...r, notes: { ...r.notes } }))

/**
 * The stage entries once the run has ended, for its final record and result: a stage still under way was interrupted
 * (a sibling failed, or the run was stopped) and did not run to its end, so it is `not run` (its `startedAt` stays).
 */
export const final = (tracker: StageTracker): ReadonlyArray<StageRecord> =>
  snapshot(tracker).map((r) => (r.status === "running" ? new StageRecord({ ...r, status: "not run" }) : r))
