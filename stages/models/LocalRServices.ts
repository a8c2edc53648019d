/**
 * Local mode of the R services: each runs as a child process (`Rscript r-services/<service>/main.R`) on a free
 * loopback port with a fresh token, and stops with the scope that started it. The CLI uses this when no
 * `R_*_URL` is set; tests use it to run against the real services.
 */

import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { availableParallelism } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Command, HttpClient } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Data, Duration, Effect, Layer, Redacted, Ref, Schedule, Schema, type Scope, Stream } from "effect"
import { freeLoopbackPort } from "../../sources/LoopbackPort.ts"
import type { RServiceConnection } from "./RServiceClient.ts"

/**
 * The repository root, where `r-services/` is: the nearest folder above this module that has `r-services/start`.
 * Searched rather than counted, because this module runs from `stages/models/` (sources) and from `dist/` (the
 * bundle), which are at different depths.
 */
export const findRepositoryRoot = (from: string): string => {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "r-services", "start"))) return dir + path.sep
    if (path.dirname(dir) === dir) return path.resolve(from) + path.sep
  }
}

/** The repository root of this checkout (see `findRepositoryRoot`). */
export const repositoryRoot = findRepositoryRoot(path.dirname(fileURLToPath(import.meta.url)))

/** The default brms template cache: the Stan model compiles once per machine and is reused across restarts. */
export const sharedCacheDir = `${repositoryRoot}.seedtest/r-cache`

/** The three services and the environment variable each reads its token from. */
export const serviceTokens = {
  brms: "R_BRMS_INTERNAL_TOKEN",
  forecast: "R_FORECAST_INTERNAL_TOKEN",
  cluster: "R_CLUSTER_INTERNAL_TOKEN"
} as const
export type RServiceName = keyof typeof serviceTokens

/** A running service: where it listens, its fresh token, and a way to kill it early. */
export interface RunningRService {
  readonly service: RServiceName
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly pid: number
  /** SIGKILL, as a crash would. */
  readonly kill: Effect.Effect<void>
  /** A client connection to it: few quick retries so tests stay fast. */
  readonly connection: (options?: Partial<Pick<RServiceConnection, "timeout" | "retries">>) => RServiceConnection
}

const Ready = Schema.Struct({ ready: Schema.Boolean })

/** A local service that did not come up: its process exited first (with R's own last words), or it never got ready. */
export class RServiceStartError extends Data.TaggedError("RServiceStartError")<{
  readonly reason: "Exited" | "NotReady"
  readonly service: RServiceName
  readonly detail: string
  /** The end of what R printed on stderr, where R says why (a missing file, a missing package). */
  readonly stderr: string
}> {
  override get message(): string {
    const said = this.stderr.trim().length > 0 ? `; R said: ${this.stderr.trim()}` : ""
    return `the local ${this.service} R service ${this.detail}${said}`
  }
}

/** How much of R's stderr an error keeps: the cause is in the last lines. */
const stderrTailChars = 1500

/** Poll `/health` until it says ready (the first brms start compiles the Stan model: minutes). */
const awaitReady = (url: string, within: Duration.DurationInput) =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const check = http.get(`${url}/health`).pipe(
      Effect.flatMap((res) => res.json),
      Effect.flatMap(Schema.decodeUnknown(Ready)),
      Effect.scoped,
      Effect.filterOrFail(
        (health) => health.ready,
        () => new Error("not ready yet")
      )
    )
    yield* check.pipe(
      Effect.retry(Schedule.spaced(Duration.millis(500))),
      Effect.timeoutFail({
        duration: within,
        onTimeout: () => new Error(`${url} not ready within ${Duration.format(within)}`)
      })
    )
  })

/**
 * Start one service as `Rscript r-services/<service>/main.R --port N` with a fresh token, wait until its health
 * endpoint says ready, and stop it when the scope closes.
 */
