import type { SqlClient } from "@effect/sql/SqlClient"
import { Clock, Duration, Effect, Fiber, Option, Ref, Schedule } from "effect"
import { catchUp } from "./CatchUp.ts"
import { describe } from "./Errors.ts"
import type * as Pipeline from "./Pipeline.ts"
import type { Registry } from "./Registry.ts"
import * as Runner from "./Runner.ts"
import type { RunStore } from "./RunStore.ts"
import { fireTimes, nextFire, periodOf, type ScheduledPipeline, sameDayUpstreamFires } from "./ScheduledPipeline.ts"
import { SchedulerObserver } from "./SchedulerEvent.ts"
import { runSlot } from "./SlotRun.ts"
import { type Slot, SlotStore } from "./SlotStore.ts"

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

/**
 * How long the daemon waits after a pass of its own failed (typically the database went away): 5 s after the first
 * failure, doubling up to a minute, for as long as it takes. Its output is the wait.
 */
export const troubleBackoff: Schedule.Schedule<Duration.Duration> = Schedule.exponential(Duration.seconds(5)).pipe(
  Schedule.union(Schedule.spaced(Duration.minutes(1))),
  Schedule.delays
)

const toMillis = (d: Duration.DurationInput) => Duration.toMillis(Duration.decode(d))

const nowDate = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

/** The run a replica is waiting for, so that an interruption of the daemon can let it finish. */
interface Running {
  readonly fiber: Fiber.RuntimeFiber<void, unknown>
  readonly name: string
}

/**
 * The scheduler daemon: registers due slots, runs each claimed slot once its upstream pipelines are done for the
 * same period, retries failures with backoff, fails slots of dead processes, and on interruption (SIGTERM) stops
 * taking work and lets the current run finish within the grace period.
 */
