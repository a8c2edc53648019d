import * as Calendar from "../engine/Calendar.ts"
import * as Random from "./Random.ts"

/** What to generate: how many students over how many weeks, ending on `endDate` (inclusive, UTC). */
export interface CohortOptions {
  readonly students: number
  readonly weeks: number
  readonly seed: number
  /** `YYYY-MM-DD`: the last day with activity. */
  readonly endDate: string
}

/** The planted behaviour of a student: what the models should later recover. */
export type Archetype = "regular" | "improver" | "struggler" | "fast" | "hint_leaner" | "churner"

/** One row of `cohort_truth`. */
export interface StudentTruth {
  readonly student_id: string
  readonly archetype: Archetype
  readonly ability0: number
  readonly growth_per_week: number
  readonly speed_factor: number
  readonly hint_rate: number
  readonly sessions_per_week: number
  /** `YYYY-MM-DD`: no activity after this day (churners only). */
  readonly churn_after: string | null
}

/** One row of `session`; times are epoch milliseconds. */
export interface SessionRow {
  readonly id: string
  readonly user_id: string
  readonly started_at: number
  readonly ended_at: number
  readonly status: "completed" | "abandoned"
}

/** One row of `attempt`; times are epoch milliseconds. */
export interface AttemptRow {
  readonly id: number
  readonly student_id: string
  readonly item_id: string
  readonly topic_id: string
  readonly session_id: string
  readonly correct: boolean
  readonly response_time_ms: number
  readonly hint_used: boolean
  readonly started_at: number
  readonly completed_at: number
  readonly attempt_no: number
}

/** An item of the bank: its topic and its difficulty on the ability (logit) scale. */
export interface Item {
  readonly id: string
  readonly topic: string
  readonly difficulty: number
}

/** What is shared by every student of a cohort: the calendar, the item bank, the anomalous week. */
export interface CohortPlan {
  readonly options: CohortOptions
  readonly startMs: number
  readonly endMs: number
  /** Monday of the cohort-wide anomalous week, `YYYY-MM-DD`. */
  readonly anomalyWeekStart: string
  /** Added to every student's ability (logit) during the anomalous week: accuracy drops cohort-wide. */
  readonly anomalyLogitShift: number
  readonly topics: ReadonlyArray<string>
  readonly items: ReadonlyArray<Item>
}

/** Everything generated for one student. */
export interface GeneratedStudent {
  readonly truth: StudentTruth
  readonly sessions: ReadonlyArray<SessionRow>
  readonly attempts: ReadonlyArray<AttemptRow>
}

const DAY = 86_400_000
const WEEK = 7 * DAY
/**
 * Churners fade before they stop (the usual pattern of dropout: practice thins out over the last weeks): over the
 * last `FADE_DAYS` before the churn day their gaps between sessions grow up to 3× and their sessions shorten by up
 * to half.
 */
const FADE_DAYS = 21
const TOPICS = ["algebra", "geometry", "functions", "probability", "statistics", "trigonometry", "calculus", "vectors"]
const ITEMS_PER_TOPIC = 40
/** Attempt ids are `student number × ID_STRIDE + n`, unique without coordination between students. */
const ID_STRIDE = 100_000

const isoDate = (ms: number): string => Calendar.dateOf(ms, "UTC")
const utcMidnight = (date: string): number => Calendar.dayRange(date, "UTC").start.getTime()
const mondayOf = (ms: number): number => utcMidnight(Calendar.mondayOf(isoDate(ms)))
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))

/** The shared part of a cohort, from its options alone. */
export const plan = (options: CohortOptions): CohortPlan => {
  const endMs = utcMidnight(options.endDate) + DAY
  const startMs = endMs - options.weeks * WEEK
  const random = Random.make(options.seed, -1)
  const items = TOPICS.flatMap((topic, t) =>
    Array.from({ length: ITEMS_PER_TOPIC }, (_, i) => ({
      id: `${topic.slice(0, 3)}-${String(i + 1).padStart(3, "0")}`,
      topic,
      difficulty: (t - 3.5) * 0.12 + random.normal() * 0.9
    }))
  )
  // the anomalous week lies in the second half, with at least two normal weeks after it
  const firstMonday = mondayOf(startMs) + (mondayOf(startMs) < startMs ? WEEK : 0)
  const fullWeeks = Math.floor((endMs - firstMonday) / WEEK)
  const lo = Math.floor(fullWeeks / 2)
  const hi = Math.max(lo, fullWeeks - 3)
  const anomalyWeek = firstMonday + (lo + random.int(hi - lo + 1)) * WEEK
  return {
    options,
    startMs,
    endMs,
    anomalyWeekStart: isoDate(anomalyWeek),
    anomalyLogitShift: -1.2,
    topics: TOPICS,
    items
  }
}

const pickArchetype = (u: number): Archetype =>
  u < 0.12
    ? "improver"
    : u < 0.24
      ? "struggler"
      : u < 0.34
        ? "fast"
        : u < 0.44
          ? "hint_leaner"
          : u < 0.56
            ? "churner"
            : "regular"

/** The student id of the `index`-th student (0-based). */
export const studentId = (index: number): string => `s${String(index + 1).padStart(5, "0")}`

/**
 * One student's truth, sessions and attempts. Pure and deterministic: `(plan, index)` always gives the same rows,
 * whichever other students are generated, so a cohort can be generated in chunks.
 */
