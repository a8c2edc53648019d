import { Either, Option, ParseResult, Schema } from "effect"
import type { KpiHistoryRow, PosteriorRow, ReportInputs, WeeklyAccuracyPoint } from "../../sources/ReportInputsQuery.ts"
import { addDays } from "../kpi/KpiWeeks.ts"
import { GrowthCoefficients } from "../models/schemas/Growth.ts"
import type { ReportWeek } from "./ReportWeek.ts"

/** Why a section has nothing to show: the model never ran, ran without this student, declined, or stored something unreadable. */
export type UnavailableReason = "NotRun" | "NoStudentOutput" | "ModelDeclined" | "Undecodable"

/** A section without data, and why (the detail is technical: a status, a decode error). */
export interface Unavailable {
  readonly _tag: "Unavailable"
  readonly reason: UnavailableReason
  readonly detail: string
}

/** A section: its data, or why it has none. */
export type Section<A> = ({ readonly _tag: "Available" } & A) | Unavailable

const unavailable = (reason: UnavailableReason, detail: string): Unavailable => ({ _tag: "Unavailable", reason, detail })

/** The KPIs the summary shows, in order. */
export const summaryKeys = ["I_t", "E_t", "R_t", "A_t", "P", "S", "sessions", "mean_gap"] as const
export type SummaryKey = (typeof summaryKeys)[number]

/** One KPI of the week, the week before, and the change. */
export interface KpiLine {
  readonly key: SummaryKey
  readonly current: number | null
  readonly previous: number | null
  readonly change: number | null
}

/** One weekly point of a chart. */
export interface WeekValue {
  readonly week: string
  readonly value: number
}

/** The growth model's trend at one week with its 95% credible band. */
export interface TrendPoint {
  readonly week: string
  readonly mean: number
  readonly lower: number
  readonly upper: number
}

/** Bayesian growth: weekly accuracy, the trend (student's own when stored, else the cone to the horizon), P. */
export interface Growth {
  readonly accuracy: ReadonlyArray<WeekValue>
  readonly trend: ReadonlyArray<TrendPoint>
  /** Whether `trend` is the student's posterior trend line (true) or only the interval at the horizon (false). */
  readonly trendFromCoefficients: boolean
  readonly probability01: number
  readonly sigma: number
  readonly lower95: number
  readonly upper95: number
  readonly target01: number
  readonly horizonWeeks: number
  readonly horizonWeek: string
  readonly fittedAt: string
}

/** Prophet forecast of I_t. */
export interface Forecast {
  readonly history: ReadonlyArray<WeekValue>
  readonly forecast: ReadonlyArray<TrendPoint>
  readonly anomalies: ReadonlyArray<{ readonly week: string; readonly value: number; readonly expected: number; readonly score: number }>
  readonly runId: string
}

/** Churn levels: low < 0.3 ≤ medium < 0.7 ≤ high. */
export type RiskLevel = "low" | "medium" | "high"

/** The level of a churn risk. */
export const riskLevel = (risk01: number): RiskLevel => (risk01 < 0.3 ? "low" : risk01 < 0.7 ? "medium" : "high")

/** Churn risk S from the survival model. */
export interface Churn {
  readonly risk01: number
  readonly level: RiskLevel
  readonly concordance: number | null
}

/** The student's learning-pattern segment. */
export interface Segment {
  readonly label: string
  readonly traits: ReadonlyArray<{ readonly feature: string; readonly z: number; readonly description: string }>
}

/** Everything one student's weekly report shows. */
export interface StudentReport {
  readonly userId: string
  readonly weekStart: string
  readonly kpis: ReadonlyArray<KpiLine>
  readonly growth: Section<Growth>
  readonly forecast: Section<Forecast>
  readonly churn: Section<Churn>
  /** The rule-based churn heuristic, shown next to (or instead of) S. */
  readonly churnHeuristic01: number | null
  readonly segment: Section<Segment>
}

const KpiObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const finite = (u: unknown): number | null => (typeof u === "number" && Number.isFinite(u) ? u : null)

const kpiValues = (row: KpiHistoryRow | undefined): Readonly<Record<string, unknown>> =>
  row === undefined ? {} : Either.getOrElse(Schema.decodeUnknownEither(KpiObject)(row.kpis), () => ({}))

