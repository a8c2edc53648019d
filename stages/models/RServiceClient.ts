import { HttpClient, type HttpClientError, HttpClientRequest } from "@effect/platform"
import { Clock, Config, Duration, Effect, Either, ParseResult, Redacted, Schedule, Schema } from "effect"
import type { RetryPolicy } from "../../engine/Stage.ts"
import { ServiceErrorBody } from "./schemas/Common.ts"

/** Why a call to an R service failed. */
export const RServiceErrorReason = Schema.Literal(
  "Transport",
  "Timeout",
  "Unauthorized",
  "InvalidRequest",
  "ModelFailure",
  "UndecodableResponse",
  "InconsistentAnswer"
)
export type RServiceErrorReason = typeof RServiceErrorReason.Type

/** What each reason means, as a person reads it after the service's name. */
const reasonPhrase: Record<RServiceErrorReason, string> = {
  Transport: "is unreachable",
  Timeout: "did not answer in time",
  Unauthorized: "refused the internal token",
  InvalidRequest: "rejected the request",
  ModelFailure: "failed to fit the model",
  UndecodableResponse: "answered in a shape the client cannot read",
  InconsistentAnswer: "gave an answer that does not fit the request"
}

/**
 * A failed call to an R model service. It carries the service, endpoint, HTTP status and how many attempts were
 * made, never the token: the underlying HTTP error is reduced to its description because it holds the request and
 * its headers. The message names all of them, so a run record that keeps only the message still says where.
 */
export class RServiceError extends Schema.TaggedError<RServiceError>()("RServiceError", {
  reason: RServiceErrorReason,
  service: Schema.String,
  endpoint: Schema.String,
  status: Schema.optional(Schema.Int),
  field: Schema.optional(Schema.String),
  /** Attempts made before giving up, when the call was retried. */
  attempts: Schema.optional(Schema.Int),
  /** What went wrong, in the service's or the transport's words. */
  detail: Schema.String
}) {
  /** Transport failures and 502/503/504 may pass; everything else would fail the same way again. */
  get isTransient(): boolean {
    return this.reason === "Transport"
  }

  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    const tries = this.attempts === undefined || this.attempts < 2 ? "" : ` after ${this.attempts} attempts`
    const field = this.field === undefined ? "" : `${this.field}: `
    return `${this.service} ${reasonPhrase[this.reason]} at ${this.endpoint}${status}${tries}: ${field}${this.detail}`
  }
}

/**
 * The model stages' retry policy. Each call first retries a failed connection a few times quickly (the connection's
 * `retries`); once those are spent, the stage tries again after 10 s and then 20 s — about as long as a restarted
 * service pod takes to load R and its packages and pass its readiness check. Only transport failures: a rejected
 * request or a model error would fail the same way again. The answers of a failed try are not kept.
 */
export const acrossServiceRestart: RetryPolicy = {
  times: 2,
  base: "10 seconds",
  while: (error) => error instanceof RServiceError && error.isTransient
}

/** Where and how to reach one R service. */
export interface RServiceConnection {
  readonly service: string
  readonly url: string
  readonly token: Redacted.Redacted<string>
  /** Per attempt. */
  readonly timeout: Duration.DurationInput
  /** Retries after the first attempt, on transient failures only. */
  readonly retries: number
  /** First backoff delay; doubles each retry. */
  readonly retryBase: Duration.DurationInput
  /** Requests one instance serves usefully at once (default 2): the client's concurrency is instances × this. */
  readonly workersPerInstance?: number
  /** How long an instance that refused or timed out is skipped while others answer (default 30 s). */
  readonly cooldown?: Duration.DurationInput
}

/** The base URLs of a connection: its `url` split at commas, without trailing slashes. */
export const instanceUrls = (connection: Pick<RServiceConnection, "url">): ReadonlyArray<string> =>
  connection.url
    .split(",")
    .map((part) => part.trim().replace(/\/+$/, ""))
    .filter((part) => part.length > 0)

/** A URL as messages show it: any user or password in it replaced by `***`. */
export const shownUrl = (url: string): string => {
  if (!URL.canParse(url)) return url
  const parsed = new URL(url)
  if (parsed.username === "" && parsed.password === "") return url
  parsed.username = "***"
  parsed.password = ""
  return parsed.toString().replace(/\/+$/, "")
}

/** Whether a setting is one http(s) URL with a host, or a comma-separated list of them. */
export const isUrlList = (value: string): boolean =>
  value.split(",").every((part) => {
    const candidate = part.trim()
    if (candidate.length === 0 || /\s/.test(candidate) || !URL.canParse(candidate)) return false
    const url = new URL(candidate)
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0
  })

