import { assert, describe, it } from "@effect/vitest"
import { ganttRows } from "../../console/RunPage.ts"
import { RunRecord, StageRecord } from "../../engine/RunStore.ts"

const stage = (fields: Partial<StageRecord> & Pick<StageRecord, "name" | "status">) =>
  new StageRecord({
    kind: "source",
    startedAt: null,
    millis: null,
    rows: null,
    attempts: 0,
    notes: {},
    error: null,
    ...fields
  })

describe("the run page's timeline", () => {
  it("draws a run in progress: finished stages to their end, the running one up to now, unstarted ones not at all", () => {
    const startedAt = new Date("2026-12-01T10:00:00.000Z")
    const run = new RunRecord({
      id: "run_x",
      pipeline: "compute-daily-kpis",
      params: {},
      trigger: "manual",
      slot: null,
      status: "running",
      startedAt,
      finishedAt: null,
      heartbeatAt: startedAt,
      stages: [
        stage({ name: "read", status: "succeeded", startedAt: "2026-12-01T10:00:01.000Z", millis: 2000, rows: 10 }),
        stage({ name: "fit", kind: "model", status: "running", startedAt: "2026-12-01T10:00:03.000Z" }),
        stage({ name: "write", kind: "sink", status: "not run" })
      ],
      sinks: [],
      checks: [],
      error: null
    })
    const bars = ganttRows(run, new Date("2026-12-01T10:00:10.000Z"))
    assert.deepStrictEqual(
      bars.map((b) => [b.stage, b.from, b.to]),
      [
        ["read", 1, 3],
        ["fit", 3, 10]
      ]
    )
  })
})
