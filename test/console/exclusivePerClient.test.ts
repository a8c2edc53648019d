import { assert, describe, it } from "@effect/vitest"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import pg from "pg"
import { exclusivePerClient } from "../../sources/Database.ts"

// Two clients of one embedded database, as when the console hosts it and the CLI connects: each client's
// transactions and parameterised statements must run whole, whatever the other client sends meanwhile.
describe("an embedded database shared by two clients", { timeout: 120_000 }, () => {
  it("keeps each client's transaction and statements to itself", async () => {
    const db = await PGlite.create()
    const server = new PGLiteSocketServer({ db: exclusivePerClient(db), port: 0, host: "127.0.0.1", maxConnections: 4 })
    await server.start()
    const port = Number(server.getServerConn().split(":")[1])
    const a = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" })
    const b = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" })
    try {
      await a.connect()
      await b.connect()
      await a.query("CREATE TABLE t (who text, n int)")

      // A's transaction is rolled back while B writes: B's row survives, A's does not, and B never joined A's transaction
      await a.query("BEGIN")
      await a.query("INSERT INTO t VALUES ($1, $2)", ["a", 1])
      const bWrite = b.query("INSERT INTO t VALUES ($1, $2)", ["b", 1])
      await new Promise((r) => setTimeout(r, 100))
      const inside = await a.query("SELECT who FROM t ORDER BY who")
      await a.query("ROLLBACK")
      await bWrite
      assert.deepStrictEqual(
        inside.rows.map((r) => r.who),
        ["a"],
        "A's transaction does not see B's statement"
      )
      assert.deepStrictEqual(
        (await b.query("SELECT who FROM t ORDER BY who")).rows.map((r) => r.who),
        ["b"]
      )

      // many parameterised statements at once from both clients, each client its own statement text: every answer
      // belongs to its own question (interleaved Parse/Bind messages would bind one client's values to the other's)
      const asks = Array.from({ length: 400 }, (_, i) =>
        i % 2 === 0
          ? a.query("SELECT $1::int * 2 AS v, 'a'::text AS who", [i]).then((r) => [i, r.rows[0]] as const)
          : b.query("SELECT $1::int * 3 AS v, 'b'::text AS who, 0 AS pad", [i]).then((r) => [i, r.rows[0]] as const)
      )
      for (const [i, row] of await Promise.all(asks)) {
        assert.deepStrictEqual(row, i % 2 === 0 ? { v: i * 2, who: "a" } : { v: i * 3, who: "b", pad: 0 })
      }

      // transactions from both clients at once: each commits exactly its own rows
      const txn = (client: pg.Client, who: string) => async () => {
        await client.query("BEGIN")
        for (let n = 0; n < 20; n++) await client.query("INSERT INTO t VALUES ($1, $2)", [who, n])
        await client.query("COMMIT")
      }
      await Promise.all([txn(a, "a")(), txn(b, "b2")()])
      const counts = await a.query("SELECT who, count(*)::int AS n FROM t GROUP BY who ORDER BY who")
      assert.deepStrictEqual(counts.rows, [
        { who: "a", n: 20 },
        { who: "b", n: 1 },
        { who: "b2", n: 20 }
      ])

      // a client that leaves in the middle of a transaction does not hold the database
      await b.query("BEGIN")
      await b.query("INSERT INTO t VALUES ('gone', 1)")
      await b.end()
      const after = await a.query("SELECT count(*)::int AS n FROM t WHERE who = 'gone'")
      assert.strictEqual(after.rows[0].n, 0)
    } finally {
      await a.end().catch(() => undefined)
      await b.end().catch(() => undefined)
      await server.stop()
      await db.close()
    }
  })
})
