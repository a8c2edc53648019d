import * as fs from "node:fs"
import * as path from "node:path"
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { type ConfigError, Data, Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import pg from "pg"
import { DatabaseSettings } from "../config/DatabaseSettings.ts"
import * as Migrations from "../db/Migrations.ts"
import * as Redactor from "../engine/Redactor.ts"
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
          if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) throw new HeldBy(holder)
          fs.writeFileSync(lock, String(process.pid))
        }
        return lock
      },
      catch: (cause) =>
        cause instanceof HeldBy ? cause : new EmbeddedDatabaseError({ reason: "StartFailed", dataDir, cause })
    }),
    (lock) => Effect.sync(() => fs.rmSync(lock, { force: true }))
  )

// the lock is held by another live process
class HeldBy {
  constructor(readonly pid: number) {}
}

/** Where the process holding a data folder serves its database: `<dataDir>/socket.json`, next to the lock. */
const addressFile = (dataDir: string) => path.join(dataDir, "socket.json")

interface HolderAddress {
  readonly pid: number
  readonly host: string
  /** null while the holder's database is starting. */
  readonly port: number | null
}

const readAddress = (dataDir: string): HolderAddress | undefined => {
  try {
    const parsed = JSON.parse(fs.readFileSync(addressFile(dataDir), "utf8")) as Partial<HolderAddress>
    return typeof parsed.pid === "number" &&
      typeof parsed.host === "string" &&
      (typeof parsed.port === "number" || parsed.port === null)
      ? { pid: parsed.pid, host: parsed.host, port: parsed.port }
      : undefined
  } catch {
    return undefined
  }
}

const publishAddress = (dataDir: string, port: number | null) =>
  fs.writeFileSync(
    addressFile(dataDir),
    JSON.stringify({ pid: process.pid, host: "127.0.0.1", port } satisfies HolderAddress)
  )

/**
 * The socket address of the live process that holds `dataDir`, waiting while its database starts (it says so in the
 * address file); `Locked` when the holder publishes no address (an older seedtest) or stops while we wait.
 */
const holderAddress = (dataDir: string, holder: number) =>
  Effect.suspend(() => {
    const address = readAddress(dataDir)
    if (address === undefined || address.pid !== holder) return Effect.fail("none" as const)
    if (address.port !== null) return Effect.succeed({ host: address.host, port: address.port })
    return processAlive(holder) ? Effect.fail("starting" as const) : Effect.fail("none" as const)
  }).pipe(
    Effect.retry({
      schedule: Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds")),
      while: (e) => e === "starting"
    }),
    Effect.mapError(() => new EmbeddedDatabaseError({ reason: "Locked", dataDir }))
  )

/**
 * PGlite is one Postgres session; the socket server queues the messages of its clients and, while the session is in
 * a transaction, serves only the client that opened it. That is not enough between transactions: the extended
 * protocol's Parse/Bind/Execute of one statement are separate messages, and another client's messages could run in
 * between (rebinding the unnamed statement). This view of the database also counts as "in a transaction" an
 * exchange that has not yet ended with ReadyForQuery(idle), so each client's statement or transaction runs whole.
 */
export const exclusivePerClient = <
  DB extends {
    isInTransaction(): boolean
    execProtocolRawStream(message: Uint8Array, options: { onRawData: (data: Uint8Array) => void }): Promise<void>
  }
