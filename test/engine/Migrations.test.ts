import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as Migrations from "../../db/Migrations.ts"
import { databases } from "../support/TestDatabase.ts"

const tableExists = (name: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ present: boolean }>`SELECT to_regclass(${name}) IS NOT NULL AS present`.pipe(
      Effect.map((rows) => rows[0]!.present)
    )
  )

for (const [name, db] of databases) {
  layer(db, { timeout: Duration.minutes(2) })(`migrations on the ${name} database`, (it) => {
    it.effect("are applied on start and idempotent", () =>
      Effect.gen(function* () {
        assert.isTrue(yield* tableExists("pipeline_run"))
        const again = yield* Migrations.run
        assert.deepStrictEqual(again, [])
      })
    )

    it.effect("a migration that fails half-way applies nothing", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const broken = Migrations.apply(
          {
            "0001_first": Effect.asVoid(sql`CREATE TABLE half_way_a (id int)`),
            "0002_second": Effect.gen(function* () {
              yield* sql`CREATE TABLE half_way_b (id int)`
              yield* sql`SELECT no_such_column FROM half_way_b`
            })
          },
          "broken_migrations"
        )
        const error = yield* Effect.flip(broken)
        assert.strictEqual(error._tag, "MigrationError")
        assert.isFalse(yield* tableExists("half_way_a"))
        assert.isFalse(yield* tableExists("half_way_b"))
      })
    )
  })
}