export const run = (registry: Registry, schedule: ReadonlyArray<ScheduledPipeline>, options: SchedulerOptions) =>
  Effect.gen(function* () {
    const slots = yield* SlotStore
    const emit = (yield* SchedulerObserver).onEvent
    const enabled = schedule.filter((e) => e.enabled)
    const entryOf = new Map(enabled.map((e) => [e.pipeline, e] as const))
    const rank = new Map(registry.order.map((name, i) => [name, i] as const))

    yield* emit({ _tag: "Started", owner: options.owner, pipelines: enabled.length })

    const start = yield* nowDate
    yield* catchUp(enabled, start, options.catchUpWindow)

    // how far each pipeline's fire times have been registered
    const scannedUntil = yield* Ref.make<ReadonlyMap<string, Date>>(new Map(enabled.map((e) => [e.pipeline, start])))
    // the run in progress, so that an interruption of the daemon can wait for it
    const current = yield* Ref.make(Option.none<Running>())

    const registerDue = (now: Date) =>
      Effect.forEach(
        enabled,
        (entry) =>
          Effect.gen(function* () {
            const due = fireTimes(entry, (yield* Ref.get(scannedUntil)).get(entry.pipeline)!, now)
            yield* Ref.update(scannedUntil, (scanned) => new Map(scanned).set(entry.pipeline, now))
            if (due.length === 0) return
            yield* slots.register(
              due.map((slot) => ({ pipeline: entry.pipeline, slot, status: "pending" as const, detail: null })),
              now
            )
            for (const slot of due) yield* emit({ _tag: "Due", pipeline: entry.pipeline, slot })
          }),
        { discard: true }
      )

    /** Upstream pipelines that must finish this period first; `blocked` names one that gave up. */
    const upstreamState = (pipeline: string, slot: Date) =>
      Effect.gen(function* () {
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

    /** Runs the first slot that can run now, if any, and waits for it; whether one ran. */
    const runNext = (now: Date) =>
      Effect.gen(function* () {
        const open = [...(yield* slots.open(now, options.maxAttempts))]
          .filter((s) => entryOf.has(s.pipeline))
          .sort((a, b) => a.slot.getTime() - b.slot.getTime() || rank.get(a.pipeline)! - rank.get(b.pipeline)!)
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
            const { pipeline, slot } = candidate
            yield* emit({ _tag: "Waiting", pipeline, slot, upstream: state.waiting })
            continue
          }
          const runId = Runner.makeRunId(now)
          const { maxAttempts, owner } = options
          const attempt = yield* slots.claim(key, { owner, runId, now, maxAttempts })
          if (attempt === undefined) continue // another replica took it
          const pipeline = yield* registry.get(candidate.pipeline)
          const startedAt = yield* nowDate
          const lag = Duration.millis(Math.max(0, startedAt.getTime() - candidate.slot.getTime()))
          yield* emit({ _tag: "Claimed", pipeline: candidate.pipeline, slot: candidate.slot, attempt, runId, lag })
          const entry = entryOf.get(candidate.pipeline)!
          const claimed = { pipeline, entry, slot: candidate.slot, runId, attempt }
          const fiber = yield* Effect.forkDaemon(runSlot(claimed, options))
          yield* Ref.set(current, Option.some({ fiber, name: candidate.pipeline }))
          yield* Fiber.join(fiber)
          yield* Ref.set(current, Option.none())
          return true
        }
        return false
      })

    /** Runs every slot that can run now, one at a time, re-reading after each run. */
    const drain = (now: Date): Effect.Effect<void, unknown, any> =>
      Effect.flatMap(runNext(now), (ran) =>
        ran ? Effect.flatMap(nowDate, (later) => Effect.zipRight(registerDue(later), drain(later))) : Effect.void
      )

    // one pass: fail stale slots, register what is due, run what can run, then sleep until the next reason to wake
    const pass = Effect.gen(function* () {
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
      const fires = enabled
        .map((e) => nextFire(e, after))
        .filter((d): d is Date => d !== null)
        .map((d) => d.getTime())
      const retry = yield* slots.nextRetry(options.maxAttempts)
      const until = Math.max(
        after.getTime() + 1,
        Math.min(
          after.getTime() + toMillis(options.pollInterval),
          ...fires,
          ...Option.match(retry, { onNone: () => [], onSome: (r) => [r.at.getTime()] })
        )
      )
      yield* emit({ _tag: "Idle", until: new Date(until) })
      yield* Effect.sleep(Duration.millis(until - after.getTime()))
    })

    // a daemon outlives a database that goes away: a failed pass is reported and tried again after the backoff, which
    // starts over once a pass succeeds; slots are claimed in the database, so nothing runs twice meanwhile
    const reportedBackoff = troubleBackoff.pipe(
      Schedule.intersect(Schedule.identity<unknown>()),
      Schedule.intersect(Schedule.count),
      Schedule.tapOutput(([[wait, error], retries]) =>
        Effect.flatMap(nowDate, (now) =>
          emit({
            _tag: "Trouble",
            detail: describe(error),
            failures: retries + 1,
            retryAt: new Date(now.getTime() + Duration.toMillis(wait))
          })
        )
      )
    )
    const loop = Effect.forever(Effect.retry(pass, reportedBackoff))

    return yield* loop.pipe(
      Effect.onInterrupt(() =>
        Effect.gen(function* () {
          const running = yield* Ref.get(current)
          yield* emit({ _tag: "Stopping", waitingFor: Option.getOrNull(Option.map(running, (r) => r.name)) })
          if (Option.isNone(running)) return
          // finalizers are uninterruptible; the wait itself must be, or the grace timeout could not cut it short
          const finished = yield* Fiber.await(running.value.fiber).pipe(
            Effect.interruptible,
            Effect.timeout(options.grace),
            Effect.option
          )
          if (Option.isNone(finished)) yield* Fiber.interrupt(running.value.fiber)
        })
      )
    )
  }) as Effect.Effect<never, unknown, SlotStore | SqlClient | RunStore | Pipeline.Requirements<Pipeline.Any>>
