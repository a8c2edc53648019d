import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as path from "node:path"

const bin = path.resolve("bin/seedtest.mjs")

/** What a finished CLI command printed. */
export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const childEnv = (env: Record<string, string | undefined>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, TZ: "UTC", ...env })) if (v !== undefined) out[k] = v
  return out
}

/** Runs the real CLI in a child process, as a user would. */
export const seedtest = (args: ReadonlyArray<string>, env: Record<string, string | undefined>): Promise<Result> =>
  new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: childEnv(env), timeout: 300_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** A running `seedtest ui`: its URL, what it printed, and how to stop it. */
export interface RunningConsole {
  readonly url: string
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/** Starts `seedtest ui --port 0` and resolves once it prints the address it serves on. */
export const startConsole = (
  env: Record<string, string | undefined>,
  args: ReadonlyArray<string> = []
): Promise<RunningConsole> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [bin, "ui", "--port", "0", ...args], {
      env: childEnv(env),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done()
        child.once("exit", () => done())
        child.kill("SIGTERM")
      })
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`seedtest ui did not start in time:\n${output}`))
    }, 240_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /seedtest console on (http:\/\/[^\s]+)/.exec(output)
      if (match !== null) {
        clearTimeout(timer)
        resolve({ url: match[1]!, output: () => output, stop })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`seedtest ui exited with ${code}:\n${output}`))
    })
  })
