import * as fs from "node:fs"
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { exec } from "../support/ChildProcess.ts"
import { postgres, TestDatabaseUrl } from "../support/TestDatabase.ts"

/** The TypeScript block of README.md's "As a library" section, exactly as a reader copies it. */
const readmeExample = (): string => {
  const readme = fs.readFileSync("README.md", "utf8")
  const section = readme.slice(readme.indexOf("## As a library"))
  const block = /```ts\n([\s\S]*?)```/.exec(section)
  if (block === null) throw new Error('README.md has no ```ts block under "## As a library"')
  return block[1]!
}

// inside the package (so Node resolves `seedtest-pipelines` to its own `exports`, as for a consumer) but ignored by git
const folder = path.resolve("test-artifacts", "readme-library")

const node = (args: ReadonlyArray<string>) => exec(process.execPath, args)

layer(postgres, { timeout: Duration.minutes(2) })("README.md's library example", (it) => {
  it.effect("runs as written against the package entry, in a Node process of its own", () =>
    Effect.gen(function* () {
      fs.mkdirSync(folder, { recursive: true })
      fs.writeFileSync(path.join(folder, "example.ts"), readmeExample())
      fs.writeFileSync(
        path.join(folder, "main.ts"),
        `import { Effect, Redacted } from "effect"\nimport { runMine } from "./example.ts"\n` +
          `Effect.runPromise(runMine(Redacted.make(process.argv[2]!))).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(String(e)); process.exit(1) })\n`
      )
      // it type-checks as a consumer's file would (tsx below only strips the types)
      fs.writeFileSync(
        path.join(folder, "tsconfig.json"),
        JSON.stringify({ extends: "../../tsconfig.json", include: ["example.ts", "main.ts"] })
      )
      const typed = yield* node([
        path.resolve("node_modules/typescript/bin/tsc"),
        "--noEmit",
        "-p",
        path.join(folder, "tsconfig.json")
      ])
      assert.strictEqual(typed.code, 0, typed.stdout + typed.stderr)
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE my_scores (user_id text PRIMARY KEY, score float8 NOT NULL)`
      yield* sql`INSERT INTO attempt (id, student_id, item_id, topic_id, correct, started_at) VALUES
        (1, 's1', 'i', 't', true, now() - interval '1 day'), (2, 's1', 'i', 't', true, now() - interval '2 days'),
        (3, 's1', 'i', 't', false, now() - interval '2 days'), (4, 's2', 'i', 't', true, now() - interval '3 days'),
        (5, 's3', 'i', 't', true, now() - interval '30 days')`
      const url = yield* TestDatabaseUrl
      // the package's sources (the `seedtest-source` condition of its exports), not a compiled dist/lib that may be stale
      const sources = "--conditions=seedtest-source"
      const ran = yield* node([sources, "--import", "tsx", path.join(folder, "main.ts"), Redacted.value(url)])
      assert.strictEqual(ran.code, 0, ran.stderr)
      const rows = yield* sql<{ user_id: string; score: number }>`SELECT user_id, score FROM my_scores ORDER BY user_id`
      // days=14: s3's only attempt is older; s1 has the most correct answers (2), s2 half as many
      assert.deepStrictEqual(
        rows.map((r) => [r.user_id, r.score]),
        [
          ["s1", 1],
          ["s2", 0.5]
        ]
      )
      const [record] = yield* sql<{
        status: string
        trigger: string
      }>`SELECT status, trigger FROM pipeline_run WHERE pipeline = 'my-pipeline'`
      assert.deepStrictEqual(record, { status: "succeeded", trigger: "library" })
    })
  )
})
