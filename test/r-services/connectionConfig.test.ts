import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Exit } from "effect"
import { ExitCode, explain } from "../../cli/Failure.ts"
import { connectionConfig } from "../../stages/models/ForecastClient.ts"
import { isUrlList } from "../../stages/models/RServiceClient.ts"

const withEnv = (url: string) =>
  Effect.exit(connectionConfig).pipe(
    Effect.withConfigProvider(
      ConfigProvider.fromMap(
        new Map([
          ["R_FORECAST_URL", url],
          ["R_FORECAST_INTERNAL_TOKEN", "tok3n-abc"]
        ])
      )
    )
  )

describe("an R service URL setting", () => {
  it("is one http(s) URL or a comma-separated list of them", () => {
    for (const good of [
      "http://r-forecast:8080",
      "https://r.example.org/forecast",
      "http://10.0.0.1:8080, http://10.0.0.2:8080"
    ]) {
      assert.isTrue(isUrlList(good), good)
    }
    for (const bad of [
      "",
      "r-forecast:8080",
      "http://a:1 http://b:2",
      "http://a:1;http://b:2",
      "http://a:99999",
      "ftp://r-forecast",
      "http://a:1,,http://b:2",
      "http://"
    ]) {
      assert.isFalse(isUrlList(bad), bad)
    }
  })

  it.effect("that is malformed fails the configuration, naming the variable, as an environment failure (exit 3)", () =>
    Effect.gen(function* () {
      const exit = yield* withEnv("http://r-forecast:8080 http://r-forecast-2:8080")
      assert.isTrue(Exit.isFailure(exit))
      if (!Exit.isFailure(exit)) return
      const explained = explain(exit.cause)!
      assert.strictEqual(explained.code, ExitCode.environment)
      assert.include(explained.message, "R_FORECAST_URL")
      assert.include(Cause.pretty(exit.cause), "expected the service's http(s) URL")
      const fine = yield* withEnv("http://r-forecast:8080")
      assert.isTrue(Exit.isSuccess(fine))
    })
  )
})