>(
  db: DB
): DB => {
  let open = false
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "isInTransaction") return () => open || target.isInTransaction()
      if (prop === "execProtocolRawStream") {
        return async (message: Uint8Array, options: { onRawData: (data: Uint8Array) => void }) => {
          // a client's Terminate ends its exchange without an answer
          if (message[0] === 0x58) {
            open = false
            return target.execProtocolRawStream(message, options)
          }
          let tail = new Uint8Array(0)
          await target.execProtocolRawStream(message, {
            ...options,
            onRawData: (data) => {
              const joined = new Uint8Array(tail.length + data.length)
              joined.set(tail)
              joined.set(data, tail.length)
              tail = joined.slice(-6)
              options.onRawData(data)
            }
          })
          // ReadyForQuery is 'Z', length 5, status: 'I' idle, 'T' in a transaction, 'E' failed transaction
          open = !(tail.length === 6 && tail[0] === 0x5a && tail[4] === 5 && tail[5] === 0x49)
        }
      }
      if (prop === "exec") {
        // the socket server's ROLLBACK after a client left in the middle of an exchange: the session is free again
        return async (...args: Array<unknown>) => {
          const result = await (target as unknown as { exec: (...a: Array<unknown>) => Promise<unknown> }).exec(...args)
          open = false
          return result
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === "function" ? value.bind(target) : value
    }
  })
}

/**
 * An embedded PostgreSQL (PGlite, compiled to WASM) served on a loopback port through pglite-socket, so the same
 * `@effect/sql-pg` client talks to it. One connection: the socket server interleaves statements of different
 * connections, which would break transactions. `dataDir` undefined = in memory (tests).
 */
export const layerEmbedded = (
  dataDir: string | undefined
): Layer.Layer<PgClient.PgClient | SqlClient, SqlError | EmbeddedDatabaseError> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const pgdata = dataDir === undefined ? undefined : path.resolve(dataDir, "pgdata")
      if (dataDir !== undefined) {
        const folder = path.resolve(dataDir)
        const locked = yield* Effect.either(lockDataDir(folder))
        if (locked._tag === "Left") {
          if (locked.left instanceof EmbeddedDatabaseError) return yield* locked.left
          // another process (the console, the scheduler, another run) holds the folder: use its database through its
          // socket server, one connection like its own
          const holder = yield* holderAddress(folder, locked.left.pid)
          return PgClient.layer({
            host: holder.host,
            port: holder.port,
            username: "postgres",
            database: "postgres",
            maxConnections: 1,
            ...clientOptions
          })
        }
        // other processes find this process's database through this file; until the port is in it, they wait
        yield* Effect.acquireRelease(
          Effect.sync(() => publishAddress(folder, null)),
          () => Effect.sync(() => fs.rmSync(addressFile(folder), { force: true }))
        )
      }
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
        Effect.mapError(
          (cause) => new EmbeddedDatabaseError({ reason: "StartFailed", dataDir: pgdata ?? "memory", cause })
        )
      )
      yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket")
            // several processes may share this database (see exclusivePerClient): allow a few clients
            const server = new PGLiteSocketServer({
              db: exclusivePerClient(db),
              port,
              host: "127.0.0.1",
              maxConnections: 16
            })
            await server.start()
            return server
          },
          catch: (cause) => new EmbeddedDatabaseError({ reason: "StartFailed", dataDir: pgdata ?? "memory", cause })
        }),
        (server) => Effect.promise(() => server.stop()).pipe(Effect.ignore)
      )
      if (dataDir !== undefined) publishAddress(path.resolve(dataDir), port)
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
export const layer: Layer.Layer<
  PgClient.PgClient | SqlClient,
  SqlError | EmbeddedDatabaseError | ConfigError.ConfigError
> = Layer.unwrapEffect(
  Effect.map(DatabaseSettings, (settings) =>
    Option.match(settings.url, {
      onNone: () => layerEmbedded(settings.dataDir),
      onSome: layerUrl
    })
  )
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
  Redactor.Redactor,
  Effect.gen(function* () {
    const settings = yield* DatabaseSettings
    const current = yield* Redactor.Redactor
    const secrets = Option.match(settings.url, { onNone: () => [], onSome: urlSecrets })
    return Redactor.extend(current, secrets)
  })
)

/** Applies pending migrations when built. */
export const migrated = <E, R>(database: Layer.Layer<PgClient.PgClient | SqlClient, E, R>) =>
  Layer.provideMerge(Layer.effectDiscard(Migrations.run), database)