/** Reads `<PREFIX>_URL`, `<PREFIX>_INTERNAL_TOKEN` (secret) and `<PREFIX>_TIMEOUT_SECS`. */
export const connectionConfig = (options: {
  readonly service: string
  readonly prefix: string
  readonly defaultTimeoutSeconds: number
}): Config.Config<RServiceConnection> =>
  Config.all({
    // a malformed URL is a setting to fix, reported when the client is built: retrying it cannot help
    url: Config.string(`${options.prefix}_URL`).pipe(
      Config.validate({
        message: `expected the service's http(s) URL, such as http://${options.service}:8080 (or a comma-separated list of such URLs)`,
        validation: isUrlList
      })
    ),
    token: Config.redacted(`${options.prefix}_INTERNAL_TOKEN`),
    timeoutSeconds: Config.number(`${options.prefix}_TIMEOUT_SECS`).pipe(
      Config.withDefault(options.defaultTimeoutSeconds)
    )
  }).pipe(
    Config.map(({ timeoutSeconds, token, url }) => ({
      service: options.service,
      url,
      token,
      timeout: Duration.seconds(timeoutSeconds),
      retries: 3,
      retryBase: Duration.millis(250)
    }))
  )

/** Per-call options of an endpoint. */
export interface CallOptions {
  /** Per attempt on one instance, instead of the connection's timeout. */
  readonly timeout?: Duration.DurationInput
  /** What a timeout's message names as its cause, such as `R_FORECAST_TIMEOUT_SECS=300`. */
  readonly timeoutSetting?: string
}

/** A typed POST to one endpoint: the body is encoded with `request`, the answer decoded with `response`. */
export type Endpoint<Req, Res> = (body: Req, options?: CallOptions) => Effect.Effect<Res, RServiceError>

/** What one instance of a service has done for this client, for tests and run records. */
export interface InstanceStats {
  readonly url: string
  readonly answered: number
  readonly failed: number
}

/** Calls of one R service. */
export interface RServiceClient {
  readonly connection: RServiceConnection
  /** The instances' base URLs, as messages show them. */
  readonly instances: ReadonlyArray<string>
  /** Calls worth having in flight at once: instances × workers per instance. */
  readonly concurrency: number
  /** Answers and failures per instance so far. */
  readonly stats: Effect.Effect<ReadonlyArray<InstanceStats>>
  readonly endpoint: <ReqA, ReqI, ResA, ResI>(
    path: string,
    request: Schema.Schema<ReqA, ReqI>,
    response: Schema.Schema<ResA, ResI>,
    /** The first way a decoded answer contradicts its request (see AnswerCheck), checked before anyone uses it. */
    fits?: (request: ReqA, response: ResA) => string | undefined
  ) => Endpoint<ReqA, ResA>
  /** `GET /health`, decoded. */
  readonly health: <A, I>(schema: Schema.Schema<A, I>) => Effect.Effect<A, RServiceError>
}

const decodeErrorBody = Schema.decodeUnknownOption(Schema.parseJson(ServiceErrorBody))

/** An error's fields, to build a copy with one of them changed. */
const fieldsOf = (error: RServiceError) => ({
  reason: error.reason,
  service: error.service,
  endpoint: error.endpoint,
  detail: error.detail,
  ...(error.status === undefined ? {} : { status: error.status }),
  ...(error.field === undefined ? {} : { field: error.field }),
  ...(error.attempts === undefined ? {} : { attempts: error.attempts })
})

/**
 * Why a request got no answer: the client's description, else its cause's message (`connect ECONNREFUSED
 * 127.0.0.1:8080`, `other side closed`); never the error itself, which holds the request and its headers.
 */
const transportDetail = (error: HttpClientError.HttpClientError): string =>
  error.description ?? (error.cause instanceof Error ? error.cause.message : `the request failed (${error.reason})`)

/** Longest excerpt of a bad answer or of one problem that a message quotes. */
const excerptChars = 120

const excerpt = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= excerptChars ? flat : `${flat.slice(0, excerptChars)}…`
}

/**
 * What was wrong with an answer, in one sentence: not JSON at all (empty, an HTML page, garbage), or JSON whose first
 * problem is at a path (`forecasts.0.p: Expected number, actual "x"`) — never the whole schema, which is kilobytes
 * long — and what to do about it.
 */
/** What to do about an answer the client cannot use. */
const advice = "check that the URL points at this service and that it runs the release this client was built for"

const undecodable = (text: string, error: ParseResult.ParseError): string => {
  if (text.trim().length === 0) return `the body is empty; ${advice}`
  let json = true
  try {
    JSON.parse(text)
  } catch {
    json = false
  }
  if (!json) return `the body is not JSON (it starts "${excerpt(text.slice(0, 200))}"); ${advice}`
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  const where = issue === undefined || issue.path.length === 0 ? "the body" : issue.path.join(".")
  return `${where}: ${excerpt(issue?.message ?? "does not match the expected shape")}; ${advice}`
}

