import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option, Redacted } from "effect"
import { DatabaseSettings } from "../../config/DatabaseSettings.ts"

const read = (env: Record<string, string>) =>
  Effect.withConfigProvider(DatabaseSettings, ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("DatabaseSettings", () => {
  it.effect("an empty or blank DATABASE_URL means the embedded database, as an unset one does", () =>
    Effect.gen(function* () {
      for (const value of ["", "   "]) {
        const settings = yield* read({ DATABASE_URL: value })
        assert.isTrue(Option.isNone(settings.url), `DATABASE_URL=${JSON.stringify(value)}`)
      }
      assert.isTrue(Option.isNone((yield* read({})).url))
    })
  )

  it.effect("a set DATABASE_URL is kept as a secret, and the data folder defaults to ./.seedtest", () =>
    Effect.gen(function* () {
      const settings = yield* read({ DATABASE_URL: "postgres://u:secret@db/x" })
      assert.strictEqual(Option.map(settings.url, Redacted.value).pipe(Option.getOrNull), "postgres://u:secret@db/x")
      assert.notInclude(String(Option.getOrNull(settings.url)), "secret")
      assert.strictEqual(settings.dataDir, ".seedtest")
    })
  )
})
