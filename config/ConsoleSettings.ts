import { Config, Option, Redacted } from "effect"
import { defaultReportsRoot } from "./ReportSettings.ts"

/** What `seedtest ui` needs from the environment. */
export interface ConsoleSettings {
  /** SEEDTEST_UI_TOKEN: unset or empty = a read-only console. */
  readonly token: Option.Option<Redacted.Redacted<string>>
  /** Where the reports are: REPORT_OUTPUT_DIR, else `<SEEDTEST_DATA_DIR>/reports`. */
  readonly reportsRoot: string
}

/** Reads SEEDTEST_UI_TOKEN (a secret) and the reports folder. */
export const ConsoleSettings: Config.Config<ConsoleSettings> = Config.all({
  token: Config.redacted("SEEDTEST_UI_TOKEN").pipe(
    Config.option,
    // Redacted.value, not toString: a redacted value prints as "<redacted>", which is never empty
    Config.map(Option.filter((token) => Redacted.value(token).length > 0))
  ),
  reportsRoot: Config.all([Config.string("REPORT_OUTPUT_DIR").pipe(Config.withDefault("")), defaultReportsRoot]).pipe(
    Config.map(([explicit, fallback]) => (explicit === "" ? fallback : explicit))
  )
})
