import * as ValidationError from "@effect/cli/ValidationError"
import { Cause, Option } from "effect"
import { describe } from "../engine/Errors.ts"

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
    if (Cause.isInterruptedOnly(cause)) return { code: 130, message: "interrupted; nothing was committed by an unfinished run", hint: undefined }
    return { code: ExitCode.runFailed, message: `internal error: ${describe(Cause.squash(cause))}`, hint: "This is a bug; please report it with the command you ran." }
  }
  const error = failure.value
  if (ValidationError.isValidationError(error)) return undefined // @effect/cli already printed it with the usage
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : ""
  const message = describe(error)
  switch (tag) {
    case "UnknownPipeline":
      return { code: ExitCode.userError, message, hint: "Run `seedtest list` to see them." }
    case "ParamError":
      return { code: ExitCode.userError, message, hint: "Run `seedtest plan <pipeline>` to see its parameters and defaults." }
    case "UnknownRun":
      return { code: ExitCode.userError, message, hint: "Run `seedtest runs` to see recent run ids." }
    case "CohortError":
      return { code: ExitCode.userError, message, hint: undefined }
    case "ScheduleFileError":
      return { code: ExitCode.userError, message, hint: "Fix the entry named, or point SEEDTEST_SCHEDULE_FILE at another file." }
    case "UsageError":
    case "ConsoleRefused":
      return { code: ExitCode.userError, message, hint: undefined }
    case "StageFailed":
      // the database went away during the commit: the environment failed, not the run's data or code
      if ((error as { reason?: unknown }).reason === "DatabaseLost") {
        return {
          code: ExitCode.environment,
          message: `the database connection was lost during the commit: ${message}`,
          hint: "Nothing was written: PostgreSQL discards a transaction whose connection breaks before its COMMIT completes. Check that the database is up (DATABASE_URL, or the embedded database's folder) and run again."
        }
      }
      return { code: ExitCode.runFailed, message, hint: "Nothing was written. `seedtest runs show <id>` has the stage timings." }
    case "SqlError":
      return {
        code: ExitCode.environment,
        message: `the database is not reachable or refused a statement: ${message}`,
        hint: "Check DATABASE_URL (or unset it to use the embedded database)."
      }
    case "MigrationError":
      return { code: ExitCode.environment, message: `database migration failed, nothing was applied: ${message}`, hint: undefined }
    case "EmbeddedDatabaseError":
      return { code: ExitCode.environment, message, hint: undefined }
    case "ConfigError":
      // an environment variable the deployment sets, not an argument of this command
      // its message lacks the variable's name; its string form has it ("Invalid data at R_FORECAST_URL: …")
      return { code: ExitCode.environment, message: `a setting is invalid: ${String(error)}`, hint: "Fix the environment variable named; the settings are in README.md." }
    default:
      return { code: ExitCode.runFailed, message, hint: undefined }
  }
}
