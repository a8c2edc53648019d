import { execFile } from "node:child_process"
import { Effect } from "effect"

/** What a finished child process said: its exit code (1 when it could not start or was killed), stdout, stderr. */
export interface Finished {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a program to its end (never fails: the exit code is in the result, for the test to assert on). */
export const exec = (
  file: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}
) =>
  Effect.async<Finished>((resume) => {
    execFile(
      file,
      args,
      {
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.env === undefined ? {} : { env: options.env })
      },
      (error, stdout, stderr) => {
        if (error === null) return resume(Effect.succeed({ code: 0, stdout, stderr }))
        // killed (the timeout) or not started: say so where the test's assertion message shows stderr
        const why = error.killed ? `\n[killed by ${error.signal ?? "a signal"}: timeout]` : ""
        resume(Effect.succeed({ code: typeof error.code === "number" ? error.code : 1, stdout, stderr: stderr + why }))
      }
    )
  })
