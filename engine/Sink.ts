import type { SqlError } from "@effect/sql/SqlError"
import type { Effect } from "effect"
import type { Relation } from "./Relation.ts"
import type { Resource } from "./Resource.ts"

/** What the run that calls a writer is: writers stamp run ids into meta tables. */
export interface WriteContext {
  readonly runId: string
  readonly pipeline: string
}

/** What one sink wrote, inside the run's single transaction. */
export interface SinkWriteResult {
  readonly target: string
  readonly inserted: number
  readonly updated: number
  readonly deleted: number
}

/** One row that a dry run would change, with the stored value and the value it would write. */
export interface SinkChange {
  readonly key: Readonly<Record<string, unknown>>
  readonly before: unknown
  readonly after: unknown
}

/** What a sink would do, computed by a dry run without writing. */
export interface SinkPreview {
  readonly target: string
  readonly rows: number
  readonly inserts: number
  readonly updates: number
  readonly unchanged: number
  readonly deletes: number
  readonly sample: ReadonlyArray<unknown>
  readonly changes: ReadonlyArray<SinkChange>
}

/**
 * A typed writer of rows. `write` runs inside the run's one transaction (the runner opens it); `preview` reads what is
 * stored and reports what `write` would change, for dry runs. `R` is what it needs (usually `SqlClient`).
 */
export interface SinkWriter<in Row, R = never> {
  readonly target: string
  readonly writes: ReadonlyArray<Resource>
  readonly write: (rows: ReadonlyArray<Row>, context: WriteContext) => Effect.Effect<SinkWriteResult, SqlError, R>
  readonly preview: (rows: ReadonlyArray<Row>, context: WriteContext) => Effect.Effect<SinkPreview, SqlError, R>
}

/**
 * A writer that also takes a relation: rows computed by the database and written by it (`INSERT … SELECT`) without
 * passing through Node. `writeRelation` runs inside the run's transaction like `write`; `previewRelation` runs the
 * relation once against what is stored and reports what `writeRelation` would change.
 */
export interface RelationWriter<Row, R = never> extends SinkWriter<Row, R> {
  readonly writeRelation: (
    relation: Relation<Row>,
    context: WriteContext
  ) => Effect.Effect<SinkWriteResult, SqlError, R>
  readonly previewRelation: (relation: Relation<Row>, context: WriteContext) => Effect.Effect<SinkPreview, SqlError, R>
}

/** Whether a writer takes relations. */
export const writesRelations = <Row, R>(writer: SinkWriter<Row, R>): writer is RelationWriter<Row, R> =>
  "writeRelation" in writer && "previewRelation" in writer