const decodeError = (e: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(e).split("\n").slice(0, 3).join(" ")

const groupBy = <A>(rows: ReadonlyArray<A>, key: (a: A) => string | undefined): Map<string, Array<A>> => {
  const map = new Map<string, Array<A>>()
  for (const row of rows) {
    const k = key(row)
    if (k === undefined) continue
    const list = map.get(k)
    if (list === undefined) map.set(k, [row])
    else list.push(row)
  }
  return map
}

const field = (u: unknown, name: string): unknown => (typeof u === "object" && u !== null ? (u as Record<string, unknown>)[name] : undefined)

// ---- growth ------------------------------------------------------------------------------------------------------

const StudentCoefficients = Schema.Struct({ student: Schema.String, coefficients: GrowthCoefficients })
const GrowthSummary = Schema.Struct({
  week_start: Schema.String,
  as_of_week: Schema.Number,
  students: Schema.optional(Schema.Array(StudentCoefficients))
})

/** Per student, the trend coefficients of the latest growth fit, when the fit stored them. */
const growthCoefficients = (growthMeta: ReadonlyArray<unknown>) => {
  const summary = Schema.decodeUnknownOption(GrowthSummary)(field(growthMeta[0], "posterior_summary"))
  return Option.match(summary, {
    onNone: () => undefined,
    onSome: (s) => ({
      weekStart: s.week_start,
      asOfWeek: s.as_of_week,
      byStudent: new Map((s.students ?? []).map((c) => [c.student, c.coefficients]))
    })
  })
}

const growthSection = (
  posterior: PosteriorRow | undefined,
  accuracy: ReadonlyArray<WeeklyAccuracyPoint>,
  coefficients: ReturnType<typeof growthCoefficients>,
  growthRuns: number
): Section<Growth> => {
  if (posterior === undefined) {
    return growthRuns === 0
      ? unavailable("NotRun", "growth_brms_posterior holds no accepted fit for this week or before")
      : unavailable("NoStudentOutput", "the latest accepted growth fit has no posterior for this student (too few weeks with graded attempts)")
  }
  const points = accuracy.map((a) => ({ week: a.week_start, value: a.accuracy01 }))
  const horizonWeek = addDays(posterior.week_start, 7 * posterior.horizon_weeks)
  const own = coefficients?.byStudent.get(posterior.user_id)
  let trend: ReadonlyArray<TrendPoint>
  if (own !== undefined && coefficients !== undefined) {
    const weeks = [...new Set([...points.map((p) => p.week), posterior.week_start, horizonWeek])].sort()
    const { intercept, intercept_slope_cor: cor, slope } = own
    trend = weeks.map((week) => {
      const k = coefficients.asOfWeek + (Date.parse(week) - Date.parse(coefficients.weekStart)) / (7 * 86_400_000)
      const mean = intercept.mean + slope.mean * k
      const sd = Math.sqrt(Math.max(0, intercept.sd ** 2 + k * k * slope.sd ** 2 + 2 * k * cor * intercept.sd * slope.sd))
      return { week, mean, lower: mean - 1.96 * sd, upper: mean + 1.96 * sd }
    })
  } else {
    // no stored trend line: a cone from the last observed week to the posterior interval at the horizon
    const last = points[points.length - 1]
    const mid = (posterior.lower95 + posterior.upper95) / 2
    trend = [
      ...(last === undefined ? [] : [{ week: last.week, mean: last.value, lower: last.value, upper: last.value }]),
      { week: horizonWeek, mean: mid, lower: posterior.lower95, upper: posterior.upper95 }
    ]
  }
  return {
    _tag: "Available",
    accuracy: points,
    trend,
    trendFromCoefficients: own !== undefined,
    probability01: posterior.p_goal,
    sigma: posterior.sigma,
    lower95: posterior.lower95,
    upper95: posterior.upper95,
    target01: posterior.target,
    horizonWeeks: posterior.horizon_weeks,
    horizonWeek,
    fittedAt: posterior.fitted_at
  }
}

// ---- forecast ----------------------------------------------------------------------------------------------------

const ForecastPoint = Schema.Struct({
  week_start: Schema.String,
  yhat: Schema.Number,
  yhat_lower: Schema.Number,
  yhat_upper: Schema.Number
})
const ForecastRow = Schema.Struct({
  run_id: Schema.String,
  metric: Schema.String,
  user_id: Schema.String,
  // the forecast array, or an object holding it (the column's shape is the forecast pipeline's choice)
  forecast: Schema.Union(Schema.Array(ForecastPoint), Schema.Struct({ forecast: Schema.Array(ForecastPoint) })),
  fit_meta: Schema.optional(Schema.Unknown)
})
const AnomalyRow = Schema.Struct({
  run_id: Schema.String,
  week_start: Schema.String,
  metric: Schema.String,
  user_id: Schema.optional(Schema.NullOr(Schema.String)),
  value: Schema.Number,
  expected: Schema.Number,
  anomaly_score: Schema.Number
})
type AnomalyRow = typeof AnomalyRow.Type

const forecastSection = (
  stored: unknown,
  anomalies: ReadonlyArray<AnomalyRow>,
  history: ReadonlyArray<WeekValue>,
  forecastRuns: number
): Section<Forecast> => {
  if (stored === undefined) {
    return forecastRuns === 0
      ? unavailable("NotRun", "prophet_fit_meta holds no I_t forecast for this week or before")
      : unavailable("NoStudentOutput", "the latest forecast run has no series for this student")
  }
  const status = field(field(stored, "fit_meta"), "status")
  if (typeof status === "string" && status !== "ok") {
    const message = field(field(stored, "fit_meta"), "message")
    return unavailable("ModelDeclined", `${status}${typeof message === "string" ? `: ${message}` : ""}`)
  }
  return Either.match(Schema.decodeUnknownEither(ForecastRow)(stored), {
    onLeft: (e) => unavailable("Undecodable", decodeError(e)),
    onRight: (row) => {
      const points = Array.isArray(row.forecast) ? row.forecast : (row.forecast as { forecast: ReadonlyArray<typeof ForecastPoint.Type> }).forecast
      if (points.length === 0) return unavailable("ModelDeclined", "the stored forecast is empty")
      return {
        _tag: "Available",
        history,
        forecast: points.map((p) => ({ week: p.week_start, mean: p.yhat, lower: p.yhat_lower, upper: p.yhat_upper })),
        anomalies: anomalies
          .filter((a) => a.run_id === row.run_id && a.metric === row.metric)
          .map((a) => ({ week: a.week_start, value: a.value, expected: a.expected, score: a.anomaly_score })),
        runId: row.run_id
      }
    }
  })
}

/** Anomalies by student: by their `user_id` column, or by the run and metric of a run that fitted one student only. */
const anomaliesByUser = (anomalies: ReadonlyArray<unknown>, forecasts: ReadonlyArray<unknown>) => {
  const decoded = anomalies.flatMap((a) => Option.toArray(Schema.decodeUnknownOption(AnomalyRow)(a)))
  const usersOfRun = groupBy(forecasts, (f) => {
    const run = field(f, "run_id")
    return typeof run === "string" ? `${run}|${String(field(f, "metric"))}` : undefined
  })
  return groupBy(decoded, (a) => {
    if (a.user_id !== undefined) return a.user_id ?? undefined
    const fits = usersOfRun.get(`${a.run_id}|${a.metric}`) ?? []
    const only = fits.length === 1 ? field(fits[0], "user_id") : undefined
    return typeof only === "string" ? only : undefined
  })
}

// ---- churn and segment -------------------------------------------------------------------------------------------

const churnSection = (risk01: number | null, survivalFit: unknown): Section<Churn> => {
  if (risk01 !== null) {
    return { _tag: "Available", risk01, level: riskLevel(risk01), concordance: finite(field(survivalFit, "concordance")) }
  }
  return survivalFit === undefined
    ? unavailable("NotRun", "survival_fit_meta holds no fit: the survival model has not run (or is disabled)")
    : unavailable("NoStudentOutput", "the survival fit stored no risk S for this student and week (SURVIVAL_UPDATE_KPI=false, or too little activity)")
}

const Center = Schema.Struct({
  label: Schema.String,
  traits: Schema.optional(Schema.Array(Schema.Struct({ feature: Schema.String, z: Schema.Number, description: Schema.String })))
})
const Centers = Schema.Union(Schema.Array(Center), Schema.Struct({ centers: Schema.Array(Center) }))
const SegmentRow = Schema.Struct({ user_id: Schema.String, segment_label: Schema.String })

const segmentTraits = (segmentMeta: unknown) => {
  const centers = Schema.decodeUnknownOption(Centers)(field(segmentMeta, "centers"))
  return Option.match(centers, {
    onNone: () => new Map<string, typeof Center.Type>(),
    onSome: (c) => new Map((Array.isArray(c) ? c : (c as { centers: ReadonlyArray<typeof Center.Type> }).centers).map((x) => [x.label, x]))
  })
}

const segmentSection = (stored: unknown, traits: ReturnType<typeof segmentTraits>, segmentRuns: number): Section<Segment> => {
  if (stored === undefined) {
    return segmentRuns === 0
      ? unavailable("NotRun", "user_segment is empty: the segment model has not run yet")
      : unavailable("NoStudentOutput", "the student was not in the latest segmentation (joined after it, or too little data)")
  }
  return Either.match(Schema.decodeUnknownEither(SegmentRow)(stored), {
    onLeft: (e) => unavailable("Undecodable", decodeError(e)),
    onRight: (row) => ({
      _tag: "Available",
      label: row.segment_label,
      traits: [...(traits.get(row.segment_label)?.traits ?? [])].sort((a, b) => Math.abs(b.z) - Math.abs(a.z)).slice(0, 3)
    })
  })
}

// ---- the report --------------------------------------------------------------------------------------------------

/** The per-student reports of one week, from the week's inputs (pure: every model output is decoded here). */
export const studentReports = (inputs: ReportInputs, week: ReportWeek): ReadonlyArray<StudentReport> => {
  const kpisByUser = groupBy(inputs.kpis, (r) => r.user_id)
  const accuracyByUser = groupBy(inputs.accuracy, (r) => r.user_id)
  const posteriors = new Map(inputs.posteriors.map((p) => [p.user_id, p]))
  const coefficients = growthCoefficients(inputs.growthMeta)
  const forecasts = new Map(inputs.forecasts.flatMap((f) => {
    const user = field(f, "user_id")
    return typeof user === "string" ? [[user, f] as const] : []
  }))
  const anomalies = anomaliesByUser(inputs.anomalies, inputs.forecasts)
  const survivalFit = inputs.survivalFits[0]
  const segments = new Map(inputs.segments.flatMap((s) => {
    const user = field(s, "user_id")
    return typeof user === "string" ? [[user, s] as const] : []
  }))
  const traits = segmentTraits(inputs.segmentMeta[0])
  // the growth model counts as run when any posterior exists for the week's students (or any fit was recorded)
  const growthRuns = inputs.posteriors.length + inputs.growthMeta.length

  return inputs.users.map((userId): StudentReport => {
    const history = kpisByUser.get(userId) ?? []
    const current = kpiValues(history.find((r) => r.week_start === week.weekStart))
    const previous = kpiValues(history.find((r) => r.week_start === week.previousWeek))
    const kpis = summaryKeys.map((key): KpiLine => {
      const now = finite(current[key])
      const before = finite(previous[key])
      return { key, current: now, previous: before, change: now === null || before === null ? null : now - before }
    })
    const iHistory = history.flatMap((r) => {
      const v = finite(kpiValues(r)["I_t"])
      return v === null ? [] : [{ week: r.week_start, value: v }]
    })
    return {
      userId,
      weekStart: week.weekStart,
      kpis,
      growth: growthSection(posteriors.get(userId), accuracyByUser.get(userId) ?? [], coefficients, growthRuns),
      forecast: forecastSection(forecasts.get(userId), anomalies.get(userId) ?? [], iHistory, inputs.forecasts.length),
      // S of the reported week, else the one survival stored for the as-of day's week (computed right after it)
      churn: churnSection(finite(current["S"]) ?? finite(kpiValues(history.find((r) => r.week_start === week.modelWeek))["S"]), survivalFit),
      churnHeuristic01: finite(current["churn_heuristic"]),
      segment: segmentSection(segments.get(userId), traits, inputs.segments.length)
    }
  })
}
