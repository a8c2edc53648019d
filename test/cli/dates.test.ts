import { assert, describe, it } from "@effect/vitest"
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const bin = path.resolve("bin/seedtest.mjs")

// what users run: the bundle, built from these sources now, without the launcher's fallback to the sources
execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" })

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-dates-"))

/** Runs the CLI bundle in a child process with its own (embedded) data folder. */
const seedtest = (args: ReadonlyArray<string>): Promise<Result> =>
  new Promise((resolve) => {
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...process.env, SEEDTEST_CLI: "bundle", SEEDTEST_DATA_DIR: dataDir })) {
      if (v !== undefined && k !== "DATABASE_URL" && k !== "SEEDTEST_AS_OF") env[k] = v
    }
    execFile(process.execPath, [bin, ...args], { env, timeout: 240_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }))
  })

describe("dates on the command line", { timeout: 300_000 }, () => {
  it("a run as of a day the month does not have is a user error (exit 2), and nothing is recorded", async () => {
    const r = await seedtest(["run", "compute-daily-kpis", "--param", "asOf=2026-02-31"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, `Parameter "asOf" of pipeline "compute-daily-kpis" is invalid`)
    assert.include(r.stderr, "February 2026 has 28 days")
    const dry = await seedtest(["run", "compute-daily-kpis", "--dry-run", "--param", "asOf=2026-04-31"])
    assert.strictEqual(dry.code, 2, dry.stderr)
    assert.include(dry.stderr, "April 2026 has 30 days")
    const runs = await seedtest(["runs", "--json"])
    assert.strictEqual(runs.code, 0, runs.stderr)
    assert.deepStrictEqual(JSON.parse(runs.stdout), [])
  })

  it("a backfill from a day the month does not have is a user error (exit 2), not the Monday it rolls over to", async () => {
    // 2026-02-30 would roll over to 2026-03-02, a Monday
    const from = await seedtest(["backfill", "compute-daily-kpis", "--from", "2026-02-30", "--to", "2026-03-09"])
    assert.strictEqual(from.code, 2, from.stderr)
    assert.include(from.stderr, "--from must be a week's Monday as YYYY-MM-DD")
    assert.include(from.stderr, "February 2026 has 28 days")
    assert.notInclude(from.stderr, "week 2026-03-02")
    const to = await seedtest(["backfill", "compute-daily-kpis", "--from", "2026-03-02", "--to", "2026-02-30"])
    assert.strictEqual(to.code, 2, to.stderr)
    assert.include(to.stderr, "--to must be a week's Monday")
    const shape = await seedtest(["backfill", "compute-daily-kpis", "--from", "2026-3-2", "--to", "2026-03-09"])
    assert.strictEqual(shape.code, 2, shape.stderr)
    assert.include(shape.stderr, `"2026-3-2" is not a date; expected YYYY-MM-DD`)
    const runs = await seedtest(["runs", "--json"])
    assert.deepStrictEqual(JSON.parse(runs.stdout), [])
  })
})
