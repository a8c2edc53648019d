import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { bin, build, childEnv } from "./bundle.ts"

build()

interface JsonLine {
  readonly message: unknown
  readonly logLevel: string
  readonly timestamp: string
  readonly annotations: Record<string, unknown>
}

/** Starts `seedtest scheduler --verbose` on an empty schedule, stops it with SIGTERM once idle; its stderr and exit. */
const daemonOnce = (env: Record<string, string | undefined>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-daemon-logs-"))
  const file = path.join(dir, "schedule.json")
  const off = { pipeline: "compute-daily-kpis", cron: "10 2 * * *", enabled: false }
  fs.writeFileSync(file, JSON.stringify({ schedules: [off] }))
  const daemon = spawn(process.execPath, [bin, "scheduler", "--verbose", "--owner", "replica-7"], {
    env: childEnv({ SEEDTEST_DATA_DIR: dir, SEEDTEST_SCHEDULE_FILE: file, DATABASE_URL: undefined, ...env }),
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    daemon.stderr.on("data", (chunk) => {
      stderr += String(chunk)
      if (stderr.includes("idle until") && !daemon.killed) daemon.kill("SIGTERM")
    })
    daemon.on("exit", (code) => resolve({ code, stderr }))
    setTimeout(() => daemon.kill("SIGKILL"), 240_000)
  })
}

describe("the scheduler's log", { timeout: 300_000 }, () => {
  it("with LOG_FORMAT=json is one JSON object per line, with the level and the decision's fields", async () => {
    const { code, stderr } = await daemonOnce({ LOG_FORMAT: "json" })
    assert.strictEqual(code, 0, stderr)
    const lines = stderr.split("\n").filter((line) => line.trim() !== "")
    const entries = lines.map((line) => {
      try {
        return JSON.parse(line) as JsonLine
      } catch {
        return assert.fail(`not a JSON line: ${line}`)
      }
    })
    const started = entries.find((e) => e.annotations["event"] === "Started")
    assert.strictEqual(started?.message, "scheduler replica-7 started: 0 scheduled pipelines")
    assert.strictEqual(started?.logLevel, "INFO")
    assert.isFalse(Number.isNaN(Date.parse(started?.timestamp ?? "")))
    // --verbose shows the idle periods, which are debug lines
    const idle = entries.find((e) => e.annotations["event"] === "Idle")
    assert.strictEqual(idle?.logLevel, "DEBUG")
    assert.match(String(idle?.message), /^idle until \d{4}-\d{2}-\d{2}T/)
    const stopping = entries.find((e) => e.annotations["event"] === "Stopping")
    assert.strictEqual(stopping?.message, "stopping: no run in progress")
  })

  it("without it is human-readable, the same sentences", async () => {
    const { code, stderr } = await daemonOnce({ LOG_FORMAT: undefined })
    assert.strictEqual(code, 0, stderr)
    assert.include(stderr, "scheduler replica-7 started: 0 scheduled pipelines")
    assert.include(stderr, "stopping: no run in progress")
    assert.isFalse(
      stderr.split("\n").some((line) => line.trim().startsWith("{")),
      stderr
    )
  })
})
