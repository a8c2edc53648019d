import { Config, Option, Redacted } from "effect"

/** Where the data lives: `DATABASE_URL` (absent = the embedded database) and the embedded database's folder. */
export interface DatabaseSettings {
  readonly url: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
}

/** Reads `DATABASE_URL` (as a secret; empty = unset) and `SEEDTEST_DATA_DIR` (default `./.seedtest`). */
export const DatabaseSettings: Config.Config<DatabaseSettings> = Config.all({
  url: Config.redacted("DATABASE_URL").pipe(
    Config.option,
    // an empty or blank value counts as unset (a Redacted's string form is never empty, so read the value)
    Config.map(Option.filter((url) => Redacted.value(url).trim().length > 0))
  ),
  dataDir: Config.string("SEEDTEST_DATA_DIR").pipe(Config.withDefault(".seedtest"))
})
