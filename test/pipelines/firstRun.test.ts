import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import { assertPageWellFormed, browser, open } from "../report/browser.ts"
import { platformLayer, type RunningRService, startRService } from "../support/rServices.ts"
import { postgres, TestDatabaseUrl } from "../support/TestDatabase.ts"

// Issue #14 part 1, as a new user tries it: a database holding 16 weeks of attempts (and their sessions) and nothing
// else, then every pipeline once, in the order `seedtest list` prints, with defaults, through the CLI bundle.

const bin = path.resolve("bin/seedtest.mjs")
execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" })

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

class Services extends Context.Tag("test/firstRun/Services")<Services, ReadonlyArray<RunningRService>>() {}

const services = Layer.scoped(
  Services,
  Effect.all([startRService("brms"), startRService("forecast"), startRService("cluster")], { concurrency: "unbounded" })
).pipe(Layer.provide(platformLayer))

const prefix = { brms: "R_BRMS", forecast: "R_FORECAST", cluster: "R_CLUSTER" } as const

/**
 * Only what a user's shell would hold: no setting of any pipeline (KPI_LOOKBACK_DAYS, SEEDTEST_AS_OF, …) leaks in
 * from the test's own environment, so every pipeline runs with its defaults.
 */
const userEnv = (running: ReadonlyArray<RunningRService>, database: Record<string, string>) => {
  const env: Record<string, string> = { SEEDTEST_CLI: "bundle", TZ: "UTC", ...database }
  for (const key of ["PATH", "HOME", "LANG"]) if (process.env[key] !== undefined) env[key] = process.env[key]!
  for (const s of running) {
    env[`${prefix[s.service]}_URL`] = s.url
    env[`${prefix[s.service]}_INTERNAL_TOKEN`] = Redacted.value(s.token)
  }
  return env
}

const seedtest = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.promise(
    () =>
      new Promise<Result>((resolve) => {
        execFile(
          process.execPath,
          [bin, ...args],
          { env, timeout: 900_000, maxBuffer: 256 * 1024 * 1024 },
          (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
        )
      })
  )

const STUDENTS = 40

type StageRecord = { readonly name: string; readonly notes: Record<string, unknown> }
const notesOf = (stdout: string, stage: string) =>
  (JSON.parse(stdout) as { stages: ReadonlyArray<StageRecord> }).stages.find((s) => s.name === stage)!.notes

/** Seeds, runs every pipeline once in list order with defaults, and checks the fills and the reports. */
const firstRun = (database: Record<string, string>, dataDir: string) =>
  Effect.gen(function* () {
    const env = userEnv(yield* Services, { ...database, SEEDTEST_DATA_DIR: dataDir })
    const seeded = yield* seedtest(["seed", "--students", String(STUDENTS), "--weeks", "16"], env)
    assert.strictEqual(seeded.code, 0, seeded.stderr)
    const listed = yield* seedtest(["list", "--json"], env)
    assert.strictEqual(listed.code, 0, listed.stderr)
    const order = (JSON.parse(listed.stdout) as ReadonlyArray<{ name: string }>).map((p) => p.name)
    assert.includeMembers(order, [
      "compute-daily-kpis",
      "aggregate-features-daily",
      "cluster-segments",
      "forecast-prophet"
    ])
    const runs: Record<string, Result> = {}
    for (const pipeline of order) {
      const r = yield* seedtest(["run", pipeline, "--json"], env)
      assert.strictEqual(r.code, 0, `${pipeline} failed:\n${r.stderr.slice(-4000)}`)
      runs[pipeline] = r
    }

    // the writers filled what their readers need, and said so in the progress output and the run record
    const kpis = runs["compute-daily-kpis"]!
    assert.match(kpis.stderr, /⇡ filled \d+ missing weeks of weekly_kpi for [^\n]*cluster-segments \(needs 12 weeks\)/)
    assert.match(kpis.stderr, /forecast-prophet \(needs 12 weeks\)/)
    const kpiFill = notesOf(kpis.stdout, "weeklyKpi")["filled"] as {
      missing: ReadonlyArray<string>
      window: { first: string }
    }
    assert.isAbove(kpiFill.missing.length, 0)
    const kpiWeeks = notesOf(kpis.stdout, "windows")["weeks"] as { firstWeek: string; lastWeek: string }
    assert.strictEqual(kpiWeeks.firstWeek, kpiFill.window.first)
    // 12 weeks of KPIs at least (the report's charts need 13, counted from the as-of week)
    const weeksComputed = (Date.parse(kpiWeeks.lastWeek) - Date.parse(kpiWeeks.firstWeek)) / 604_800_000 + 1
    assert.isAtLeast(weeksComputed, 12)
    const features = runs["aggregate-features-daily"]!
    assert.match(
      features.stderr,
      /⇡ filled \d+ missing days of features_topic_daily for cluster-segments \(needs 84 days\)/
    )

    // segments found nearly every student with enough history (the cohort's early churners may have too little);
    // with the features of the default 7 days only, no one would have 3 weeks
    const segments = notesOf(runs["cluster-segments"]!.stdout, "features")
    const tooLittle = (segments["tooLittleHistory"] as { count: number }).count
    assert.isAtLeast(segments["users"] as number, 0.9 * STUDENTS, `${tooLittle} with too little history`)
    const statuses = notesOf(runs["forecast-prophet"]!.stdout, "forecasts")["statuses"] as Record<string, number>
    assert.isAbove(statuses["ok"] ?? 0, 0, JSON.stringify(statuses))

    // every report has every section, and no section is missing because a model did not run
    const report = notesOf(runs["generate-weekly-report"]!.stdout, "reports")
    assert.isAbove(report["students"] as number, 0)
    const unavailable = report["unavailableSections"] as Record<string, Record<string, number>>
    for (const [section, reasons] of Object.entries(unavailable)) {
      assert.notProperty(reasons, "NotRun", `${section}: ${JSON.stringify(reasons)}`)
    }
    const week = fs.readdirSync(path.join(dataDir, "reports")).sort().at(-1)!
    const pages = fs
      .readdirSync(path.join(dataDir, "reports", week))
      .filter((f) => f.endsWith(".html") && f !== "index.html")
    assert.strictEqual(pages.length, report["students"])
    const b = yield* browser
    for (const page of pages.slice(0, 3)) {
      const visit = yield* open(b, path.join(dataDir, "reports", week, page))
      yield* assertPageWellFormed(visit, page)
    }

    // a second run finds nothing missing
    const again = yield* seedtest(["run", "compute-daily-kpis"], env)
    assert.strictEqual(again.code, 0, again.stderr)
    assert.notInclude(again.stderr, "missing weeks")
    return { runs, unavailable, report }
  }).pipe(Effect.scoped)

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-first-run-"))

describe("a first run on a database holding only attempts", () => {
  layer(services, { timeout: Duration.minutes(40), excludeTestServices: true })(
    "every pipeline once, in list order",
    (it) => {
      it.effect("on the embedded database", () => firstRun({}, tempDir()), {
        timeout: Duration.toMillis(Duration.minutes(20))
      })

      it.effect(
        "on PostgreSQL",
        () =>
          Effect.gen(function* () {
            const context = yield* Layer.build(postgres)
            const url = Context.get(context, TestDatabaseUrl)
            return yield* firstRun({ DATABASE_URL: Redacted.value(url) }, tempDir())
          }).pipe(Effect.scoped),
        { timeout: Duration.toMillis(Duration.minutes(20)) }
      )
    }
  )
})
