import { Config, Option, type Redacted } from "effect"

/** Where the data lives: `DATABASE_URL` (absent = the embedded database) and the embedded database's folder. */
export interface DatabaseSettings {
  readonly url: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
}

/** Reads `DATABASE_URL` (as a secret) and `SEEDTEST_DATA_DIR` (default `./.seedtest`). */
export const DatabaseSettings: Config.Config<DatabaseSettings> = Config.all({
  url: Config.redacted("DATABASE_URL").pipe(
    Config.option,
    Config.map(Option.filter((url) => url.toString().length > 0))
  ),
  dataDir: Config.string("SEEDTEST_DATA_DIR").pipe(Config.withDefault(".seedtest"))
})
