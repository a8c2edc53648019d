import type { SqlClient } from "@effect/sql/SqlClient"
import { Cron } from "croner"
import { Cause, Clock, Context, Duration, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { describe } from "./Errors.ts"
import type * as Pipeline from "./Pipeline.ts"
import type { Registry } from "./Registry.ts"
import type { RunStore } from "./RunStore.ts"
import * as Runner from "./Runner.ts"
import { type Slot, SlotStore } from "./SlotStore.ts"

/** A pipeline on a schedule: cron in a time zone, run parameters, on or off. */
export interface ScheduledPipeline {
  readonly pipeline: string
  readonly cron: string
  readonly timezone: string
  readonly params: Readonly<Record<string, string>>
  readonly enabled: boolean
}

/** How the scheduler behaves; `defaults` are what the CLI uses. */
export interface SchedulerOptions {
  /** This replica's name, stored on the slots it claims. */
  readonly owner: string
  /** How often to look for work besides fire times (retries, other replicas' completions, dead processes). */
  readonly pollInterval: Duration.DurationInput
  /** How often a running slot says it is alive. */
  readonly heartbeat: Duration.DurationInput
  /** A running slot without a heartbeat for this long belongs to a dead process: it is failed and retried. */
  readonly staleAfter: Duration.DurationInput
  /** Attempts per slot (first run + retries). */
  readonly maxAttempts: number
  /** Backoff before the first retry, doubled for each further one. */
  readonly retryBase: Duration.DurationInput
  /** How far back a starting scheduler looks for slots missed while no scheduler ran. */
  readonly catchUpWindow: Duration.DurationInput
  /** On SIGTERM, how long the current run may take to finish before it is interrupted (and rolled back). */
  readonly grace: Duration.DurationInput
}

/** The CLI's defaults. */
export const defaults: Omit<SchedulerOptions, "owner"> = {
  pollInterval: Duration.seconds(15),
  heartbeat: Duration.seconds(10),
  staleAfter: Duration.minutes(2),
  maxAttempts: 3,
  retryBase: Duration.minutes(2),
  catchUpWindow: Duration.days(7),
  grace: Duration.minutes(5)
}

/** A decision of the scheduler, one log line each. */
export type SchedulerEvent =
  | { readonly _tag: "Started"; readonly owner: string; readonly pipelines: number }
  | { readonly _tag: "Due"; readonly pipeline: string; readonly slot: Date }
  | { readonly _tag: "Missed"; readonly pipeline: string; readonly slots: ReadonlyArray<Date> }
  | { readonly _tag: "Waiting"; readonly pipeline: string; readonly slot: Date; readonly upstream: ReadonlyArray<string> }
  | { readonly _tag: "Claimed"; readonly pipeline: string; readonly slot: Date; readonly attempt: number; readonly runId: string }
  | {
    readonly _tag: "Done"
    readonly pipeline: string
    readonly slot: Date
    readonly runId: string
    readonly status: "succeeded" | "failed"
    readonly detail: string | null
    readonly retryAt: Date | null
  }
  | { readonly _tag: "Skipped"; readonly pipeline: string; readonly slot: Date; readonly detail: string }
  | { readonly _tag: "Stale"; readonly pipeline: string; readonly slot: Date; readonly owner: string | null }
  | { readonly _tag: "Idle"; readonly until: Date }
  | { readonly _tag: "Stopping"; readonly waitingFor: string | null }
  /** The scheduler's own bookkeeping failed (typically the database went away); it tries again at `retryAt`. */
  | { readonly _tag: "Trouble"; readonly detail: string; readonly failures: number; readonly retryAt: Date }

/** Receives scheduler decisions (the CLI logs them). The default drops them. */
export class SchedulerObserver extends Context.Reference<SchedulerObserver>()("@seedtest/engine/SchedulerObserver", {
  defaultValue: () => ({ onEvent: (_event: SchedulerEvent): Effect.Effect<void> => Effect.void })
}) {}

/** Fire times of a schedule in (after, until]. */
export const fireTimes = (entry: ScheduledPipeline, after: Date, until: Date): ReadonlyArray<Date> => {
  const cron = new Cron(entry.cron, { timezone: entry.timezone, paused: true })
  const result: Array<Date> = []
  let next = cron.nextRun(after)
  while (next !== null && next.getTime() <= until.getTime()) {
    result.push(next)
    next = cron.nextRun(next)
  }
  return result
}

/** The next fire time after `after`. */
export const nextFire = (entry: ScheduledPipeline, after: Date): Date | null =>
  new Cron(entry.cron, { timezone: entry.timezone, paused: true }).nextRun(after)

/** The calendar date of an instant in a time zone, `YYYY-MM-DD`. */
export const localDate = (instant: Date, timezone: string): string =>
  new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(instant)

/**
 * The period a slot belongs to: its calendar day in its schedule's time zone. Upstream pipelines due in the same
 * period must be done before a downstream slot runs, whatever their clock times.
 */
export const periodOf = (instant: Date, timezone: string): { readonly start: Date; readonly end: Date } => {
  const day = localDate(instant, timezone)
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
  return { start: new Date(localMidnight(day, timezone)), end: new Date(localMidnight(next, timezone)) }
}

// how far a zone's wall clock is ahead of UTC at instant t
const wallClockOffset = (t: number, timezone: string): number =>
  Date.parse(`${new Date(t).toLocaleString("sv-SE", { timeZone: timezone }).replace(" ", "T")}Z`) - t

// the instant at which a local date begins (two steps settle the offset across a DST change)
const localMidnight = (day: string, timezone: string): number => {
  const asUtc = Date.parse(`${day}T00:00:00Z`)
  const first = asUtc - wallClockOffset(asUtc, timezone)
  return asUtc - wallClockOffset(first, timezone)
}

/**
 * The fires of the scheduled pipelines `pipeline` reads from that fall in the same period (local day) as `slot`:
 * what a slot waits for before it runs.
 */
export const sameDayUpstreamFires = (
  registry: Registry,
  schedule: ReadonlyArray<ScheduledPipeline>,
  pipeline: string,
  slot: Date
): ReadonlyArray<{ readonly pipeline: string; readonly fire: Date }> => {
  const entry = schedule.find((e) => e.pipeline === pipeline && e.enabled)
  if (entry === undefined) return []
  const period = periodOf(slot, entry.timezone)
  return registry.edges.filter((e) => e.to === pipeline).flatMap((edge) => {
    const upstream = schedule.find((e) => e.pipeline === edge.from && e.enabled)
    return upstream === undefined
      ? []
      : fireTimes(upstream, new Date(period.start.getTime() - 1), new Date(period.end.getTime() - 1))
        .map((fire) => ({ pipeline: edge.from, fire }))
  })
}

/** The parameters a scheduled run gets: the entry's, plus `asOf` = the slot's local date when the pipeline takes one. */
export const slotParams = (pipeline: Pipeline.Any, entry: ScheduledPipeline, slot: Date): Record<string, string> =>
  "asOf" in (pipeline.params as object) && !("asOf" in entry.params)
    ? { ...entry.params, asOf: localDate(slot, entry.timezone) }
    : { ...entry.params }

const toMillis = (d: Duration.DurationInput) => Duration.toMillis(Duration.decode(d))

/**
 * The scheduler daemon: registers due slots, runs each claimed slot once its upstream pipelines are done for the
 * same period, retries failures with backoff, fails slots of dead processes, and on interruption (SIGTERM) stops
 * taking work and lets the current run finish within the grace period.
 */
export const run = (
  registry: Registry,
  schedule: ReadonlyArray<ScheduledPipeline>,
  options: SchedulerOptions
) =>
  Effect.gen(function*() {
    const slots = yield* SlotStore
    const observer = yield* SchedulerObserver
    const emit = observer.onEvent
    const enabled = schedule.filter((e) => e.enabled)
    const entryOf = new Map(enabled.map((e) => [e.pipeline, e] as const))
    const rank = new Map(registry.order.map((name, i) => [name, i] as const))
    const nowDate = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

    yield* emit({ _tag: "Started", owner: options.owner, pipelines: enabled.length })

    // catch-up: from the latest recorded slot (bounded by the window), the newest missed fire runs, older ones are
    // recorded as skipped; a pipeline never scheduled before starts from now
    const start = yield* nowDate
    const scannedUntil = new Map<string, Date>()
    for (const entry of enabled) {
      const latest = yield* slots.latest(entry.pipeline)
      const windowStart = new Date(start.getTime() - toMillis(options.catchUpWindow))
      const from = Option.match(latest, {
        onNone: () => start,
        onSome: ({ slot }) => (slot.getTime() < windowStart.getTime() ? windowStart : slot)
      })
      const missed = fireTimes(entry, from, start)
      if (missed.length > 1) {
        yield* slots.register(
          missed.slice(0, -1).map((slot) => ({
            pipeline: entry.pipeline,
            slot,
            status: "skipped" as const,
            detail: "missed while no scheduler was running (catch-up runs only the latest); use backfill to run it"
          })),
          start
        )
        yield* emit({ _tag: "Missed", pipeline: entry.pipeline, slots: missed.slice(0, -1) })
      }
      if (missed.length > 0) {
        yield* slots.register([{ pipeline: entry.pipeline, slot: missed[missed.length - 1]!, status: "pending", detail: null }], start)
      }
      scannedUntil.set(entry.pipeline, start)
    }

    const registerDue = (now: Date) =>
      Effect.forEach(enabled, (entry) =>
        Effect.gen(function*() {
          const due = fireTimes(entry, scannedUntil.get(entry.pipeline)!, now)
          scannedUntil.set(entry.pipeline, now)
          if (due.length === 0) return
          yield* slots.register(due.map((slot) => ({ pipeline: entry.pipeline, slot, status: "pending" as const, detail: null })), now)
          for (const slot of due) yield* emit({ _tag: "Due", pipeline: entry.pipeline, slot })
        }), { discard: true })

    /** Upstream pipelines that must finish this period first; `blocked` names one that gave up. */
    const upstreamState = (pipeline: string, slot: Date) =>
      Effect.gen(function*() {
        const period = periodOf(slot, entryOf.get(pipeline)!.timezone)
        const waiting: Array<string> = []
        const rowsOf = new Map<string, ReadonlyArray<Slot>>() // one read per upstream pipeline, however many fires
        for (const { fire, pipeline: upstream } of sameDayUpstreamFires(registry, enabled, pipeline, slot)) {
          const rows = rowsOf.get(upstream) ?? (yield* slots.inRange(upstream, period.start, period.end))
          rowsOf.set(upstream, rows)
          const row = rows.find((r) => r.slot.getTime() === fire.getTime())
          if (row === undefined || row.status === "pending" || row.status === "running") {
            waiting.push(upstream)
          } else if (row.status === "failed") {
            if (row.attempts >= options.maxAttempts) return { waiting: [], blocked: upstream }
            waiting.push(upstream)
          }
        }
        return { waiting: [...new Set(waiting)], blocked: null as string | null }
      })

    const runSlot = (pipeline: Pipeline.Any, slot: Date, runId: string, attempt: number) => {
      const key = { pipeline: pipeline.name, slot }
      const entry = entryOf.get(pipeline.name)!
      // runs even when the run is interrupted at the end of a grace period: the slot becomes retryable
      const finish = (exit: Exit.Exit<unknown, unknown>) =>
        Effect.gen(function*() {
          const now = yield* nowDate
          const failed = Exit.isFailure(exit)
          const retryAt = failed && attempt < options.maxAttempts
            ? new Date(now.getTime() + toMillis(options.retryBase) * 2 ** (attempt - 1))
            : null
          const reason = Exit.isFailure(exit)
            ? Cause.isInterruptedOnly(exit.cause)
              ? "interrupted (the scheduler stopped before it finished; nothing was committed)"
              : describe(Option.getOrElse(Cause.failureOption(exit.cause), () => Cause.squash(exit.cause)))
            : null
          const detail = failed && retryAt === null ? `${reason} (gave up after ${attempt} attempts)` : reason
          yield* slots.finish(key, { owner: options.owner, status: failed ? "failed" : "succeeded", now, detail, nextAttemptAt: retryAt })
          yield* emit({ _tag: "Done", pipeline: pipeline.name, slot, runId, status: failed ? "failed" : "succeeded", detail, retryAt })
        }).pipe(Effect.ignore)
      return Effect.gen(function*() {
        yield* Effect.flatMap(nowDate, (now) => slots.heartbeat(key, options.owner, now)).pipe(
          Effect.ignore,
          Effect.repeat(Schedule.spaced(options.heartbeat)),
          Effect.delay(options.heartbeat),
          Effect.forkScoped
        )
        yield* Runner.run(pipeline, {
          params: slotParams(pipeline, entry, slot),
          trigger: "schedule",
          slot: slot.toISOString(),
          runId,
          heartbeat: options.heartbeat
        })
      }).pipe(Effect.scoped, Effect.asVoid, Effect.onExit(finish), Effect.ignore)
    }

    // the run in progress, so that an interruption of the daemon can wait for it
    let current: { readonly fiber: Fiber.RuntimeFiber<void, unknown>; readonly name: string } | null = null

    /** Runs every slot that can run now, one at a time, re-reading after each run. */
    const drain = (now0: Date): Effect.Effect<void, unknown, any> =>
      Effect.gen(function*() {
        let now = now0
        for (;;) {
          const open = [...(yield* slots.open(now, options.maxAttempts))]
            .filter((s) => entryOf.has(s.pipeline))
            .sort((a, b) => a.slot.getTime() - b.slot.getTime() || rank.get(a.pipeline)! - rank.get(b.pipeline)!)
          let ran = false
          for (const candidate of open) {
            const state = yield* upstreamState(candidate.pipeline, candidate.slot)
            const key = { pipeline: candidate.pipeline, slot: candidate.slot }
            if (state.blocked !== null) {
              const detail = `upstream ${state.blocked} failed for this period; run it, then \`seedtest run ${candidate.pipeline}\``
              yield* slots.finish(key, { owner: options.owner, status: "skipped", now, detail, nextAttemptAt: null })
              yield* emit({ _tag: "Skipped", pipeline: candidate.pipeline, slot: candidate.slot, detail })
              continue
            }
            if (state.waiting.length > 0) {
              yield* emit({ _tag: "Waiting", pipeline: candidate.pipeline, slot: candidate.slot, upstream: state.waiting })
              continue
            }
            const runId = Runner.makeRunId(now)
            const attempt = yield* slots.claim(key, { owner: options.owner, runId, now, maxAttempts: options.maxAttempts })
            if (attempt === undefined) continue // another replica took it
            yield* emit({ _tag: "Claimed", pipeline: candidate.pipeline, slot: candidate.slot, attempt, runId })
            const pipeline = yield* registry.get(candidate.pipeline)
            const fiber = yield* Effect.forkDaemon(runSlot(pipeline, candidate.slot, runId, attempt))
            current = { fiber, name: candidate.pipeline }
            yield* Fiber.join(fiber)
            current = null
            ran = true
            break
          }
          if (!ran) return
          now = yield* nowDate
          yield* registerDue(now)
        }
      })

    // one pass: fail stale slots, register what is due, run what can run, then sleep until the next reason to wake
    const pass = Effect.gen(function*() {
      const now = yield* nowDate
      const stale = yield* slots.failStale(
        new Date(now.getTime() - toMillis(options.staleAfter)),
        now,
        new Date(now.getTime() + toMillis(options.retryBase))
      )
      for (const s of stale) yield* emit({ _tag: "Stale", pipeline: s.pipeline, slot: s.slot, owner: s.owner })
      yield* registerDue(now)
      yield* drain(now)
      const after = yield* nowDate
      const fires = enabled.map((e) => nextFire(e, after)).filter((d): d is Date => d !== null).map((d) => d.getTime())
      const retry = yield* slots.nextRetry(options.maxAttempts)
      const until = Math.max(after.getTime() + 1, Math.min(
        after.getTime() + toMillis(options.pollInterval),
        ...fires,
        ...Option.match(retry, { onNone: () => [], onSome: (r) => [r.at.getTime()] })
      ))
      yield* emit({ _tag: "Idle", until: new Date(until) })
      yield* Effect.sleep(Duration.millis(until - after.getTime()))
    })

    // a daemon outlives a database that goes away: a failed pass is reported and tried again, 5 s after the first
    // failure, doubling up to a minute; slots are claimed in the database, so nothing runs twice meanwhile
    const loop = Effect.gen(function*() {
      let failures = 0
      for (;;) {
        const outcome = yield* Effect.either(pass)
        if (outcome._tag === "Right") {
          failures = 0
          continue
        }
        failures++
        const wait = Math.min(60_000, 5_000 * 2 ** (failures - 1))
        const now = yield* nowDate
        yield* emit({ _tag: "Trouble", detail: describe(outcome.left), failures, retryAt: new Date(now.getTime() + wait) })
        yield* Effect.sleep(Duration.millis(wait))
      }
    })

    return yield* loop.pipe(
      Effect.onInterrupt(() =>
        Effect.gen(function*() {
          const running = current
          yield* emit({ _tag: "Stopping", waitingFor: running?.name ?? null })
          if (running === null) return
          // finalizers are uninterruptible; the wait itself must be, or the grace timeout could not cut it short
          const finished = yield* Fiber.await(running.fiber).pipe(Effect.interruptible, Effect.timeout(options.grace), Effect.option)
          if (Option.isNone(finished)) yield* Fiber.interrupt(running.fiber)
        })
      )
    )
  }) as Effect.Effect<never, unknown, SlotStore | SqlClient | RunStore | Pipeline.Requirements<Pipeline.Any>>
