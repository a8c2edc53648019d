/**
 * An independent computation of the weekly KPIs, straight from raw `attempt` and `session` rows, in plain
 * TypeScript: loops over rows and windows in milliseconds, with its own formulas. It shares nothing with the SQL
 * and the stage functions but the definitions in mission.md (and Φ, a math primitive tested on its own).
 */
import { normalCdf } from "../../stages/kpi/NormalDistribution.ts"

export interface RawAttempt {
  readonly id: string
  readonly student_id: string
  readonly item_id: string
  readonly session_id: string | null
  readonly correct: boolean | null
  readonly response_time_ms: number | null
  readonly hint_used: boolean | null
  readonly started_ms: number
  readonly completed_ms: number | null
}

export interface RawSession {
  readonly id: string
  readonly user_id: string
  readonly started_ms: number
  readonly ended_ms: number | null
}

export interface ReferenceSettings {
  readonly asOf: string
  readonly lookbackDays: number
  readonly target: number
  readonly horizonWeeks: number
  readonly nowMs: number
}

export type ReferenceKpis = Record<
  "I_t" | "E_t" | "R_t" | "A_t" | "P" | "sigma" | "sessions" | "mean_gap" | "churn_heuristic",
  number | null
>

const DAY = 86_400_000

const median = (values: Array<number>): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const within = (ms: number, from: number, to: number) => ms >= from && ms < to
const cap01 = (x: number) => Math.min(1, Math.max(0, x))