const reasonOfStatus = (status: number): RServiceErrorReason =>
  status === 401 || status === 403
    ? "Unauthorized"
    : status === 502 || status === 503 || status === 504
      ? "Transport"
      : status >= 400 && status < 500
        ? "InvalidRequest"
        : "ModelFailure"

/** One instance of a service as the client sees it; mutated only inside `Effect.sync` (one JS thread). */
interface Instance {
  readonly url: string
  readonly shown: string
  inFlight: number
  /** Epoch ms until which the instance is skipped while another may answer; 0 when it answered last. */
  skipUntil: number
  answered: number
  failed: number
}

/** Whether another instance may answer what this one did not: it refused, was unreachable, or timed out. */
const failsOver = (error: RServiceError): boolean => error.reason === "Transport" || error.reason === "Timeout"

/**
 * The order a call tries instances in: those not being skipped first, the least busy, then the least used (so work
 * spreads evenly); then the skipped ones, the soonest back first — they are still tried when nothing else answers.
 */
const preference =
  (now: number) =>
  (a: Instance, b: Instance): number => {
    const skippedA = a.skipUntil > now ? 1 : 0
    const skippedB = b.skipUntil > now ? 1 : 0
    if (skippedA !== skippedB) return skippedA - skippedB
    if (skippedA === 1 && a.skipUntil !== b.skipUntil) return a.skipUntil - b.skipUntil
    if (a.inFlight !== b.inFlight) return a.inFlight - b.inFlight
    return a.answered + a.failed - (b.answered + b.failed)
  }

/**
 * Build a client for one connection; the HttpClient is resolved here, not per call. A connection whose `url` lists
 * several base URLs (replicas) spreads its calls over them: each call goes to the least busy instance that is not being
 * skipped; an instance that refuses or times out is skipped for `cooldown` and the call goes to the next one; the call
 * fails only when no instance answered, with an error naming each of them.
 */
