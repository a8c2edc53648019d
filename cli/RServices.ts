import type { HttpClient } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, Context, Duration, Effect, Layer, Option, Scope } from "effect"
import { describe } from "../engine/Errors.ts"
import * as Brms from "../stages/models/BrmsClient.ts"
import * as Cluster from "../stages/models/ClusterClient.ts"
import * as Forecast from "../stages/models/ForecastClient.ts"
import { type RServiceName, startRService } from "../stages/models/LocalRServices.ts"
import { type RServiceConnection, RServiceError } from "../stages/models/RServiceClient.ts"

/** A client as its calls: each method returns an Effect. */
type Calls = Record<PropertyKey, (...args: ReadonlyArray<never>) => Effect.Effect<unknown, unknown>>

/** What every R client has besides its calls: its instances, the concurrency they take, and their counts. */
interface Spread {
  readonly instances: ReadonlyArray<string>
  readonly concurrency: number
  readonly stats: Effect.Effect<ReadonlyArray<unknown>>
}

/** A local service is one instance that serves two requests usefully at once, as a service with one URL. */
const LOCAL_CONCURRENCY = 2

/**
 * The R services this process starts itself, as child processes on loopback ports with fresh tokens, because no
 * `<PREFIX>_URL` names a running one. Each starts the first time a stage calls it — a pipeline that needs no model
 * never starts R — and stops when the layer's scope closes (the command ends).
 */
export class LocalRServices extends Context.Tag("seedtest/cli/LocalRServices")<
  LocalRServices,
  {
    /** The connection of the local service, started on first use. */
    readonly connection: (service: RServiceName) => Effect.Effect<RServiceConnection, RServiceError>
  }
>() {
  /** Starts nothing until a connection is asked for. */
  static readonly layer: Layer.Layer<LocalRServices, never, HttpClient.HttpClient | CommandExecutor> = Layer.scoped(
    LocalRServices,
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const context = yield* Effect.context<HttpClient.HttpClient | CommandExecutor>()
      const start = (service: RServiceName, prefix: string) =>
        Effect.gen(function* () {
          yield* Effect.logInfo(`starting the local ${service} R service (no ${prefix}_URL set)`)
          const running = yield* startRService(service).pipe(Scope.extend(scope))
          // the stages' own timeouts (R_BRMS_TIMEOUT_SECS … or --param timeoutSeconds) decide how long a fit may
          // take; a fixed client limit here cut a 10,000-student growth fit at 30 minutes whatever they said
          return running.connection({ timeout: Duration.hours(24), retries: 2 })
        }).pipe(
          Effect.provide(context),
          Effect.mapError(
            (cause) =>
              new RServiceError({
                reason: "Transport",
                service: `r-${service}-plumber`,
                endpoint: "(local start)",
                detail: `the local service could not start: ${describe(cause)}. Set ${prefix}_URL to use a running one.`
              })
          )
        )
      const started = {
        brms: yield* Effect.cached(start("brms", "R_BRMS")),
        forecast: yield* Effect.cached(start("forecast", "R_FORECAST")),
        cluster: yield* Effect.cached(start("cluster", "R_CLUSTER"))
      } satisfies Record<RServiceName, Effect.Effect<RServiceConnection, RServiceError>>
      return { connection: (service) => started[service] }
    })
  )
}

/**
 * One R service client for the CLI. With `<PREFIX>_URL` set it talks to that service; without it, to the service
 * `LocalRServices` starts on the first call. `methods` lists the client's calls (the compiler checks the list is
 * complete), each forwarded to the client of the started service.
 */
const clientLayer = <I, S, C extends Spread>(
  tag: Context.Tag<I, S>,
  options: {
    readonly service: RServiceName
    readonly prefix: string
    readonly config: Config.Config<RServiceConnection>
    /** The client's calls for a connection. */
    readonly make: (connection: RServiceConnection) => Effect.Effect<C, never, HttpClient.HttpClient>
    /** The service value from the calls (the service class's `make`). */
    readonly value: (calls: C) => S
    readonly methods: { readonly [K in Exclude<keyof C, keyof Spread>]: true }
  }
): Layer.Layer<I, ConfigError.ConfigError, HttpClient.HttpClient | LocalRServices> =>
  Layer.effect(
    tag,
    Effect.gen(function* () {
      const url = yield* Config.option(Config.string(`${options.prefix}_URL`))
      if (Option.isSome(url) && url.value.length > 0) {
        return options.value(yield* Effect.flatMap(options.config, options.make))
      }
      const local = yield* LocalRServices
      const http = yield* Effect.context<HttpClient.HttpClient>()
      const client = yield* Effect.cached(
        Effect.flatMap(local.connection(options.service), (c) => Effect.provide(options.make(c), http))
      )
      const forward =
        (method: PropertyKey) =>
        (...args: ReadonlyArray<never>) =>
          Effect.flatMap(client, (started) => (started as unknown as Calls)[method]!(...args))
      const spread: Spread = {
        instances: [`(local ${options.service} service, started on first use)`],
        concurrency: LOCAL_CONCURRENCY,
        stats: Effect.flatMap(client, (started) => started.stats).pipe(Effect.orElseSucceed(() => []))
      }
      // the object has exactly the client's methods (`methods` lists them all), each returning the same Effect
      const calls = Object.fromEntries(Object.keys(options.methods).map((m) => [m, forward(m)]))
      return options.value({ ...calls, ...spread } as unknown as C)
    })
  )

/** The three R service clients, remote or local. */
export const RServicesLayer = Layer.mergeAll(
  clientLayer(Brms.BrmsClient, {
    service: "brms",
    prefix: "R_BRMS",
    config: Brms.connectionConfig,
    make: Brms.make,
    value: Brms.BrmsClient.make,
    methods: { fit: true, predict: true, health: true }
  }),
  clientLayer(Forecast.ForecastClient, {
    service: "forecast",
    prefix: "R_FORECAST",
    config: Forecast.connectionConfig,
    make: Forecast.make,
    value: Forecast.ForecastClient.make,
    methods: { prophetFit: true, survivalFit: true, survivalPredict: true, health: true }
  }),
  clientLayer(Cluster.ClusterClient, {
    service: "cluster",
    prefix: "R_CLUSTER",
    config: Cluster.connectionConfig,
    make: Cluster.make,
    value: Cluster.ClusterClient.make,
    methods: { fit: true, predict: true, health: true }
  })
).pipe(Layer.provide(LocalRServices.layer), Layer.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)))

/** The R tokens from the environment, for the Redactor. */
export const tokenSecrets = Config.all([
  Config.option(Config.redacted("R_BRMS_INTERNAL_TOKEN")),
  Config.option(Config.redacted("R_FORECAST_INTERNAL_TOKEN")),
  Config.option(Config.redacted("R_CLUSTER_INTERNAL_TOKEN"))
]).pipe(Config.map((tokens) => tokens.flatMap(Option.toArray)))
