import { execFile, execFileSync } from "node:child_process"
import * as path from "node:path"

/** The launcher users run; with SEEDTEST_CLI=bundle it runs the esbuild bundle and never falls back to the sources. */
export const bin = path.resolve("bin/seedtest.mjs")

/** Builds the bundle from the sources as they are now (a suite calls it once, before its tests). */
export const build = () => execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" })

/** What a finished command left. */
export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * The environment of a CLI child process: this one's, the bundle forced, `env` on top; a variable set to undefined is
 * removed (e.g. DATABASE_URL, for the embedded database).
 */
export const childEnv = (env: Record<string, string | undefined>): Record<string, string> => {
  const result: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, SEEDTEST_CLI: "bundle", ...env })) {
    if (v !== undefined) result[k] = v
  }
  return result
}

/** Runs the CLI bundle in a child process, as a user would. */
export const seedtest = (args: ReadonlyArray<string>, env: Record<string, string | undefined>, timeout = 240_000) =>
  new Promise<Result>((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: childEnv(env), timeout }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })
