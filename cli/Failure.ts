import * as ValidationError from "@effect/cli/ValidationError"
import { MigrationError } from "@effect/sql/Migrator"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, ConfigError, Option } from "effect"
import { CohortError } from "../cohort/Loader.ts"
import { ScheduleFileError } from "../config/schedule.ts"
import { ConsoleRefused } from "../console/ConsoleRefused.ts"
import { CheckFailed, describe, ParamError, StageFailed, UnknownPipeline } from "../engine/Errors.ts"
import { EmbeddedDatabaseError } from "../sources/Database.ts"
import { UsageError } from "./commands/backfill.ts"
import { UnknownRun } from "./commands/runs.ts"

/** Exit codes: distinct for a user's mistake, a failed run, and an environment that is not there. */
export const ExitCode = { ok: 0, runFailed: 1, userError: 2, environment: 3 } as const

interface Explained {
  readonly code: number
  readonly message: string
  readonly hint: string | undefined
}

/** One clear sentence, what to do about it, and the exit code, for whatever a command failed with. */
export const explain = (cause: Cause.Cause<unknown>): Explained | undefined => {
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) {
    if (Cause.isInterruptedOnly(cause)) {
      return { code: 130, message: "interrupted; nothing was committed by an unfinished run", hint: undefined }
    }
    return {
      code: ExitCode.runFailed,
      message: `internal error: ${describe(Cause.squash(cause))}`,
      hint: "This is a bug; please report it with the command you ran."
    }
  }
  const error = failure.value
  if (ValidationError.isValidationError(error)) return undefined // @effect/cli already printed it with the usage
  const message = describe(error)
  const explained = (code: number, hint?: string, text: string = message): Explained => ({ code, message: text, hint })
  if (error instanceof UnknownPipeline) return explained(ExitCode.userError, "Run `seedtest list` to see them.")
  if (error instanceof ParamError) {
    return explained(ExitCode.userError, "Run `seedtest plan <pipeline>` to see its parameters and defaults.")
  }
  if (error instanceof UnknownRun) return explained(ExitCode.userError, "Run `seedtest runs` to see recent run ids.")
  if (error instanceof CohortError || error instanceof UsageError || error instanceof ConsoleRefused) {
    return explained(ExitCode.userError)
  }
  if (error instanceof ScheduleFileError) {
    return explained(ExitCode.userError, "Fix the entry named, or point SEEDTEST_SCHEDULE_FILE at another file.")
  }
  if (error instanceof CheckFailed) {
    // the data the run computed broke a declared rule: a data error, like a bad argument, not a crash
    return explained(
      ExitCode.userError,
      "Nothing was written. `seedtest runs show <id>` lists every check with sample rows."
    )
  }
  if (error instanceof StageFailed) {
    // the database went away during the commit: the environment failed, not the run's data or code
    if (error.reason === "DatabaseLost") {
      return explained(
        ExitCode.environment,
        "Nothing was written: PostgreSQL discards a transaction whose connection breaks before its COMMIT completes. " +
          "Check that the database is up (DATABASE_URL, or the embedded database's folder) and run again.",
        `the database connection was lost during the commit: ${message}`
      )
    }
    return explained(ExitCode.runFailed, "Nothing was written. `seedtest runs show <id>` has the stage timings.")
  }
  if (error instanceof SqlError) {
    return explained(
      ExitCode.environment,
      "Check DATABASE_URL (or unset it to use the embedded database).",
      `the database is not reachable or refused a statement: ${message}`
    )
  }
  if (error instanceof MigrationError) {
    return explained(ExitCode.environment, undefined, `database migration failed, nothing was applied: ${message}`)
  }
  if (error instanceof EmbeddedDatabaseError) return explained(ExitCode.environment)
  if (ConfigError.isConfigError(error)) {
    // an environment variable the deployment sets, not an argument of this command
    // its message lacks the variable's name; its string form has it ("Invalid data at R_FORECAST_URL: …")
    return explained(
      ExitCode.environment,
      "Fix the environment variable named; the settings are in README.md.",
      `a setting is invalid: ${String(error)}`
    )
  }
  return explained(ExitCode.runFailed)
}
