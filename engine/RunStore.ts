import * as os from "node:os"
import { SqlClient, SqlSchema } from "@effect/sql"
import { Duration, Effect, Option, Schema } from "effect"
import { CheckResult } from "./Check.ts"
import { Redactor } from "./Redactor.ts"

/** How a run was started. */
export const Trigger = Schema.Literal("manual", "schedule", "backfill", "library", "test")
export type Trigger = typeof Trigger.Type

/** One stage's entry in a run record. */
export class StageRecord extends Schema.Class<StageRecord>("StageRecord")({
  name: Schema.String,
  kind: Schema.Literal("source", "transform", "model", "sink"),
  /** `running` only while its run is going (the console shows it live); a finished run's stages never are. */
  status: Schema.Literal("succeeded", "failed", "not run", "running"),
  startedAt: Schema.NullOr(Schema.String),
  millis: Schema.NullOr(Schema.Number),
  rows: Schema.NullOr(Schema.Number),
  attempts: Schema.Number,
  notes: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  error: Schema.NullOr(Schema.String)
}) {}

/** What one sink wrote. */
export const SinkRecord = Schema.Struct({
  target: Schema.String,
  inserted: Schema.Number,
  updated: Schema.Number,
  deleted: Schema.Number
})

/** Why a run failed, as stored. */
export const RunErrorRecord = Schema.Struct({
  tag: Schema.String,
  reason: Schema.NullOr(Schema.String),
  stage: Schema.NullOr(Schema.String),
  message: Schema.String
})

/** A row of `pipeline_run`. */
export class RunRecord extends Schema.Class<RunRecord>("RunRecord")({
  id: Schema.String,
  pipeline: Schema.String,
  params: Schema.Record({ key: Schema.String, value: Schema.String }),
  trigger: Schema.String,
  slot: Schema.NullOr(Schema.String),
  status: Schema.Literal("running", "succeeded", "failed"),
  startedAt: Schema.DateFromSelf,
  finishedAt: Schema.NullOr(Schema.DateFromSelf),
  heartbeatAt: Schema.DateFromSelf,
  stages: Schema.Array(StageRecord),
  sinks: Schema.Array(SinkRecord),
  /** The data checks evaluated before the commit (also for a run that a failed check rolled back). */
  checks: Schema.Array(CheckResult),
  error: Schema.NullOr(RunErrorRecord)
}) {}

const RunRow = Schema.Struct({
  id: Schema.String,
  pipeline: Schema.String,
  params: Schema.Record({ key: Schema.String, value: Schema.String }),
  trigger: Schema.String,
  slot: Schema.NullOr(Schema.String),
  status: Schema.Literal("running", "succeeded", "failed"),
  started_at: Schema.DateFromSelf,
  finished_at: Schema.NullOr(Schema.DateFromSelf),
  heartbeat_at: Schema.DateFromSelf,
  stages: Schema.Array(StageRecord),
  sinks: Schema.Array(SinkRecord),
  checks: Schema.Array(CheckResult),
  error: Schema.NullOr(RunErrorRecord)
})

const toRecord = (row: typeof RunRow.Type): RunRecord =>
  new RunRecord({
    id: row.id,
    pipeline: row.pipeline,
    params: row.params,
    trigger: row.trigger,
    slot: row.slot,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    heartbeatAt: row.heartbeat_at,
    stages: row.stages,
    sinks: row.sinks,
    checks: row.checks,
    error: row.error
  })

/** What a run starts with. */
export interface RunStart {
  readonly id: string
  readonly pipeline: string
  readonly params: Readonly<Record<string, string>>
  readonly trigger: Trigger
  readonly slot?: string | undefined
}

/** What a run ends with. */
export interface RunFinish {
  readonly status: "succeeded" | "failed"
  readonly stages: ReadonlyArray<StageRecord>
  readonly sinks: ReadonlyArray<typeof SinkRecord.Type>
  readonly checks: ReadonlyArray<CheckResult>
  readonly error: typeof RunErrorRecord.Type | null
}

/**
 * How long a running run may go without a heartbeat before it counts as dead: the runner beats every 15 s, so
 * eight beats missed in a row, as the scheduler allows its slots.
 */
export const staleAfter = Duration.minutes(2)

/**
 * The run history in `pipeline_run`. Records are written outside the run's sink transaction, so a failed run is
 * still recorded as failed. Every text passes through the Redactor first. Building it finishes, as failed, the runs
 * whose process died (no heartbeat for `staleAfter`), so a killed manual run never stays `running`.
 */
