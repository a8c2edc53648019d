import { execFile, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const bin = path.resolve("bin/seedtest.mjs")

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

// The suites test what users run: the esbuild bundle behind bin/seedtest.mjs, built from these sources now, with the
// launcher's fallback to the TypeScript sources forbidden (SEEDTEST_CLI=bundle).
execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" })

/** Runs a launcher as a user would, in a child process. */
const launch = (
  launcher: string,
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  timeout: number
): Promise<Result> =>
  new Promise((resolve) => {
    const childEnv: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...process.env, SEEDTEST_CLI: "bundle", ...env }))
      if (v !== undefined) childEnv[k] = v
    execFile(process.execPath, [launcher, ...args], { env: childEnv, timeout }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** Runs the real CLI (the bundle) as a user would, in a child process with its own data folder. */
// generous: on a loaded machine a cold start of the embedded database alone has taken over a minute
const seedtest = (
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined> = {},
  timeout = 240_000
): Promise<Result> => launch(bin, args, env, timeout)

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-cli-"))
const embedded = { SEEDTEST_DATA_DIR: dataDir, DATABASE_URL: undefined }
const SECRET = "pw-that-must-not-leak-7731"

// each test starts the real CLI (and often the embedded database) in a child process: slow on a loaded machine
describe("the seedtest command", { timeout: 300_000 }, () => {
  it("runs the bundle, and refuses a stale one instead of falling back to the sources when told to", async () => {
    // a copy of the launcher next to a fake bundle and a fake source tree
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-launcher-"))
    for (const dir of ["bin", "dist", "cli"]) fs.mkdirSync(path.join(root, dir))
    fs.copyFileSync(bin, path.join(root, "bin", "seedtest.mjs"))
    fs.writeFileSync(path.join(root, "cli", "main.ts"), "")
    fs.writeFileSync(path.join(root, "dist", "seedtest.mjs"), `console.log("the bundle ran")`)
    const fresh = await launch(path.join(root, "bin", "seedtest.mjs"), [], {}, 30_000)
    assert.strictEqual(fresh.code, 0, fresh.stderr)
    assert.strictEqual(fresh.stdout.trim(), "the bundle ran")
    const later = new Date(Date.now() + 60_000)
    fs.utimesSync(path.join(root, "cli", "main.ts"), later, later)
    const stale = await launch(path.join(root, "bin", "seedtest.mjs"), [], {}, 30_000)
    assert.strictEqual(stale.code, 3)
    assert.include(stale.stderr, "older than the sources")
    assert.notInclude(stale.stdout, "the bundle ran")
  })

  it("explains itself in --help with every command", async () => {
    const r = await seedtest(["--help"], { R_BRMS_INTERNAL_TOKEN: SECRET })
    assert.strictEqual(r.code, 0)
    for (const command of ["list", "plan", "run", "runs"]) assert.include(r.stdout, `- ${command}`)
    assert.notInclude(r.stdout + r.stderr, SECRET)
  })

  it("plans without a database", async () => {
    const r = await seedtest(["plan"], { DATABASE_URL: `postgres://u:${SECRET}@127.0.0.1:1/none` })
    assert.strictEqual(r.code, 0)
    assert.include(r.stdout, "execution order")
  })

  it("rejects an unknown pipeline as a user error, naming how to find the right one", async () => {
    const r = await seedtest(["run", "no-such-pipeline"], embedded)
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, `There is no pipeline named "no-such-pipeline"`)
    assert.include(r.stderr, "seedtest list")
  })

  it("reports an unreachable database as an environment failure without printing its password", async () => {
    const r = await seedtest(["runs"], { DATABASE_URL: `postgres://someone:${SECRET}@127.0.0.1:1/nowhere` })
    assert.strictEqual(r.code, 3)
    assert.include(r.stderr, "database is not reachable")
    assert.notInclude(r.stdout + r.stderr, SECRET)
  })

  it("rejects a malformed R service URL at once as a configuration error naming the variable", async () => {
    const started = Date.now()
    const r = await seedtest(["runs"], {
      ...embedded,
      R_FORECAST_URL: "r-forecast-plumber:8080",
      R_FORECAST_INTERNAL_TOKEN: SECRET
    })
    assert.strictEqual(r.code, 3, r.stderr)
    assert.include(r.stderr, "R_FORECAST_URL")
    assert.include(r.stderr, "expected the service's http(s) URL")
    assert.notInclude(r.stdout + r.stderr, SECRET)
    // no retries of a URL that cannot work (they took 35 s)
    assert.isBelow(Date.now() - started, 30_000)
  })

  it("keeps run history in the embedded database and rejects an unknown run id", async () => {
    const history = await seedtest(["runs"], embedded)
    assert.strictEqual(history.code, 0, history.stderr)
    assert.include(history.stdout, "no runs yet")
    assert.isTrue(fs.existsSync(path.join(dataDir, "pgdata")))
    const missing = await seedtest(["runs", "show", "run_missing"], embedded)
    assert.strictEqual(missing.code, 2)
    assert.include(missing.stderr, `no run with id "run_missing"`)
  })

  it("lists upcoming runs, each after its same-day upstream pipelines", async () => {
    const r = await seedtest(["next", "--count", "6", "--json"], embedded)
    assert.strictEqual(r.code, 0, r.stderr)
    const upcoming = JSON.parse(r.stdout) as ReadonlyArray<{
      pipeline: string
      startsAfter: string
      after: ReadonlyArray<string>
    }>
    assert.strictEqual(upcoming.length, 6)
    const starts = upcoming.map((u) => Date.parse(u.startsAfter))
    assert.deepStrictEqual(
      starts,
      [...starts].sort((a, b) => a - b)
    )
  })

  it("rejects a bad schedule file naming the entry", async () => {
    const file = path.join(dataDir, "bad-schedule.json")
    fs.writeFileSync(
      file,
      JSON.stringify({
        schedules: [
          { pipeline: "compute-daily-kpis", cron: "10 2 * * *" },
          { pipeline: "compute-daily-kpi", cron: "0 1 * * *" }
        ]
      })
    )
    const unknown = await seedtest(["next"], { ...embedded, SEEDTEST_SCHEDULE_FILE: file })
    assert.strictEqual(unknown.code, 2)
    assert.include(unknown.stderr, "entry #2 (compute-daily-kpi)")
    assert.include(unknown.stderr, `unknown pipeline "compute-daily-kpi"`)
    fs.writeFileSync(file, JSON.stringify({ schedules: [{ pipeline: "compute-daily-kpis", cron: "61 2 * * *" }] }))
    const badCron = await seedtest(["next"], { ...embedded, SEEDTEST_SCHEDULE_FILE: file })
    assert.strictEqual(badCron.code, 2)
    assert.include(badCron.stderr, `bad cron expression "61 2 * * *"`)
  })

  it("seeds a cohort, dry-runs, runs, records and backfills a pipeline on the embedded database", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-flow-"))
    const env = { SEEDTEST_DATA_DIR: dir, DATABASE_URL: undefined }
    const seeded = await seedtest(["seed", "--students", "20", "--weeks", "6", "--end-date", "2026-11-22"], env)
    assert.strictEqual(seeded.code, 0, seeded.stderr)
    assert.include(seeded.stdout, "Seeded 20 students × 6 weeks")

    const badParam = await seedtest(["run", "compute-daily-kpis", "--param", "lookbackDayz=3"], env)
    assert.strictEqual(badParam.code, 2)
    assert.include(badParam.stderr, `no parameter "lookbackDayz"`)
    const badValue = await seedtest(["run", "compute-daily-kpis", "--param", "lookbackDays=soon"], env)
    assert.strictEqual(badValue.code, 2)
    // an empty value reaches the parameter (where "" can mean "automatic"), not the CLI library's parser
    const empty = await seedtest(["run", "compute-daily-kpis", "--param", "lookbackDays="], env)
    assert.strictEqual(empty.code, 2)
    assert.include(empty.stderr, `Parameter "lookbackDays" of pipeline "compute-daily-kpis" is invalid`)
    assert.notInclude(empty.stderr, "default value")

    const dry = await seedtest(["run", "compute-daily-kpis", "--dry-run", "--param", "asOf=2026-11-22", "--json"], env)
    assert.strictEqual(dry.code, 0, dry.stderr)
    const report = JSON.parse(dry.stdout) as { sinks: ReadonlyArray<{ target: string; inserts: number }> }
    assert.strictEqual(report.sinks[0]!.target, "weekly_kpi")
    assert.isAbove(report.sinks[0]!.inserts, 0)
    // the dry run evaluates the sink's declared checks on the rows it would write
    const dryChecks = (JSON.parse(dry.stdout) as { checks: ReadonlyArray<{ check: string; status: string }> }).checks
    assert.deepInclude(
      dryChecks.map((c) => [c.check, c.status]),
      ["kpis.P in [0, 1]", "passed"]
    )
    const planned = await seedtest(["plan", "compute-daily-kpis"], env)
    assert.include(planned.stdout, "check (error): kpis.P in [0, 1]")
    assert.include(dry.stderr, "✓ source") // progress, stage by stage, on stderr
    const none = await seedtest(["runs", "--json"], env)
    assert.deepStrictEqual(JSON.parse(none.stdout), []) // a dry run records nothing

    const backfill = await seedtest(
      ["backfill", "compute-daily-kpis", "--from", "2026-11-02", "--to", "2026-11-09"],
      env
    )
    assert.strictEqual(backfill.code, 0, backfill.stderr)
    assert.include(backfill.stdout, "2 week(s) run, 0 already done")
    const again = await seedtest(["backfill", "compute-daily-kpis", "--from", "2026-11-02", "--to", "2026-11-16"], env)
    assert.include(again.stdout, "1 week(s) run, 2 already done")
    const notMonday = await seedtest(
      ["backfill", "compute-daily-kpis", "--from", "2026-11-03", "--to", "2026-11-09"],
      env
    )
    assert.strictEqual(notMonday.code, 2)
    assert.include(notMonday.stderr, "did you mean 2026-11-02")

    const history = JSON.parse((await seedtest(["runs", "--json"], env)).stdout) as ReadonlyArray<{
      id: string
      trigger: string
      status: string
      params: Record<string, string>
    }>
    assert.deepStrictEqual(
      history.map((r) => [r.trigger, r.status, r.params.asOf]),
      [
        ["backfill", "succeeded", "2026-11-22"],
        ["backfill", "succeeded", "2026-11-15"],
        ["backfill", "succeeded", "2026-11-08"]
      ]
    )
    const shown = await seedtest(["runs", "show", history[0]!.id], env)
    assert.strictEqual(shown.code, 0)
    assert.include(shown.stdout, "weekly_kpi:")
    assert.match(shown.stdout, /✓ error +weeklyKpi +kpis\.P in \[0, 1\]/)
  }, 600_000)

  it("starts the local R services and prints PDF reports from the bundle", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-bundle-"))
    // no R_*_URL: the CLI starts the R services itself, from the repository the bundle belongs to
    const env = {
      SEEDTEST_DATA_DIR: dir,
      DATABASE_URL: undefined,
      R_FORECAST_URL: undefined,
      R_CLUSTER_URL: undefined,
      R_BRMS_URL: undefined
    }
    const seeded = await seedtest(["seed", "--students", "12", "--weeks", "4", "--end-date", "2026-11-22"], env)
    assert.strictEqual(seeded.code, 0, seeded.stderr)
    const kpis = await seedtest(["run", "compute-daily-kpis", "--param", "asOf=2026-11-22"], env)
    assert.strictEqual(kpis.code, 0, kpis.stderr)
    const survival = await seedtest(["run", "fit-survival-churn", "--param", "asOf=2026-11-22"], env, 240_000)
    assert.strictEqual(survival.code, 0, survival.stderr)
    const reports = path.join(dir, "out")
    const report = await seedtest(
      [
        "run",
        "generate-weekly-report",
        "--param",
        "asOf=2026-11-22",
        "--param",
        "format=html,pdf",
        "--param",
        `outputDir=${reports}`
      ],
      env,
      240_000
    )
    assert.strictEqual(report.code, 0, report.stderr)
    const week = path.join(reports, "2026-11-16")
    const pdfs = fs.readdirSync(week).filter((f) => f.endsWith(".pdf"))
    assert.isAbove(pdfs.length, 0)
    for (const pdf of pdfs) assert.strictEqual(fs.readFileSync(path.join(week, pdf)).subarray(0, 5).toString(), "%PDF-")
  }, 600_000)

  it("stops the scheduler on SIGTERM with exit 0 when it is idle, after writing its health file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-daemon-"))
    const file = path.join(dir, "schedule.json")
    fs.writeFileSync(
      file,
      JSON.stringify({ schedules: [{ pipeline: "compute-daily-kpis", cron: "10 2 * * *", enabled: false }] })
    )
    const childEnv: Record<string, string> = {}
    for (const [k, v] of Object.entries({
      ...process.env,
      SEEDTEST_CLI: "bundle",
      SEEDTEST_DATA_DIR: dir,
      SEEDTEST_SCHEDULE_FILE: file
    })) {
      if (v !== undefined && k !== "DATABASE_URL") childEnv[k] = v
    }
    const health = path.join(dir, "alive")
    const daemon = spawn(process.execPath, [bin, "scheduler", "--verbose", "--health-file", health], {
      env: childEnv,
      stdio: ["ignore", "ignore", "pipe"]
    })
    let healthy = false
    let stderr = ""
    const code = await new Promise<number | null>((resolve) => {
      daemon.stderr.on("data", (chunk) => {
        stderr += String(chunk)
        // idle: nothing is due, the daemon waits for its next slot
        if (stderr.includes("idle") && !daemon.killed) {
          // up: the probes' file is there (deploy/ reads it)
          healthy = fs.existsSync(health)
          daemon.kill("SIGTERM")
        }
      })
      daemon.on("exit", (exitCode, signal) => {
        if (signal !== null) stderr += `\n(killed by ${signal})`
        resolve(exitCode)
      })
      setTimeout(() => daemon.kill("SIGKILL"), 120_000)
    })
    assert.include(stderr, "idle")
    assert.isTrue(healthy, "the health file exists once the daemon is up")
    assert.strictEqual(code, 0, stderr)
  })

  it("refuses a second process on the same embedded data folder with a clear message", async () => {
    const lock = path.join(dataDir, "lock")
    // a live process (this test runner) holds the lock
    fs.writeFileSync(lock, String(process.pid))
    try {
      const r = await seedtest(["runs"], embedded)
      assert.strictEqual(r.code, 3)
      assert.include(r.stderr, "in use by another seedtest process")
      assert.notInclude(r.stderr, ": locked")
    } finally {
      fs.rmSync(lock, { force: true })
    }
  })
})