export const generateStudent = (cohort: CohortPlan, index: number): GeneratedStudent => {
  const random = Random.make(cohort.options.seed, index)
  const id = studentId(index)
  const archetype = pickArchetype(random.next())
  const totalDays = (cohort.endMs - cohort.startMs) / DAY
  const ability0 = archetype === "struggler" ? -1.6 + random.normal() * 0.3 : random.normal() * 0.8
  const growth =
    archetype === "improver"
      ? 0.22 + random.normal() * 0.04
      : archetype === "struggler"
        ? -0.01 + random.normal() * 0.02
        : 0.04 + random.normal() * 0.03
  const speed = archetype === "fast" ? 0.5 * Math.exp(random.normal() * 0.1) : Math.exp(random.normal() * 0.15)
  const hintRate =
    archetype === "hint_leaner"
      ? 0.55 + random.next() * 0.1
      : archetype === "struggler"
        ? 0.2
        : 0.05 + random.next() * 0.06
  const sessionsPerWeek = 2 + random.next() * 3
  const churnMs =
    archetype === "churner" && totalDays >= 49
      ? cohort.startMs + (28 + random.int(Math.floor(totalDays) - 48)) * DAY
      : undefined
  const focus = [random.int(TOPICS.length), random.int(TOPICS.length), random.int(TOPICS.length)]
  const anomalyStart = utcMidnight(cohort.anomalyWeekStart)

  const sessions: Array<SessionRow> = []
  const attempts: Array<AttemptRow> = []
  const seen = new Map<string, number>()
  const tries = new Map<string, number>()
  const wrongQueue: Array<Item> = []
  const stop = churnMs === undefined ? cohort.endMs : Math.min(cohort.endMs, churnMs + DAY)
  let day = cohort.startMs + random.next() * 2 * DAY
  let n = 0
  while (true) {
    // sessions start between 07:00 and 22:00 UTC on the day the gap process lands on
    const start = Math.floor(day / DAY) * DAY + (7 + random.next() * 15) * 3_600_000
    if (start >= stop - 3_600_000) break
    const sessionId = `${id}-${sessions.length + 1}`
    const fade = churnMs === undefined ? 0 : clamp(1 - (churnMs - start) / (FADE_DAYS * DAY), 0, 1)
    if (random.next() < 0.02) {
      // an opened-and-left session: no attempts (real platforms have them)
      sessions.push({
        id: sessionId,
        user_id: id,
        started_at: Math.round(start),
        ended_at: Math.round(start + 30_000),
        status: "abandoned"
      })
    } else {
      let t = start
      const length = Math.max(3, Math.round((6 + random.int(18)) * (1 - 0.5 * fade)))
      for (let k = 0; k < length; k++) {
        const fromQueue = wrongQueue.length > 0 && random.next() < 0.35 && t - (seen.get(wrongQueue[0]!.id) ?? 0) > DAY
        const item = fromQueue
          ? wrongQueue.shift()!
          : cohort.items[
              (random.next() < 0.7 ? focus[random.int(3)]! : random.int(TOPICS.length)) * ITEMS_PER_TOPIC +
                random.int(ITEMS_PER_TOPIC)
            ]!
        const weeks = (t - cohort.startMs) / WEEK
        const anomalous = t >= anomalyStart && t < anomalyStart + WEEK
        const ability = ability0 + growth * weeks + (anomalous ? cohort.anomalyLogitShift : 0)
        const hint = random.next() < hintRate
        const correct = random.next() < sigmoid(ability - item.difficulty + (hint ? 0.6 : 0))
        const rt = clamp(
          Math.round(
            35_000 *
              Math.exp(random.normal() * 0.45) *
              speed *
              (1 + 0.25 * clamp(item.difficulty - ability, -2, 2)) *
              (correct ? 0.9 : 1)
          ),
          1_500,
          600_000
        )
        const startedAt = Math.round(t)
        const no = (tries.get(item.id) ?? 0) + 1
        tries.set(item.id, no)
        seen.set(item.id, startedAt)
        if (!correct) wrongQueue.push(item)
        attempts.push({
          id: (index + 1) * ID_STRIDE + ++n,
          student_id: id,
          item_id: item.id,
          topic_id: item.topic,
          session_id: sessionId,
          correct,
          response_time_ms: rt,
          hint_used: hint,
          started_at: startedAt,
          completed_at: startedAt + rt,
          attempt_no: no
        })
        t = startedAt + rt + 5_000 + random.next() * 35_000
      }
      sessions.push({
        id: sessionId,
        user_id: id,
        started_at: Math.round(start),
        ended_at: Math.round(t + 10_000 + random.next() * 110_000),
        status: "completed"
      })
    }
    day = start + Math.max(0.2 * DAY, random.exponential(7 / sessionsPerWeek) * (1 + 2 * fade) * DAY)
    if (n > ID_STRIDE - 100) break
  }
  return {
    truth: {
      student_id: id,
      archetype,
      ability0,
      growth_per_week: growth,
      speed_factor: speed,
      hint_rate: hintRate,
      sessions_per_week: sessionsPerWeek,
      churn_after: churnMs === undefined ? null : isoDate(churnMs)
    },
    sessions,
    attempts
  }
}
