import { Config, Effect, Either, Option, ParseResult, Schema } from "effect"
import * as Calendar from "./Calendar.ts"
import { ParamError } from "./Errors.ts"

/**
 * One run parameter of a pipeline: its environment variable (the settings users already have), its default, and
 * how a string (from the environment or `--param key=value`) decodes to its value.
 */
export interface Param<A> {
  readonly env: string | undefined
  readonly description: string
  readonly schema: Schema.Schema<A, string>
  readonly default: A
  /** Shown as the default in `--help` and `list`. */
  readonly show: (value: A) => string
}

/** A record of parameters, keyed by their name in `--param name=value`. */
export type Fields = Record<string, Param<any>>

/** The decoded values of a record of parameters. */
export type Values<F extends Fields> = { readonly [K in keyof F]: F[K] extends Param<infer A> ? A : never }

interface Options<A> {
  readonly env?: string
  readonly description: string
  readonly default: A
}

const make = <A>(schema: Schema.Schema<A, string>, options: Options<A>, show: (value: A) => string): Param<A> => ({
  env: options.env,
  description: options.description,
  schema,
  default: options.default,
  show
})

/** An integer parameter, within `min`..`max` when given. */
export const int = (options: Options<number> & { readonly min?: number; readonly max?: number }): Param<number> =>
  make(
    Schema.NumberFromString.pipe(
      Schema.int(),
      Schema.greaterThanOrEqualTo(options.min ?? Number.MIN_SAFE_INTEGER),
      Schema.lessThanOrEqualTo(options.max ?? Number.MAX_SAFE_INTEGER)
    ),
    options,
    String
  )

/** A number parameter within a range. */
export const number = (options: Options<number> & { readonly min?: number; readonly max?: number }): Param<number> =>
  make(
    Schema.NumberFromString.pipe(
      Schema.finite(),
      Schema.between(options.min ?? -Number.MAX_VALUE, options.max ?? Number.MAX_VALUE)
    ),
    options,
    String
  )

const BooleanFromString = Schema.transformOrFail(Schema.String, Schema.Boolean, {
  strict: true,
  decode: (s, _, ast) => {
    const v = s.trim().toLowerCase()
    if (["true", "1", "yes", "on"].includes(v)) return ParseResult.succeed(true)
    if (["false", "0", "no", "off"].includes(v)) return ParseResult.succeed(false)
    return ParseResult.fail(new ParseResult.Type(ast, s, `expected true or false, got "${s}"`))
  },
  encode: (b) => ParseResult.succeed(String(b))
})

/** A true/false parameter (`true|false|1|0|yes|no`). */
export const boolean = (options: Options<boolean>): Param<boolean> => make(BooleanFromString, options, String)

/** A free-text parameter. */
export const string = (options: Options<string>): Param<string> =>
  make(Schema.String, options, (s) => JSON.stringify(s))

/** One of a fixed set of words. */
export const literal = <const L extends ReadonlyArray<string>>(
  values: L,
  options: Options<L[number]>
): Param<L[number]> =>
  make(
    // one message naming every choice (a union of literals reports only the last one it tried)
    Schema.String.pipe(
      Schema.filter(
        (s) => values.includes(s) || `expected one of ${values.map((v) => `"${v}"`).join(", ")}, got "${s}"`
      )
    ) as unknown as Schema.Schema<L[number], string>,
    options,
    String
  )

/** An optional integer: the empty string means "not set" (e.g. `CLUSTER_N_CLUSTERS=""` = choose automatically). */
export const optionalInt = (
  options: Options<Option.Option<number>> & { readonly min?: number }
): Param<Option.Option<number>> =>
  make(
    Schema.transformOrFail(Schema.String, Schema.OptionFromSelf(Schema.Number), {
      strict: true,
      decode: (s, _, ast) => {
        if (s.trim() === "") return ParseResult.succeed(Option.none())
        const n = Number(s)
        return Number.isInteger(n) && n >= (options.min ?? Number.MIN_SAFE_INTEGER)
          ? ParseResult.succeed(Option.some(n))
          : ParseResult.fail(
              new ParseResult.Type(
                ast,
                s,
                `expected an integer${options.min === undefined ? "" : ` ≥ ${options.min}`} or empty, got "${s}"`
              )
            )
      },
      encode: (o) => ParseResult.succeed(Option.match(o, { onNone: () => "", onSome: String }))
    }),
    options,
    (o) => Option.match(o, { onNone: () => '"" (automatic)', onSome: String })
  )

/**
 * A calendar date `YYYY-MM-DD`, kept as that string and checked strictly (2026-02-31 is an error, not March 3rd).
 * With `emptyIsToday`, the empty string is today's date (UTC, from effect's `Clock`) when the run's parameters are
 * resolved, so the run record names the real day.
 */