export const make = (connection: RServiceConnection): Effect.Effect<RServiceClient, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const instances: Array<Instance> = instanceUrls(connection).map((url) => ({
      url,
      shown: shownUrl(url),
      inFlight: 0,
      skipUntil: 0,
      answered: 0,
      failed: 0
    }))
    const cooldownMs = Duration.toMillis(connection.cooldown ?? Duration.seconds(30))
    const concurrency = instances.length * Math.max(1, connection.workersPerInstance ?? 2)

    const failure =
      (endpoint: string) =>
      (
        reason: RServiceErrorReason,
        detail: string,
        extra: { readonly status?: number; readonly field?: string } = {}
      ) =>
        new RServiceError({ reason, service: connection.service, endpoint, detail, ...extra })

    /** One attempt at one instance. */
    const exchange = <A, I>(
      endpoint: string,
      request: HttpClientRequest.HttpClientRequest,
      response: Schema.Schema<A, I>,
      options: CallOptions
    ): Effect.Effect<A, RServiceError> => {
      const fail = failure(endpoint)
      const timeout = options.timeout ?? connection.timeout
      const setting = options.timeoutSetting === undefined ? "" : ` (${options.timeoutSetting})`
      return Effect.gen(function* () {
        const res = yield* http
          .execute(request)
          .pipe(Effect.mapError((error) => fail("Transport", transportDetail(error))))
        const text = yield* res.text.pipe(
          Effect.mapError((error) => fail("Transport", `reading the body failed: ${error.description ?? error.reason}`))
        )
        // the service's own handling time (Server-Timing `r;dur=<ms>`), on the call's span: what is left of the
        // call is transport (encoding, the wire, decoding)
        const serverMs = /(?:^|,)\s*r;dur=([0-9.]+)/.exec(res.headers["server-timing"] ?? "")?.[1]
        if (serverMs !== undefined) yield* Effect.annotateCurrentSpan("r.server_ms", Number(serverMs))
        if (res.status >= 400) {
          const body = decodeErrorBody(text)
          const detail = body._tag === "Some" ? body.value : undefined
          return yield* fail(
            reasonOfStatus(res.status),
            detail?.message ?? (text.slice(0, 500) || `HTTP ${res.status}`),
            {
              status: res.status,
              ...(detail?.field === undefined ? {} : { field: detail.field })
            }
          )
        }
        return yield* Schema.decodeUnknown(Schema.parseJson(response))(text).pipe(
          Effect.mapError((error) => fail("UndecodableResponse", undecodable(text, error), { status: res.status }))
        )
      }).pipe(
        Effect.scoped,
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => fail("Timeout", `no answer within ${Duration.format(timeout)}${setting}`)
        })
      )
    }

    /** One attempt at one instance, counted in its load and its record; a refusal or timeout skips it a while. */
    const onInstance = <A, I>(
      instance: Instance,
      endpoint: string,
      request: (baseUrl: string) => HttpClientRequest.HttpClientRequest,
      response: Schema.Schema<A, I>,
      options: CallOptions
    ) =>
      Effect.acquireUseRelease(
        Effect.sync(() => instance.inFlight++),
        () => exchange(endpoint, request(instance.url), response, options),
        () => Effect.sync(() => instance.inFlight--)
      ).pipe(
        Effect.tap(() =>
          Effect.sync(() => {
            instance.answered++
            instance.skipUntil = 0
          })
        ),
        Effect.tapError((error) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.sync(() => {
              if (!failsOver(error)) return
              instance.failed++
              instance.skipUntil = now + cooldownMs
            })
          )
        ),
        Effect.withSpan("RServiceClient.attempt", { attributes: { "r.instance": instance.shown } })
      )

    /** Every instance at most once, in order of preference, until one answers. */
    const round = <A, I>(
      endpoint: string,
      request: (baseUrl: string) => HttpClientRequest.HttpClientRequest,
      response: Schema.Schema<A, I>,
      options: CallOptions,
      counted: () => void
    ): Effect.Effect<A, RServiceError> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const failures: Array<readonly [Instance, RServiceError]> = []
        for (const instance of [...instances].sort(preference(now))) {
          counted()
          const result = yield* Effect.either(onInstance(instance, endpoint, request, response, options))
          if (Either.isRight(result)) return result.right
          // a rejected request or a model error would fail the same way on any instance
          if (!failsOver(result.left)) return yield* result.left
          failures.push([instance, result.left])
        }
        if (failures.length === 1) return yield* failures[0]![1]
        const each = failures.map(([instance, error]) => {
          const status = error.status === undefined ? "" : ` (HTTP ${error.status})`
          return `${instance.shown}${status}: ${error.detail}`
        })
        return yield* failure(endpoint)(
          failures.some(([, error]) => error.reason === "Transport") ? "Transport" : "Timeout",
          `none of its ${failures.length} instances answered: ${each.join("; ")}`
        )
      })

    /** A call with the connection's retries: rounds over the instances, backing off while none is reachable. */
    const call = <A, I>(
      endpoint: string,
      request: (baseUrl: string) => HttpClientRequest.HttpClientRequest,
      response: Schema.Schema<A, I>,
      options: CallOptions
    ): Effect.Effect<A, RServiceError> =>
      // counted per call, so that the error a caller finally sees says how hard the client tried
      Effect.suspend(() => {
        let attempts = 0
        return round(endpoint, request, response, options, () => attempts++).pipe(
          Effect.retry({
            schedule: Schedule.exponential(connection.retryBase, 2),
            times: connection.retries,
            while: (error) => error.isTransient
          }),
          Effect.mapError((error) => (attempts < 2 ? error : new RServiceError({ ...fieldsOf(error), attempts })))
        )
      }).pipe(
        Effect.withSpan("RServiceClient.call", {
          attributes: { "r.service": connection.service, "r.endpoint": endpoint }
        })
      )

    const withToken = HttpClientRequest.setHeader("X-Internal-Token", Redacted.value(connection.token))

    const endpoint = <ReqA, ReqI, ResA, ResI>(
      path: string,
      request: Schema.Schema<ReqA, ReqI>,
      response: Schema.Schema<ResA, ResI>,
      fits?: (request: ReqA, response: ResA) => string | undefined
    ): Endpoint<ReqA, ResA> => {
      const encode = HttpClientRequest.schemaBodyJson(request)
      return (body, options = {}) =>
        // encoded once; each attempt only points the request at its instance
        encode(HttpClientRequest.post(path).pipe(withToken, HttpClientRequest.acceptJson), body).pipe(
          Effect.mapError((error) =>
            failure(path)(
              "InvalidRequest",
              error.reason._tag === "SchemaError"
                ? ParseResult.TreeFormatter.formatErrorSync(error.reason.error)
                : "the body could not be serialised as JSON"
            )
          ),
          Effect.flatMap((req) =>
            call(path, (baseUrl) => HttpClientRequest.setUrl(req, `${baseUrl}${path}`), response, options)
          ),
          // a well-formed answer about users that were never sent would otherwise reach the sinks; asking again
          // would get the same answer, so this is not retried
          Effect.filterOrFail(
            (answer) => fits?.(body, answer) === undefined,
            (answer) => failure(path)("InconsistentAnswer", `${fits?.(body, answer)}; ${advice}`)
          )
        )
    }

    const health = <A, I>(schema: Schema.Schema<A, I>) =>
      call("/health", (baseUrl) => HttpClientRequest.get(`${baseUrl}/health`), schema, {})

    const stats = Effect.sync(() => instances.map(({ answered, failed, shown }) => ({ url: shown, answered, failed })))

    return { connection, instances: instances.map((i) => i.shown), concurrency, stats, endpoint, health }
  })
