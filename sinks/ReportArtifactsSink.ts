import * as fs from "node:fs/promises"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect } from "effect"
import * as Resource from "../engine/Resource.ts"
import type { SinkWriteResult, SinkWriter } from "../engine/Sink.ts"
import { fileStep } from "./ReportFileError.ts"
import * as TableWriter from "./TableWriter.ts"

/** One row of `report_artifacts`. */
export interface ReportArtifactRow extends Record<string, unknown> {
  readonly user_id: string
  readonly week_start: string
  readonly format: "html" | "pdf"
  readonly url: string
  readonly generated_at: string
}

/** A report file rendered into the run's staging folder, to be moved to `destination` when the run commits. */
export interface StagedReport extends ReportArtifactRow {
  /** The run's staging folder (every row of a run names the same one). */
  readonly staging: string
  /** The week's folder the staging folder becomes. */
  readonly destination: string
}

const artifacts = TableWriter.upsert<ReportArtifactRow>({
  table: "report_artifacts",
  key: ["user_id", "week_start", "format"],
  columns: { user_id: "text", week_start: "date", format: "text", url: "text", generated_at: "timestamptz" },
  writes: Resource.many("report_artifacts")
})

const toArtifact = ({ destination: _d, staging: _s, ...row }: StagedReport): ReportArtifactRow => row

interface Moved {
  readonly destination: string
  /** Where the week's previous reports were put aside (restored if the commit fails). */
  readonly previous: string | undefined
}

const exists = (p: string) =>
  Effect.promise(() =>
    fs.stat(p).then(
      () => true,
      () => false
    )
  )

/** Moves the staging folder into place, putting the week's previous folder aside (same file system: renames). */
const publish = (staging: string, destination: string, runId: string) =>
  Effect.gen(function* () {
    const previous = (yield* exists(destination)) ? `${destination}.previous-${runId}` : undefined
    if (previous !== undefined) yield* fileStep("Move", destination, () => fs.rename(destination, previous))
    yield* fileStep("Move", staging, () => fs.rename(staging, destination)).pipe(
      Effect.tapError(() =>
        previous === undefined
          ? Effect.void
          : fileStep("Move", previous, () => fs.rename(previous, destination)).pipe(Effect.ignore)
      )
    )
    return { destination, previous } satisfies Moved
  }).pipe(Effect.withSpan("ReportArtifactsSink.publish"))

/** Undoes `publish`: the new folder is removed and the previous one (if any) is back. */
const unpublish = (moved: Moved) =>
  Effect.gen(function* () {
    yield* fileStep("Remove", moved.destination, () => fs.rm(moved.destination, { recursive: true, force: true }))
    const previous = moved.previous
    if (previous !== undefined) yield* fileStep("Move", previous, () => fs.rename(previous, moved.destination))
  }).pipe(Effect.withSpan("ReportArtifactsSink.unpublish"))

/**
 * After the run's transaction ends, keeps or undoes the move: committed → the previous folder is deleted; rolled
 * back (the commit failed) → the moved folder is removed and the previous one restored. The writer cannot observe the
 * commit (it runs inside the transaction), so a daemon fiber asks PostgreSQL for the transaction's status
 * (`txid_status`) on a connection outside it until it is no longer in progress.
 */
const settle = (txid: string, moved: Moved) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const query = sql<{ status: string | null }>`SELECT txid_status(${txid}::bigint)::text AS status`.pipe(
      Effect.map((rows) => rows[0]?.status ?? null)
    )
    // an hour at most: a transaction still open after that is someone else's problem, and the files stay
    let status = yield* query
    for (let polls = 0; status === "in progress" && polls < 36_000; polls++) {
      yield* Effect.sleep(Duration.millis(100))
      status = yield* query
    }
    if (status === "aborted") {
      yield* unpublish(moved)
      yield* Effect.logWarning(
        `the run's transaction did not commit: removed ${moved.destination}${moved.previous === undefined ? "" : " and restored the previous reports"}`
      )
    } else if (moved.previous !== undefined) {
      const previous = moved.previous
      yield* fileStep("Remove", previous, () => fs.rm(previous, { recursive: true, force: true }))
    }
  }).pipe(
    Effect.catchAll((e) =>
      Effect.logWarning(`report folder ${moved.destination}: could not settle after the commit: ${e.message}`)
    ),
    Effect.withSpan("ReportArtifactsSink.settle")
  )

// the settle fiber must not use the run's transaction connection (it waits for that transaction to end)
const outsideTransaction = (context: Context.Context<SqlClient.SqlClient>): Context.Context<SqlClient.SqlClient> =>
  Context.omit(SqlClient.TransactionConnection)(context) as Context.Context<SqlClient.SqlClient>

// the sink interface speaks SqlError; a file move that fails aborts the transaction the same way
const asSqlError = (e: { readonly message: string; readonly cause: unknown }) =>
  new SqlError({ cause: e.cause, message: e.message })

/**
 * Writes `report_artifacts` (upsert on user, week, format) and publishes the report files of the run: the folder
 * rendered into staging is moved into place inside the run's transaction, just before its commit, and moved back if
 * the upsert or the commit fails. Nothing partial is ever visible under the week's folder.
 */
export const ReportArtifactsSink: SinkWriter<StagedReport, SqlClient.SqlClient> = {
  target: "report_artifacts + report files",
  writes: Resource.many("report_artifacts", "report_files"),
  write: (rows, context) =>
    Effect.gen(function* () {
      const first = rows[0]
      if (first === undefined)
        return { target: ReportArtifactsSink.target, inserted: 0, updated: 0, deleted: 0 } satisfies SinkWriteResult
      const sql = yield* SqlClient.SqlClient
      const moved = yield* publish(first.staging, first.destination, context.runId).pipe(Effect.mapError(asSqlError))
      const written = yield* artifacts.write(rows.map(toArtifact), context).pipe(
        Effect.zipLeft(
          Effect.gen(function* () {
            const [tx] = yield* sql<{ txid: string }>`SELECT txid_current()::text AS txid`
            yield* Effect.forkDaemon(settle(tx!.txid, moved).pipe(Effect.mapInputContext(outsideTransaction)))
          })
        ),
        Effect.tapError(() => unpublish(moved).pipe(Effect.ignore))
      )
      return { ...written, target: ReportArtifactsSink.target }
    }).pipe(Effect.withSpan("ReportArtifactsSink.write", { attributes: { rows: rows.length } })),
  preview: (rows, context) =>
    Effect.map(artifacts.preview(rows.map(toArtifact), context), (p) => ({ ...p, target: ReportArtifactsSink.target }))
}