export const date = (options: Options<string> & { readonly emptyIsToday?: boolean }): Param<string> =>
  make(
    options.emptyIsToday === true
      ? Schema.transformOrFail(Schema.String, Schema.String, {
          strict: true,
          decode: (s) => (s.trim() === "" ? Calendar.today() : ParseResult.decodeUnknown(Calendar.IsoDate)(s)),
          encode: ParseResult.succeed
        })
      : Calendar.IsoDate,
    options,
    options.emptyIsToday === true ? (value) => (value === "" ? '"" (today)' : value) : String
  )

const invalidValue =
  (pipeline: string, key: string, raw: string, origin: string) =>
  (issue: ParseResult.ParseError): ParamError => {
    // the tree's last line is its innermost message ("February 2026 has 28 days")
    const message = ParseResult.TreeFormatter.formatErrorSync(issue).split("\n").pop()?.trim() ?? "invalid"
    return new ParamError({ reason: "InvalidValue", pipeline, param: key, detail: `${origin} "${raw}": ${message}` })
  }

// checks without running anything (a schedule file); "today" then reads the live clock, which only its validity needs
const decodeParam = <A>(pipeline: string, key: string, param: Param<A>, raw: string, origin: string) =>
  Either.mapLeft(Schema.decodeEither(param.schema)(raw), invalidValue(pipeline, key, raw, origin))

// resolves for a run: a default of "today" is decoded in the running fiber, so it reads its Clock (TestClock in tests)
const decodeParamEffect = <A>(pipeline: string, key: string, param: Param<A>, raw: string, origin: string) =>
  Effect.mapError(Schema.decode(param.schema)(raw), invalidValue(pipeline, key, raw, origin))

/** Every override names a parameter of the pipeline, or the first that does not, with the known ones. */
const knownNames = (
  pipeline: string,
  fields: Fields,
  overrides: Readonly<Record<string, string>>
): Either.Either<void, ParamError> => {
  const key = Object.keys(overrides).find((k) => !(k in fields))
  if (key === undefined) return Either.void
  const known = Object.keys(fields)
  return Either.left(
    new ParamError({
      reason: "UnknownParam",
      pipeline,
      param: key,
      detail: known.length === 0 ? "It takes no parameters." : `Known parameters: ${known.join(", ")}.`
    })
  )
}

/**
 * Checks parameter values given somewhere other than `--param` (a schedule file entry) without running anything:
 * every name is a parameter of the pipeline and every value decodes. `origin` says where the value came from.
 */
export const check = (
  pipeline: string,
  fields: Fields,
  values: Readonly<Record<string, string>>,
  origin: string
): Either.Either<void, ParamError> =>
  Either.flatMap(knownNames(pipeline, fields, values), () => {
    for (const [key, raw] of Object.entries(values)) {
      const decoded = decodeParam(pipeline, key, fields[key]!, raw, origin)
      if (Either.isLeft(decoded)) return Either.left(decoded.left)
    }
    return Either.void
  })

/**
 * Resolves a pipeline's parameters: `--param` overrides first, then the environment variable (through Config, so a
 * library user's ConfigProvider applies), then the default. Unknown override names are an error naming the known
 * ones.
 */
export const resolve = <F extends Fields>(
  pipeline: string,
  fields: F,
  overrides: Readonly<Record<string, string>>
): Effect.Effect<Values<F>, ParamError> =>
  Effect.gen(function* () {
    yield* knownNames(pipeline, fields, overrides)
    const values: Record<string, unknown> = {}
    for (const [key, param] of Object.entries(fields)) {
      const override = overrides[key]
      if (override !== undefined) {
        values[key] = yield* decodeParamEffect(pipeline, key, param, override, "--param value")
        continue
      }
      const fromEnv =
        param.env === undefined
          ? Option.none<string>()
          : yield* Config.option(Config.string(param.env)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
      // a default goes through the same decoding as a user's value, so a default like "" (= today) is resolved too
      values[key] = Option.isSome(fromEnv)
        ? yield* decodeParamEffect(pipeline, key, param, fromEnv.value, `environment variable ${param.env}`)
        : yield* Either.match(Schema.encodeEither(param.schema)(param.default), {
            onLeft: () => Effect.succeed(param.default),
            onRight: (raw) => decodeParamEffect(pipeline, key, param, raw, "default")
          })
    }
    return values as Values<F>
  })

/** The values of a parameter record encoded back to strings (for run records and `runs show`). */
export const encode = <F extends Fields>(fields: F, values: Values<F>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(fields).map(([key, param]) => [
      key,
      Either.getOrElse(Schema.encodeEither(param.schema)((values as Record<string, unknown>)[key]), () => "?")
    ])
  )
