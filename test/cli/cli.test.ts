import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const bin = path.resolve("bin/seedtest.mjs")

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the real CLI as a user would, in a child process with its own data folder. */
const seedtest = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}): Promise<Result> =>
  new Promise((resolve) => {
    const childEnv: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v
    execFile(process.execPath, [bin, ...args], { env: childEnv, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }))
  })

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-cli-"))
const embedded = { SEEDTEST_DATA_DIR: dataDir, DATABASE_URL: undefined }
const SECRET = "pw-that-must-not-leak-7731"

describe("the seedtest command", () => {
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

  it("keeps run history in the embedded database and rejects an unknown run id", async () => {
    const history = await seedtest(["runs"], embedded)
    assert.strictEqual(history.code, 0, history.stderr)
    assert.include(history.stdout, "no runs yet")
    assert.isTrue(fs.existsSync(path.join(dataDir, "pgdata")))
    const missing = await seedtest(["runs", "show", "run_missing"], embedded)
    assert.strictEqual(missing.code, 2)
    assert.include(missing.stderr, `no run with id "run_missing"`)
  })

  it("refuses a second process on the same embedded data folder with a clear message", async () => {
    const lock = path.join(dataDir, "lock")
    // a live process (this test runner) holds the lock
    fs.writeFileSync(lock, String(process.pid))
    try {
      const r = await seedtest(["runs"], embedded)
      assert.strictEqual(r.code, 3)
      assert.include(r.stderr, "in use by another seedtest process")
    } finally {
      fs.rmSync(lock, { force: true })
    }
  })
})
