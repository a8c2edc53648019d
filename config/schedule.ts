import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Cron } from "croner"
import { Config, Data, Effect, Either, ParseResult, Schema } from "effect"

/** One scheduled pipeline: when it fires (cron, in its time zone), with which parameters, and whether it is on. */
export class ScheduleEntry extends Schema.Class<ScheduleEntry>("ScheduleEntry")({
  pipeline: Schema.String,
  cron: Schema.String,
  timezone: Schema.optionalWith(Schema.String, { default: () => "UTC" }),
  params: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { default: () => ({}) }),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true })
}) {}

const ScheduleFile = Schema.Struct({ schedules: Schema.Array(Schema.Unknown) })

/** A schedule file that cannot be used, naming the entry at fault. */
export class ScheduleFileError extends Data.TaggedError("ScheduleFileError")<{
  readonly reason: "Unreadable" | "Malformed" | "InvalidEntry"
  readonly file: string
  readonly entry: string | undefined
  readonly detail: string
}> {
  override get message(): string {
    const where = this.entry === undefined ? this.file : `${this.file}, entry ${this.entry}`
    return `The schedule file is not usable (${where}): ${this.detail}`
  }
}

const here = path.dirname(fileURLToPath(import.meta.url))

/** The schedule shipped with the project: the default schedules of mission.md (from the sources or the bundle). */
export const defaultFile =
  [path.join(here, "schedule.json"), path.join(here, "..", "config", "schedule.json")].find((f) => fs.existsSync(f)) ??
  path.join(here, "schedule.json")

/** `SEEDTEST_SCHEDULE_FILE`, else the shipped schedule. */
export const scheduleFile = Config.string("SEEDTEST_SCHEDULE_FILE").pipe(Config.withDefault(defaultFile))

/** The keys an entry may have. */
const entryKeys = Object.keys(ScheduleEntry.fields)

/** `unknown key "enabeld"` (with the nearest known key when one is close), or undefined when every key is known. */
const unknownKeys = (value: unknown, known: ReadonlyArray<string>): string | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const unknown = Object.keys(value).filter((k) => !known.includes(k))
  if (unknown.length === 0) return undefined
  return unknown
    .map((key) => {
      const near = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2)
      return `unknown key "${key}"${near === undefined ? "" : ` (did you mean "${near}"?)`}`
    })
    .join(", ")
}

/** Levenshtein distance, for "did you mean". */
const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** The first problem of a decoding failure in one line: where (`params.lookbackDays`) and what. */
const firstProblem = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (issue === undefined) return "invalid"
  return issue.path.length === 0 ? issue.message : `"${issue.path.join(".")}": ${issue.message}`
}

const validTimezone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/**
 * Validates a parsed schedule document: every entry decodes, its cron expression and time zone are valid, its
 * pipeline is known, and no pipeline is listed twice.
 */
export const parse = (
  file: string,
  document: unknown,
  knownPipelines: ReadonlyArray<string>
): Either.Either<ReadonlyArray<ScheduleEntry>, ScheduleFileError> => {
  const fail = (reason: ScheduleFileError["reason"], entry: string | undefined, detail: string) =>
    Either.left(new ScheduleFileError({ reason, file, entry, detail }))
  const top = Schema.decodeUnknownEither(ScheduleFile)(document)
  if (Either.isLeft(top)) return fail("Malformed", undefined, `expected { "schedules": [ … ] }`)
  // a misspelt key is a mistake, never ignored: `"enabeld": false` would otherwise leave the entry running
  const topUnknown = unknownKeys(document, ["schedules"])
  if (topUnknown !== undefined) return fail("Malformed", undefined, `${topUnknown}; the file has only "schedules"`)
  const entries: Array<ScheduleEntry> = []
  for (const [i, raw] of top.right.schedules.entries()) {
    const label =
      typeof raw === "object" && raw !== null && "pipeline" in raw ? `#${i + 1} (${String(raw.pipeline)})` : `#${i + 1}`
    const unknown = unknownKeys(raw, entryKeys)
    if (unknown !== undefined)
      return fail("InvalidEntry", label, `${unknown}; an entry has ${entryKeys.map((k) => `"${k}"`).join(", ")}`)
    const decoded = Schema.decodeUnknownEither(ScheduleEntry)(raw)
    if (Either.isLeft(decoded)) return fail("InvalidEntry", label, firstProblem(decoded.left))
    const entry = decoded.right
    if (!knownPipelines.includes(entry.pipeline)) {
      return fail("InvalidEntry", label, `unknown pipeline "${entry.pipeline}"; known: ${knownPipelines.join(", ")}`)
    }
    if (!validTimezone(entry.timezone)) return fail("InvalidEntry", label, `unknown time zone "${entry.timezone}"`)
    try {
      new Cron(entry.cron, { timezone: entry.timezone, paused: true })
    } catch (e) {
      return fail("InvalidEntry", label, `bad cron expression "${entry.cron}": ${(e as Error).message}`)
    }
    if (entries.some((e) => e.pipeline === entry.pipeline)) {
      return fail("InvalidEntry", label, `"${entry.pipeline}" is scheduled twice; one entry per pipeline`)
    }
    entries.push(entry)
  }
  return Either.right(entries)
}

/**
 * Entries that are valid but probably not what was meant: a six-field cron expression (croner reads the first field
 * as seconds, so "0 10 2 * * *" fires at 02:10:00, and "10 2 * * * *" every hour at :02:10), or one that never fires
 * (`0 0 30 2 *`: February has no 30th). One line each, naming the entry.
 */
export const warnings = (entries: ReadonlyArray<ScheduleEntry>): ReadonlyArray<string> =>
  entries.flatMap((entry, i) => {
    const label = `schedule entry #${i + 1} (${entry.pipeline})`
    const found: Array<string> = []
    if (entry.cron.trim().split(/\s+/).length === 6) {
      found.push(
        `${label}: cron "${entry.cron}" has six fields; the first is read as seconds (five fields: minute hour day month weekday)`
      )
    }
    if (new Cron(entry.cron, { timezone: entry.timezone, paused: true }).nextRun() === null) {
      found.push(`${label}: cron "${entry.cron}" never fires (no such date)`)
    }
    return found
  })

/** Reads and validates a schedule file. */
export const load = (file: string, knownPipelines: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const text = yield* Effect.try({
      try: () => fs.readFileSync(file, "utf8"),
      catch: (e) =>
        new ScheduleFileError({ reason: "Unreadable", file, entry: undefined, detail: (e as Error).message })
    })
    const document = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (e) =>
        new ScheduleFileError({
          reason: "Malformed",
          file,
          entry: undefined,
          detail: `not JSON: ${(e as Error).message}`
        })
    })
    return yield* parse(file, document, knownPipelines)
  })
