import { Data, Effect } from "effect"

/** A report file could not be written, moved or removed. */
export class ReportFileError extends Data.TaggedError("ReportFileError")<{
  readonly reason: "Write" | "Move" | "Remove"
  readonly path: string
  readonly cause: unknown
}> {
  override get message(): string {
    const cause = (this.cause as Error | undefined)?.message ?? this.cause
    return `Report file ${this.reason.toLowerCase()} failed for ${this.path}: ${String(cause)}`
  }
}

/** A file system step, as an Effect failing with ReportFileError. */
export const fileStep = <A>(reason: ReportFileError["reason"], target: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new ReportFileError({ reason, path: target, cause }) })
