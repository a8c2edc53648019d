import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { build, seedtest } from "./bundle.ts"

// what users run: the bundle, built from these sources now
build()

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-dates-"))
const env = { SEEDTEST_DATA_DIR: dataDir, DATABASE_URL: undefined, SEEDTEST_AS_OF: undefined }

describe("dates on the command line", { timeout: 300_000 }, () => {
  it("a run as of a day the month does not have is a user error (exit 2), and nothing is recorded", async () => {
    const r = await seedtest(["run", "compute-daily-kpis", "--param", "asOf=2026-02-31"], env)
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, `Parameter "asOf" of pipeline "compute-daily-kpis" is invalid`)
    assert.include(r.stderr, "February 2026 has 28 days")
    const dry = await seedtest(["run", "compute-daily-kpis", "--dry-run", "--param", "asOf=2026-04-31"], env)
    assert.strictEqual(dry.code, 2, dry.stderr)
    assert.include(dry.stderr, "April 2026 has 30 days")
    const runs = await seedtest(["runs", "--json"], env)
    assert.strictEqual(runs.code, 0, runs.stderr)
    assert.deepStrictEqual(JSON.parse(runs.stdout), [])
  })

  it("a backfill from a day the month does not have is a user error (exit 2), not the Monday after", async () => {
    // 2026-02-30 would roll over to 2026-03-02, a Monday
    const from = await seedtest(["backfill", "compute-daily-kpis", "--from", "2026-02-30", "--to", "2026-03-09"], env)
    assert.strictEqual(from.code, 2, from.stderr)
    assert.include(from.stderr, "--from must be a week's Monday as YYYY-MM-DD")
    assert.include(from.stderr, "February 2026 has 28 days")
    assert.notInclude(from.stderr, "week 2026-03-02")
    const to = await seedtest(["backfill", "compute-daily-kpis", "--from", "2026-03-02", "--to", "2026-02-30"], env)
    assert.strictEqual(to.code, 2, to.stderr)
    assert.include(to.stderr, "--to must be a week's Monday")
    const shape = await seedtest(["backfill", "compute-daily-kpis", "--from", "2026-3-2", "--to", "2026-03-09"], env)
    assert.strictEqual(shape.code, 2, shape.stderr)
    assert.include(shape.stderr, `"2026-3-2" is not a date; expected YYYY-MM-DD`)
    const runs = await seedtest(["runs", "--json"], env)
    assert.deepStrictEqual(JSON.parse(runs.stdout), [])
  })
})
