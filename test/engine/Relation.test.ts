import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import { Duration, Effect, Schema } from "effect"
import * as Relation from "../../engine/Relation.ts"
import * as TableWriter from "../../sinks/TableWriter.ts"
import { databases } from "../support/TestDatabase.ts"

interface Probe extends Record<string, unknown> {
  readonly id: string
  readonly value: number
  readonly doc: Record<string, unknown>
}

const ProbeRow = Schema.Struct({
  id: Schema.String,
  value: Schema.Number,
  doc: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})

const probes = TableWriter.upsert<Probe>({
  table: "relation_probe",
  key: ["id"],
  columns: { id: "text", value: "float8", doc: "jsonb" },
  merge: ["doc"],
  sampleSize: 20
})

const logged = TableWriter.append<Probe>({
  table: "relation_probe_log",
  columns: { id: "text", value: "float8", doc: "jsonb" },
  sampleSize: 20
})

const setup = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS relation_probe (id text PRIMARY KEY, value float8 NOT NULL, doc jsonb NOT NULL)`
  yield* sql`
    CREATE TABLE IF NOT EXISTS relation_probe_log (id text NOT NULL, value float8 NOT NULL, doc jsonb NOT NULL)`
  yield* sql`TRUNCATE relation_probe, relation_probe_log`
})

// twelve rows, each from its own fragment with three parameters of its own: 36 parameters in all, composed by
// interpolation (a scheme that renumbers `$n` by one digit, as ReportInputsQuery once did, maps `$10` onto `$1`)
const PIECES = 12
const expected = Array.from({ length: PIECES }, (_, i) => ({
  id: `probe-${String(i + 1).padStart(2, "0")}`,
  value: (i + 1) * 1.5,
  doc: { label: `p${i + 1}` }
}))

const twelveParts = Effect.map(SqlClient.SqlClient, (sql) =>
  Relation.make({
    query: sql.join(
      " UNION ALL ",
      false
    )(
      expected.map(
        (e) =>
          sql`SELECT ${e.id}::text AS id, ${e.value}::float8 AS value,
                   jsonb_build_object('label', ${e.doc.label}::text) AS doc`
      )
    ),
    row: ProbeRow,
    settings: { jit: "off" }
  })
)

const byId = <A extends { readonly id: string }>(rows: ReadonlyArray<A>) =>
  [...rows].sort((a, b) => a.id.localeCompare(b.id))

describe("Relation.generated", () => {
  it("refuses text with a parameter placeholder: nothing would renumber it when composed", () => {
    assert.throws(() => Relation.generated("SELECT 1 WHERE x = $1"), /placeholders/)
    assert.strictEqual(Relation.generated(`"relation_probe"`).segments.length, 1)
  })
})

for (const [name, db] of databases) {
  layer(db, { timeout: Duration.minutes(2) })(`Relation on the ${name} database`, (it) => {
    it.effect("a relation composed of fragments with more than nine parameters reads each in its place", () =>
      Effect.gen(function* () {
        yield* setup
        const relation = yield* twelveParts
        const rows = yield* Relation.select(relation)
        assert.deepStrictEqual(byId(yield* Schema.decodeUnknown(Schema.Array(ProbeRow))(rows)), expected)
        // EXPLAIN of the composed statement: the planner sees the twelve branches
        assert.strictEqual(yield* Relation.plannedRows(relation), PIECES)
      })
    )

    it.effect("a writer nests a many-parameter relation in its own statements (upsert, append, previews)", () =>
      Effect.gen(function* () {
        yield* setup
        const sql = yield* SqlClient.SqlClient
        const relation = yield* twelveParts
        const context = { runId: "run-1", pipeline: "relation-probe" }
        // one row stored already with a key the relation does not name: the merge keeps it
        yield* sql`INSERT INTO relation_probe VALUES ('probe-01', 0, '{"kept": true}')`
        const preview = yield* probes.previewRelation(relation, context)
        assert.deepStrictEqual(
          [preview.rows, preview.inserts, preview.updates, preview.unchanged],
          [PIECES, PIECES - 1, 1, 0]
        )
        assert.deepStrictEqual(byId(preview.sample as ReadonlyArray<Probe>), expected)
        const written = yield* sql.withTransaction(probes.writeRelation(relation, context))
        assert.deepStrictEqual([written.inserted, written.updated], [PIECES - 1, 1])
        const stored = yield* sql<Probe>`SELECT id, value, doc FROM relation_probe ORDER BY id`
        assert.deepStrictEqual(stored, [{ ...expected[0]!, doc: { kept: true, label: "p1" } }, ...expected.slice(1)])

        const appendPreview = yield* logged.previewRelation(relation, context)
        assert.deepStrictEqual([appendPreview.rows, appendPreview.inserts], [PIECES, PIECES])
        assert.deepStrictEqual(byId(appendPreview.sample as ReadonlyArray<Probe>), expected)
        const appended = yield* sql.withTransaction(logged.writeRelation(relation, context))
        assert.strictEqual(appended.inserted, PIECES)
        assert.deepStrictEqual(yield* sql<Probe>`SELECT id, value, doc FROM relation_probe_log ORDER BY id`, expected)
      })
    )
  })
}
