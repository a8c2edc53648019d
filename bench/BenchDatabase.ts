import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import * as Database from "../sources/Database.ts"

/**
 * A migrated database `name` on the PostgreSQL server of `url` (the benches' own, never the test database):
 * dropped and created afresh, unless `reuse` is set and it already exists (keeping a generated cohort between runs).
 */
export const serverDatabase = (url: Redacted.Redacted, name: string, reuse: boolean) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const admin = Context.get(yield* Layer.build(Database.layerUrl(url)), PgClient.PgClient)
      const exists =
        (yield* admin<{ n: number }>`SELECT count(*)::int4 AS n FROM pg_database WHERE datname = ${name}`)[0]!.n > 0
      if (!reuse || !exists) {
        yield* admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        yield* admin.unsafe(`CREATE DATABASE ${name}`)
      }
      const target = new URL(Redacted.value(url))
      target.pathname = `/${name}`
      return Database.migrated(Database.layerUrl(Redacted.make(target.toString())))
    })
  )