/** The reference KPIs by `user_id|week_start`. */
export const referenceKpis = (
  rawAttempts: ReadonlyArray<RawAttempt>,
  sessions: ReadonlyArray<RawSession>,
  settings: ReferenceSettings
): Map<string, ReferenceKpis> => {
  // one row per id: the earliest started copy
  const byId = new Map<string, RawAttempt>()
  for (const a of rawAttempts) {
    const kept = byId.get(a.id)
    if (kept === undefined || a.started_ms < kept.started_ms) byId.set(a.id, a)
  }
  const attempts = [...byId.values()]
  const asOfMs = Date.parse(`${settings.asOf}T00:00:00Z`)
  const hi = Math.min(asOfMs + DAY, settings.nowMs)
  const monday = (ms: number) => ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY
  const weeks: Array<number> = []
  for (let w = monday(asOfMs - settings.lookbackDays * DAY); w <= monday(asOfMs); w += 7 * DAY) weeks.push(w)

  const attemptsOf = new Map<string, Array<RawAttempt>>()
  for (const a of attempts) {
    if (a.started_ms >= hi) continue
    attemptsOf.set(a.student_id, [...(attemptsOf.get(a.student_id) ?? []), a])
  }
  const sessionsOf = new Map<string, Array<RawSession>>()
  for (const s of sessions) {
    if (s.started_ms >= hi) continue
    sessionsOf.set(s.user_id, [...(sessionsOf.get(s.user_id) ?? []), s])
  }
  const students = new Set([...attemptsOf.keys(), ...sessionsOf.keys()])
  const result = new Map<string, ReferenceKpis>()
  for (const week of weeks) {
    const end = week + 7 * DAY
    const windowEnd = Math.min(end, hi)
    for (const student of students) {
      const as = (attemptsOf.get(student) ?? []).filter((a) => within(a.started_ms, end - 56 * DAY, windowEnd))
      const ss = (sessionsOf.get(student) ?? []).filter((s) => within(s.started_ms, end - 56 * DAY, windowEnd))
      if (as.length === 0 && ss.length === 0) continue
      const inWindow = (from: number, to: number) => as.filter((a) => within(a.started_ms, from, to))

      // I_t
      const recent14 = inWindow(end - 14 * DAY, end).filter((a) => a.correct !== null)
      const prev14 = inWindow(end - 28 * DAY, end - 14 * DAY).filter((a) => a.correct !== null)
      let I_t: number | null = null
      if (recent14.length > 0 && prev14.length > 0) {
        const p = recent14.filter((a) => a.correct).length / recent14.length
        const q = prev14.filter((a) => a.correct).length / prev14.length
        const penalty = 1 - Math.min(0.5, 1.96 * Math.sqrt((p * (1 - p)) / recent14.length))
        I_t = Math.max(-1, Math.min(1, (p - q) * penalty))
      }

      // E_t
      const correctTimes = (from: number, to: number) =>
        inWindow(from, to)
          .filter(
            (a) =>
              a.correct === true &&
              a.response_time_ms !== null &&
              a.response_time_ms > 0 &&
              a.response_time_ms <= 1_800_000
          )
          .map((a) => a.response_time_ms!)
      const mRecent = median(correctTimes(end - 28 * DAY, end))
      const mPrev = median(correctTimes(end - 56 * DAY, end - 28 * DAY))
      const E_t = mRecent === null || mPrev === null ? null : cap01((mPrev - mRecent) / mPrev)

      // R_t
      const wrongBefore = new Set(
        inWindow(end - 56 * DAY, end - 28 * DAY)
          .filter((a) => a.correct === false)
          .map((a) => a.item_id)
      )
      const latest = new Map<string, RawAttempt>()
      for (const a of inWindow(end - 28 * DAY, end)) {
        if (a.correct === null || !wrongBefore.has(a.item_id)) continue
        const seen = latest.get(a.item_id)
        if (seen === undefined || a.started_ms > seen.started_ms || (a.started_ms === seen.started_ms && a.correct))
          latest.set(a.item_id, a)
      }
      const R_t = latest.size === 0 ? null : [...latest.values()].filter((a) => a.correct).length / latest.size

      // A_t and the session figures
      const recentAttempts = inWindow(end - 28 * DAY, end)
      const recentSessions = ss
        .filter((s) => s.started_ms >= end - 28 * DAY)
        .sort((a, b) => a.started_ms - b.started_ms)
      const n = recentSessions.length
      let gapSum = 0
      for (let i = 1; i < n; i++) gapSum += recentSessions[i]!.started_ms - recentSessions[i - 1]!.started_ms
      const meanGap = n >= 2 ? gapSum / (n - 1) / DAY : null
      const lengths = recentSessions
        .filter((s) => s.ended_ms !== null && s.ended_ms > s.started_ms && s.ended_ms - s.started_ms <= 14_400_000)
        .map((s) => (s.ended_ms! - s.started_ms) / 1000)
      const avgLength = lengths.length === 0 ? null : lengths.reduce((x, y) => x + y, 0) / lengths.length
      const avgHints =
        recentAttempts.length === 0
          ? null
          : recentAttempts.filter((a) => a.hint_used === true).length / recentAttempts.length
      const A_t =
        0.35 * Math.min(1, n / 28) +
        0.25 * (meanGap === null ? 0.5 : meanGap <= 0 ? 1 : Math.min(1, 1 / meanGap)) +
        0.2 * (avgHints === null ? 0.5 : cap01(1 - avgHints / 3)) +
        0.2 * (avgLength === null ? 0.5 : Math.min(1, avgLength / 900))

      // churn heuristic
      const last = Math.max(...as.map((a) => a.started_ms), ...ss.map((s) => s.started_ms))
      const daysSinceLast = (windowEnd - last) / DAY
      const churn =
        0.6 * cap01(daysSinceLast / 14) +
        0.25 * (meanGap === null ? 0.5 : cap01(meanGap / 7)) +
        0.15 * cap01(1 - n / 10)

      // P: weighted least squares through weekly accuracy, x = weeks before the KPI week
      const weekly = new Map<number, { n: number; k: number }>()
      for (const a of as) {
        if (a.correct === null) continue
        const x = Math.floor((a.started_ms - week) / (7 * DAY))
        const cell = weekly.get(x) ?? { n: 0, k: 0 }
        weekly.set(x, { n: cell.n + 1, k: cell.k + (a.correct ? 1 : 0) })
      }
      let P: number | null = null
      let sigma: number | null = null
      const N = [...weekly.values()].reduce((s, c) => s + c.n, 0)
      if (N > 0) {
        const K = [...weekly.values()].reduce((s, c) => s + c.k, 0)
        const xBar = [...weekly].reduce((s, [x, c]) => s + x * c.n, 0) / N
        const yBar = K / N
        let sxx = 0
        let sxy = 0
        for (const [x, c] of weekly) {
          sxx += c.n * (x - xBar) ** 2
          sxy += c.n * (x - xBar) * (c.k / c.n - yBar)
        }
        const slope = sxx > 1e-9 ? sxy / sxx : 0
        const mu = yBar + slope * (settings.horizonWeeks - xBar)
        const pTilde = (K + 0.5) / (N + 1)
        sigma = Math.sqrt(
          pTilde * (1 - pTilde) * (1 / N + (sxx > 1e-9 ? (settings.horizonWeeks - xBar) ** 2 / sxx : 0))
        )
        P = 1 - normalCdf((settings.target - mu) / sigma)
      }

      result.set(`${student}|${new Date(week).toISOString().slice(0, 10)}`, {
        I_t,
        E_t,
        R_t,
        A_t,
        P,
        sigma,
        sessions: n,
        mean_gap: meanGap,
        churn_heuristic: churn
      })
    }
  }
  return result
}
