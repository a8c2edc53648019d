import type { SqlClient } from "@effect/sql/SqlClient"
import { PgClient } from "@effect/sql-pg"
import { Config, Context, Effect, Layer, Redacted } from "effect"
import * as Database from "../../sources/Database.ts"

/** An in-memory embedded database served through pglite-socket: the CLI's default path, minus the folder. */
export const embedded: Layer.Layer<PgClient.PgClient | SqlClient, unknown> = Database.migrated(
  Database.layerEmbedded(undefined)
)

const adminUrl = Config.redacted("TEST_DATABASE_URL").pipe(
  Effect.mapError(
    () =>
      new Error(
        'TEST_DATABASE_URL is not set: the suite runs against a real PostgreSQL too. Start one with `eval "$(scripts/start-postgres)"` (scripts/test does this for you).'
      )
  )
)

/** The URL of the fresh PostgreSQL database a `postgres` layer made, for tests that open more connection pools to it. */
export class TestDatabaseUrl extends Context.Tag("test/TestDatabaseUrl")<
  TestDatabaseUrl,
  Redacted.Redacted<string>
>() {}

/**
 * A fresh database on the real PostgreSQL server of TEST_DATABASE_URL, created for this layer and dropped after it,
 * so suites never see each other's rows.
 */
export const postgres: Layer.Layer<PgClient.PgClient | SqlClient | TestDatabaseUrl, unknown> = Layer.unwrapScoped(
  Effect.gen(function* () {
    const url = yield* adminUrl
    const name = `seedtest_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
    const admin = Context.get(yield* Layer.build(Database.layerUrl(url)), PgClient.PgClient)
    yield* Effect.acquireRelease(admin.unsafe(`CREATE DATABASE ${name}`), () =>
      admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore)
    )
    const target = new URL(Redacted.value(url))
    target.pathname = `/${name}`
    const fresh = Redacted.make(target.toString())
    return Layer.merge(Database.migrated(Database.layerUrl(fresh)), Layer.succeed(TestDatabaseUrl, fresh))
  })
)

/** Both databases the suites run on, by name. */
export const databases = [
  ["embedded", embedded],
  ["postgres", postgres]
] as const
