import { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { type ConfigError, Data, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { DatabaseSettings } from "../config/DatabaseSettings.ts"
import * as Migrations from "../db/Migrations.ts"
import { Redactor } from "../engine/Redactor.ts"
import * as RedactorModule from "../engine/Redactor.ts"
import { freeLoopbackPort } from "./LoopbackPort.ts"

/** The embedded database could not start: its folder is in use by another process, or PGlite failed. */
export class EmbeddedDatabaseError extends Data.TaggedError("EmbeddedDatabaseError")<{
  readonly reason: "Locked" | "StartFailed"
  readonly dataDir: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return this.reason === "Locked"
      ? `The embedded database in ${this.dataDir} is in use by another seedtest process; wait for it to finish, or set DATABASE_URL to use a PostgreSQL server.`
      : `The embedded database in ${this.dataDir} could not start: ${String((this.cause as Error | undefined)?.message ?? this.cause)}`
  }
}

// dates stay "YYYY-MM-DD" strings (no time-zone shift); counts and numerics become numbers
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    switch (oid) {
      case 1082:
        return (value: string) => value
      case 20:
      case 1700:
        return (value: string) => Number(value)
      default:
        return pg.types.getTypeParser(oid, format as "text")
    }
  }) as pg.CustomTypesConfig["getTypeParser"]
}

const clientOptions = { types, connectTimeout: Duration.seconds(10), applicationName: "seedtest" } as const

/** `@effect/sql-pg` against a PostgreSQL server. */
export const layerUrl = (url: Redacted.Redacted<string>): Layer.Layer<PgClient.PgClient | SqlClient, SqlError> =>
  PgClient.layer({ url, ...clientOptions })

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Holds `<dataDir>/lock` with this process id; a lock left by a dead process is taken over. */
const lockDataDir = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        fs.mkdirSync(dataDir, { recursive: true })
        const lock = path.join(dataDir, "lock")
        try {
          fs.writeFileSync(lock, String(process.pid), { flag: "wx" })
        } catch {
          const holder = Number(fs.readFileSync(lock, "utf8"))
          if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) throw new Error("locked")
          fs.writeFileSync(lock, String(process.pid))
        }
        return lock
      },
      catch: (cause) =>
        new EmbeddedDatabaseError({
          reason: (cause as Error).message === "locked" ? "Locked" : "StartFailed",
          dataDir,
          cause
        })
    }),
    (lock) => Effect.sync(() => fs.rmSync(lock, { force: true }))
  )

/**
 * An embedded PostgreSQL (PGlite, compiled to WASM) served on a loopback port through pglite-socket, so the same
 * `@effect/sql-pg` client talks to it. One connection: the socket server interleaves statements of different
 * connections, which would break transactions. `dataDir` undefined = in memory (tests).
 */
export const layerEmbedded = (
  dataDir: string | undefined
): Layer.Layer<PgClient.PgClient | SqlClient, SqlError | EmbeddedDatabaseError> =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const pgdata = dataDir === undefined ? undefined : path.resolve(dataDir, "pgdata")
      if (dataDir !== undefined) yield* lockDataDir(path.resolve(dataDir))
      const db = yield* Effect.acquireRelease(
        Effect.tryPromise({
          // loaded on demand: commands that use DATABASE_URL (or no database) never pay for the WASM build
          try: async () => {
            const { PGlite } = await import("@electric-sql/pglite")
            return PGlite.create(pgdata === undefined ? {} : { dataDir: pgdata })
          },
          catch: (cause) => new EmbeddedDatabaseError({ reason: "StartFailed", dataDir: pgdata ?? "memory", cause })
        }),
        (db) => Effect.promise(() => db.close()).pipe(Effect.ignore)
      )
      const port = yield* freeLoopbackPort.pipe(
        Effect.mapError((cause) => new EmbeddedDatabaseError({ reason: "StartFailed", dataDir: pgdata ?? "memory", cause }))
      )
      yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket")
            const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 4 })
            await server.start()
            return server
          },
          catch: (cause) => new EmbeddedDatabaseError({ reason: "StartFailed", dataDir: pgdata ?? "memory", cause })
        }),
        (server) => Effect.promise(() => server.stop()).pipe(Effect.ignore)
      )
      return PgClient.layer({
        host: "127.0.0.1",
        port,
        username: "postgres",
        database: "postgres",
        maxConnections: 1,
        ...clientOptions
      })
    })
  )

/** `DATABASE_URL` when set, else the embedded database in `SEEDTEST_DATA_DIR`; its password joins the Redactor. */
export const layer: Layer.Layer<PgClient.PgClient | SqlClient, SqlError | EmbeddedDatabaseError | ConfigError.ConfigError> =
  Layer.unwrapEffect(
    Effect.map(DatabaseSettings, (settings) =>
      Option.match(settings.url, {
        onNone: () => layerEmbedded(settings.dataDir),
        onSome: layerUrl
      }))
  )

/** The secrets inside a database URL (its password), for the Redactor. */
export const urlSecrets = (url: Redacted.Redacted<string>): ReadonlyArray<string> => {
  const text = Redacted.value(url)
  try {
    const parsed = new URL(text)
    return [text, decodeURIComponent(parsed.password)].filter((s) => s.length > 0)
  } catch {
    return [text]
  }
}

/** Adds the database password to the Redactor for everything built on top. */
export const redactorLayer = Layer.effect(
  Redactor,
  Effect.gen(function*() {
    const settings = yield* DatabaseSettings
    const current = yield* Redactor
    const secrets = Option.match(settings.url, { onNone: () => [], onSome: urlSecrets })
    return RedactorModule.extend(current, secrets)
  })
)

/** Applies pending migrations when built. */
export const migrated = <E, R>(
  database: Layer.Layer<PgClient.PgClient | SqlClient, E, R>
) => Layer.provideMerge(Layer.effectDiscard(Migrations.run), database)
