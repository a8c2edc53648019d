import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted, Schema } from "effect"
import * as RServiceClient from "../../stages/models/RServiceClient.ts"
import { platformLayer } from "../support/rServices.ts"

// A service that lies: the real R services cannot be made to answer garbage, so this stands in for a wrong URL, a
// proxy's error page or a service of another release.
const lyingService = (body: string, contentType: string) =>
  Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": contentType })
        res.end(body)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

const Answer = Schema.Struct({ forecasts: Schema.Array(Schema.Struct({ user_id: Schema.String, p: Schema.Number })) })

const call = (body: string, contentType = "application/json") =>
  Effect.gen(function* () {
    const server = yield* lyingService(body, contentType)
    const client = yield* RServiceClient.make({
      service: "r-forecast-plumber",
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: Redacted.make("t0ken-for-tests"),
      timeout: Duration.seconds(10),
      retries: 0,
      retryBase: Duration.millis(10)
    })
    const error = yield* Effect.flip(client.endpoint("/prophet/fit", Schema.Struct({}), Answer)({}))
    return error.message
  }).pipe(Effect.scoped, Effect.provide(platformLayer))

/** Every such message: one line, short, naming the service and the endpoint, saying what to do. */
const assertOneSentence = (message: string) => {
  assert.notInclude(message, "\n")
  assert.isBelow(message.length, 400, message)
  assert.include(message, "r-forecast-plumber answered in a shape the client cannot read at /prophet/fit (HTTP 200)")
  assert.include(message, "check that the URL points at this service")
}

describe("a garbage answer from an R service", () => {
  it.live("names the first problem's path when the JSON has the wrong shape", () =>
    Effect.gen(function* () {
      const many = Array.from({ length: 500 }, (_, i) => ({ user_id: `u${i}`, p: i === 0 ? "high" : 0.5 }))
      const message = yield* call(JSON.stringify({ forecasts: many }))
      assertOneSentence(message)
      assert.include(message, `forecasts.0.p: Expected number, actual "high"`)
    })
  )

  it.live("says the body is not JSON for an HTML page or garbage, quoting its start", () =>
    Effect.gen(function* () {
      const html = yield* call(
        `<!DOCTYPE html><html><body>${"<p>bad gateway</p>".repeat(200)}</body></html>`,
        "text/html"
      )
      assertOneSentence(html)
      assert.include(html, `the body is not JSON (it starts "<!DOCTYPE html>`)
      const garbage = yield* call(`{"forecasts": [`)
      assertOneSentence(garbage)
      assert.include(garbage, "the body is not JSON")
    })
  )

  it.live("says the body is empty", () =>
    Effect.gen(function* () {
      const message = yield* call("")
      assertOneSentence(message)
      assert.include(message, "the body is empty")
    })
  )
})