export const startRService = (
  service: RServiceName,
  options: {
    readonly args?: ReadonlyArray<string>
    readonly readyWithin?: Duration.DurationInput
    /** Where and with which token, to stand in for a service that died (default: a free port, a fresh token). */
    readonly replacing?: RunningRService
    /** A replica of another instance: its token, on a port of its own (replicas share one token, as in deploy/). */
    readonly replicaOf?: RunningRService
  } = {}
): Effect.Effect<RunningRService, unknown, Scope.Scope | CommandExecutor | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const port = options.replacing === undefined ? yield* freeLoopbackPort : Number(new URL(options.replacing.url).port)
    const sharing = options.replacing ?? options.replicaOf
    const token = sharing === undefined ? randomBytes(24).toString("hex") : Redacted.value(sharing.token)
    const args = [`r-services/${service}/main.R`, "--port", String(port), ...(options.args ?? [])]
    if (service === "brms" && !args.includes("--cache-dir")) args.push("--cache-dir", sharedCacheDir)
    // a local service has the machine to itself: brms samples its chains in parallel, prophet fits a batch's series
    // in as many forked workers (the services' own default is 1, for containers sized one core each)
    const parallel = { brms: "--cores", forecast: "--workers", cluster: undefined }[service]
    if (parallel !== undefined && !args.includes(parallel)) args.push(parallel, String(availableParallelism()))
    // the service exits by itself when this process disappears, even by SIGKILL, which runs no finalizer
    if (!args.includes("--parent-pid")) args.push("--parent-pid", String(globalThis.process.pid))
    // The service runs in its own process group (the executor starts it detached), with the workers it forks (prophet's
    // batch workers, brms's chains), which inherit its listening socket: a worker that outlives its parent keeps the
    // port accepting connections that are never answered. So the whole group is killed, not just the parent: when
    // the scope closes (after the executor's SIGTERM; registered first, so it runs last) and as soon as the parent
    // dies, so a dead service refuses connections at once.
    let groupId: number | undefined
    const killGroup = Effect.sync(() => {
      if (groupId === undefined) return
      try {
        globalThis.process.kill(-groupId, "SIGKILL")
      } catch {
        // the group is already gone
      }
    })
    yield* Effect.addFinalizer(() => killGroup)
    const process = yield* Command.make("Rscript", ...args).pipe(
      Command.workingDirectory(repositoryRoot),
      Command.env({ TZ: "UTC", [serviceTokens[service]]: token }),
      Command.start
    )
    groupId = process.pid
    yield* Effect.forkScoped(Effect.zipRight(Effect.ignore(process.exitCode), killGroup))
    // R writes to both pipes; drain them so a full pipe never blocks it, keeping stderr's tail for the error
    const stderrTail = yield* Ref.make("")
    yield* Effect.forkScoped(Stream.runDrain(process.stdout))
    yield* Effect.forkScoped(
      process.stderr.pipe(
        Stream.decodeText(),
        Stream.runForEach((chunk) => Ref.update(stderrTail, (tail) => (tail + chunk).slice(-stderrTailChars)))
      )
    )
    const url = `http://127.0.0.1:${port}`
    const within = options.readyWithin ?? Duration.minutes(service === "brms" ? 5 : 1)
    const startError = (reason: RServiceStartError["reason"], detail: string) =>
      Effect.flatMap(Ref.get(stderrTail), (stderr) => new RServiceStartError({ reason, service, detail, stderr }))
    // a service that exits before it is ready fails the start at once, with R's reason, instead of at the timeout
    const exited = process.exitCode.pipe(
      Effect.map((code) => `exited with code ${code} before it was ready`),
      Effect.catchAll((e) => Effect.succeed(`could not run Rscript: ${e.message}`)),
      // let the stderr drain catch up with the last lines R wrote before it exited
      Effect.zipLeft(Effect.sleep(Duration.millis(100))),
      Effect.flatMap((detail) => startError("Exited", detail))
    )
    yield* Effect.raceFirst(
      awaitReady(url, within).pipe(
        Effect.catchAll(() => startError("NotReady", `was not ready at ${url} within ${Duration.format(within)}`))
      ),
      exited
    )
    return {
      service,
      url,
      token: Redacted.make(token),
      pid: process.pid,
      kill: process.kill("SIGKILL").pipe(Effect.ignore),
      connection: (overrides = {}) => ({
        service: `r-${service}-plumber`,
        url,
        token: Redacted.make(token),
        timeout: overrides.timeout ?? Duration.minutes(10),
        retries: overrides.retries ?? 2,
        retryBase: Duration.millis(100)
      })
    }
  })

/** Node's HTTP client and process executor, what the helpers and clients need. */
export const platformLayer = Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)