export class RunStore extends Effect.Service<RunStore>()("@seedtest/engine/RunStore", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const columns = sql`id, pipeline, params, trigger, slot, status, started_at, finished_at, heartbeat_at, stages, sinks,
                        checks, error`

    const findMany = SqlSchema.findAll({
      Request: Schema.Struct({ limit: Schema.Number, pipeline: Schema.NullOr(Schema.String) }),
      Result: RunRow,
      execute: ({ limit, pipeline }) =>
        sql`SELECT ${columns} FROM pipeline_run
            WHERE ${pipeline === null ? sql`true` : sql`pipeline = ${pipeline}`}
            ORDER BY started_at DESC, id DESC LIMIT ${limit}`
    })
    const findOne = SqlSchema.findOne({
      Request: Schema.String,
      Result: RunRow,
      execute: (id) => sql`SELECT ${columns} FROM pipeline_run WHERE id = ${id}`
    })

    const json = (value: unknown) => JSON.stringify(value)

    /**
     * Fails the running runs whose heartbeat stopped before `staleAfter` ago (by the database's clock, which also
     * stamps the heartbeats). Runs that fill a scheduler slot are left to the scheduler, which fails the slot with its
     * run and retries it.
     */
    const failStale = Effect.fn("RunStore.failStale")(function* (after: Duration.DurationInput = staleAfter) {
      const rows = yield* sql<{ id: string }>`
        UPDATE pipeline_run
        SET status = 'failed', finished_at = now(),
            error = jsonb_build_object('tag', 'ProcessDied', 'reason', NULL, 'stage', NULL, 'message',
              'the process running it (' || coalesce(host, '?') || ') stopped sending heartbeats at '
                || to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                || '; it died before recording how the run ended')
        WHERE status = 'running' AND slot IS NULL
          AND heartbeat_at < now() - make_interval(secs => ${Duration.toSeconds(after)})
        RETURNING id`
      return rows.map((r) => r.id)
    })

    // every process that opens the run history cleans up after the dead ones; one that cannot is not stopped by it
    const reaped = yield* failStale().pipe(
      Effect.catchAll((e) =>
        Effect.as(Effect.logWarning(`could not finish the runs of dead processes: ${e.message}`), [])
      )
    )
    if (reaped.length > 0)
      yield* Effect.logWarning(`marked ${reaped.length} run(s) of dead processes as failed: ${reaped.join(", ")}`)

    return {
      failStale,
      /** Records a run as running. */
      start: Effect.fn("RunStore.start")(function* (run: RunStart) {
        const redactor = yield* Redactor
        yield* sql`INSERT INTO pipeline_run (id, pipeline, params, trigger, slot, status, host)
                   VALUES (${run.id}, ${run.pipeline}, ${redactor.scrub(json(run.params))}::jsonb, ${run.trigger},
                           ${run.slot ?? null}, 'running', ${hostName()})`
      }),
      /** Says the run's process is alive (the scheduler fails runs whose heartbeat stopped). */
      heartbeat: Effect.fn("RunStore.heartbeat")(function* (id: string) {
        yield* sql`UPDATE pipeline_run SET heartbeat_at = now() WHERE id = ${id} AND status = 'running'`
      }),
      /** The stages of a running run as they are now (started, finished, rows), so a run can be watched live. */
      progress: Effect.fn("RunStore.progress")(function* (id: string, stages: ReadonlyArray<StageRecord>) {
        const redactor = yield* Redactor
        const scrubbed = stages.map((s) => ({ ...s, error: s.error === null ? null : redactor.scrub(s.error) }))
        yield* sql`UPDATE pipeline_run SET stages = ${redactor.scrub(json(scrubbed))}::jsonb, heartbeat_at = now()
                   WHERE id = ${id} AND status = 'running'`
      }),
      /** Records how a run ended. */
      finish: Effect.fn("RunStore.finish")(function* (id: string, finish: RunFinish) {
        const redactor = yield* Redactor
        const stages = finish.stages.map((s) => ({ ...s, error: s.error === null ? null : redactor.scrub(s.error) }))
        const error = finish.error === null ? null : { ...finish.error, message: redactor.scrub(finish.error.message) }
        yield* sql`UPDATE pipeline_run
                   SET status = ${finish.status}, finished_at = now(), heartbeat_at = now(),
                       stages = ${redactor.scrub(json(stages))}::jsonb, sinks = ${json(finish.sinks)}::jsonb,
                       checks = ${redactor.scrub(json(finish.checks))}::jsonb,
                       error = ${error === null ? null : json(error)}::jsonb
                   WHERE id = ${id}`
      }),
      /** The newest runs first. */
      list: Effect.fn("RunStore.list")(function* (options: {
        readonly limit: number
        readonly pipeline?: string | undefined
      }) {
        const rows = yield* findMany({ limit: options.limit, pipeline: options.pipeline ?? null }).pipe(
          Effect.catchTag("ParseError", Effect.die)
        )
        return rows.map(toRecord)
      }),
      /** Whether a run of `pipeline` with parameter `param` = `value` has succeeded (backfill skips those). */
      succeededWith: Effect.fn("RunStore.succeededWith")(function* (pipeline: string, param: string, value: string) {
        const rows = yield* sql<{ id: string }>`
          SELECT id FROM pipeline_run
          WHERE pipeline = ${pipeline} AND status = 'succeeded' AND params ->> ${param} = ${value}
          ORDER BY started_at DESC LIMIT 1`
        return Option.fromNullable(rows[0]?.id)
      }),
      /** One run by id. */
      get: Effect.fn("RunStore.get")(function* (id: string) {
        const row = yield* findOne(id).pipe(Effect.catchTag("ParseError", Effect.die))
        return Option.map(row, toRecord)
      })
    }
  })
}) {}

const hostName = (): string => `${os.hostname()}:${process.pid}`
