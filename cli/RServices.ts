import type { HttpClient } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, type Context, Duration, Effect, Layer, Option, Scope } from "effect"
import { describe } from "../engine/Errors.ts"
import * as Brms from "../stages/models/BrmsClient.ts"
import * as Cluster from "../stages/models/ClusterClient.ts"
import * as Forecast from "../stages/models/ForecastClient.ts"
import { type RServiceName, startRService } from "../stages/models/LocalRServices.ts"
import { type RServiceConnection, RServiceError } from "../stages/models/RServiceClient.ts"

/**
 * One R service client for the CLI. With `<PREFIX>_URL` set it talks to that service. Without it (local mode) the
 * service is started as a child process on a loopback port with a fresh token the first time a stage calls it —
 * a pipeline that needs no model never starts R — and stopped when the command ends.
 */
const clientLayer = <I, S extends object>(
  tag: Context.Tag<I, S>,
  options: {
    readonly service: RServiceName
    readonly prefix: string
    readonly config: Config.Config<RServiceConnection>
    readonly make: (connection: RServiceConnection) => Effect.Effect<S, never, HttpClient.HttpClient>
  }
): Layer.Layer<I, ConfigError.ConfigError, HttpClient.HttpClient | CommandExecutor> =>
  Layer.scoped(
    tag,
    Effect.gen(function*() {
      const url = yield* Config.option(Config.string(`${options.prefix}_URL`))
      if (Option.isSome(url) && url.value.length > 0) return yield* Effect.flatMap(options.config, options.make)
      const scope = yield* Effect.scope
      const context = yield* Effect.context<HttpClient.HttpClient | CommandExecutor>()
      const started = yield* Effect.cached(
        Effect.gen(function*() {
          yield* Effect.logInfo(`starting the local ${options.service} R service (no ${options.prefix}_URL set)`)
          const running = yield* startRService(options.service).pipe(Scope.extend(scope))
          // the stages' own timeouts (R_BRMS_TIMEOUT_SECS … or --param timeoutSeconds) decide how long a fit may
          // take; a fixed client limit here cut a 10,000-student growth fit at 30 minutes whatever they said
          return yield* options.make(running.connection({ timeout: Duration.hours(24), retries: 2 }))
        }).pipe(
          Effect.provide(context),
          Effect.mapError((cause) =>
            new RServiceError({
              reason: "Transport",
              service: `r-${options.service}-plumber`,
              endpoint: "(local start)",
              detail: `the local service could not start: ${describe(cause)}. Set ${options.prefix}_URL to use a running one.`
            })
          )
        )
      )
      // every method of the client, forwarded to the client of the started service
      return new Proxy({} as S, {
        get: (_target, method) => (...args: ReadonlyArray<unknown>) =>
          Effect.flatMap(started, (client) => (client as Record<PropertyKey, (...a: ReadonlyArray<unknown>) => Effect.Effect<unknown>>)[method]!(...args))
      })
    })
  )

/** The three R service clients, remote or local. */
export const RServicesLayer = Layer.mergeAll(
  clientLayer(Brms.BrmsClient, { service: "brms", prefix: "R_BRMS", config: Brms.connectionConfig, make: (c) => Effect.map(Brms.make(c), Brms.BrmsClient.make) }),
  clientLayer(Forecast.ForecastClient, { service: "forecast", prefix: "R_FORECAST", config: Forecast.connectionConfig, make: (c) => Effect.map(Forecast.make(c), Forecast.ForecastClient.make) }),
  clientLayer(Cluster.ClusterClient, { service: "cluster", prefix: "R_CLUSTER", config: Cluster.connectionConfig, make: (c) => Effect.map(Cluster.make(c), Cluster.ClusterClient.make) })
).pipe(Layer.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)))

/** The R tokens from the environment, for the Redactor. */
export const tokenSecrets = Config.all([
  Config.option(Config.redacted("R_BRMS_INTERNAL_TOKEN")),
  Config.option(Config.redacted("R_FORECAST_INTERNAL_TOKEN")),
  Config.option(Config.redacted("R_CLUSTER_INTERNAL_TOKEN"))
]).pipe(Config.map((tokens) => tokens.flatMap(Option.toArray)))
