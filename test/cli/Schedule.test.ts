import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { registry } from "../../cli/Registry.ts"
import { loadSchedule } from "../../cli/Schedule.ts"
import { ScheduleEntry, warnings } from "../../config/schedule.ts"

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-schedule-"))

/** Loads `schedules` as the CLI does (SEEDTEST_SCHEDULE_FILE), returning the error message or the entries. */
const load = (document: unknown) => {
  const file = path.join(folder, `${Math.random().toString(36).slice(2)}.json`)
  fs.writeFileSync(file, JSON.stringify(document))
  return Effect.flatMap(registry, loadSchedule).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["SEEDTEST_SCHEDULE_FILE", file]]))),
    Effect.flip,
    Effect.map((error) => ({ tag: error._tag, message: error.message }))
  )
}

describe("the schedule file", () => {
  it.effect("rejects an unknown key of an entry, naming the key and the entry", () =>
    Effect.gen(function* () {
      const error = yield* load({
        schedules: [
          { pipeline: "compute-daily-kpis", cron: "10 2 * * *" },
          { pipeline: "fit-survival-churn", cron: "* * * * *", enabeld: false }
        ]
      })
      assert.strictEqual(error.tag, "ScheduleFileError")
      assert.include(error.message, "entry #2 (fit-survival-churn)")
      assert.include(error.message, `unknown key "enabeld" (did you mean "enabled"?)`)
    })
  )

  it.effect("rejects an unknown key at the top of the file", () =>
    Effect.gen(function* () {
      const error = yield* load({ schedules: [], shedules: [] })
      assert.include(error.message, `unknown key "shedules"`)
    })
  )

  it.effect("decodes each entry's params when it loads, naming the entry, the parameter and the file", () =>
    Effect.gen(function* () {
      const bad = yield* load({
        schedules: [{ pipeline: "compute-daily-kpis", cron: "10 2 * * *", params: { lookbackDays: "abc" } }]
      })
      assert.strictEqual(bad.tag, "ScheduleFileError")
      assert.include(bad.message, "entry #1 (compute-daily-kpis)")
      assert.include(bad.message, `"lookbackDays"`)
      assert.include(bad.message, `schedule value "abc"`)
      assert.notInclude(bad.message, "--param")
      const unknown = yield* load({
        schedules: [{ pipeline: "compute-daily-kpis", cron: "10 2 * * *", params: { lookbackDayz: "7" } }]
      })
      assert.include(unknown.message, `no parameter "lookbackDayz"`)
    })
  )

  it.effect("names the first problem of a mistyped entry in one line, not a schema tree", () =>
    Effect.gen(function* () {
      const error = yield* load({ schedules: [{ pipeline: "compute-daily-kpis", cron: "10 2 * * *", enabled: "no" }] })
      assert.include(error.message, `"enabled": Expected boolean, actual "no"`)
      assert.notInclude(error.message, "└─")
    })
  )

  it.effect("accepts a correct file with params", () =>
    Effect.gen(function* () {
      const file = path.join(folder, "good.json")
      fs.writeFileSync(
        file,
        JSON.stringify({
          schedules: [
            { pipeline: "compute-daily-kpis", cron: "10 2 * * *", params: { lookbackDays: "14" }, enabled: false }
          ]
        })
      )
      const schedule = yield* Effect.flatMap(registry, loadSchedule).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["SEEDTEST_SCHEDULE_FILE", file]])))
      )
      assert.deepStrictEqual(
        schedule.entries.map((e) => [e.pipeline, e.params, e.enabled]),
        [["compute-daily-kpis", { lookbackDays: "14" }, false]]
      )
    })
  )

  it("warns about a six-field cron (read as seconds) and one that never fires, naming the entry", () => {
    const entry = (pipeline: string, cron: string) =>
      ScheduleEntry.make({ pipeline, cron, timezone: "UTC", params: {}, enabled: true })
    const found = warnings([
      entry("compute-daily-kpis", "10 2 * * *"),
      entry("fit-survival-churn", "0 10 2 * * *"),
      entry("cluster-segments", "0 0 30 2 *")
    ])
    assert.strictEqual(found.length, 2)
    assert.include(found[0]!, "schedule entry #2 (fit-survival-churn)")
    assert.include(found[0]!, "the first is read as seconds")
    assert.include(found[1]!, "schedule entry #3 (cluster-segments)")
    assert.include(found[1]!, "never fires")
  })
})
