import { Either, Option, ParseResult, Schema } from "effect"
import { addDays } from "../../engine/Calendar.ts"
import type {
  KpiHistoryRow,
  PosteriorRow,
  ReportInputs,
  ReportWeek,
  WeeklyAccuracyPoint
} from "../../sources/ReportInputsQuery.ts"
import { clamp } from "../kpi/Numbers.ts"
import { GrowthCoefficients } from "../models/schemas/Growth.ts"

/**
 * Why a section has nothing to show: the model never ran, ran without this student, declined, its latest fit failed
 * the quality checks (and no accepted one exists), or it stored something unreadable.
 */
export type UnavailableReason = "NotRun" | "NoStudentOutput" | "ModelDeclined" | "FitRejected" | "Undecodable"

/** The quality checks a growth fit can fail, as the reader is told about them. */
export type FitCheck = "rhat" | "ess" | "divergences" | "other"

/**
 * A section without data, and why. `reason` (and `code`, `checks` where the model said more) is what the page puts
 * into words in the reader's language; `detail` is the technical account (a status, a decode error) in English.
 */
export interface Unavailable {
  readonly _tag: "Unavailable"
  readonly reason: UnavailableReason
  readonly detail: string
  /** The model's own status, when it declined (e.g. the forecast's `insufficient_data`). */
  readonly code?: string
  /** The checks a rejected fit failed. */
  readonly checks?: ReadonlyArray<FitCheck>
}

/** A section: its data, or why it has none. */
export type Section<A> = ({ readonly _tag: "Available" } & A) | Unavailable

const unavailable = (
  reason: UnavailableReason,
  detail: string,
  more: Pick<Unavailable, "code" | "checks"> = {}
): Unavailable => ({
  _tag: "Unavailable",
  reason,
  detail,
  ...more
})

/** A probability as the report shows it: inside [0, 1] whatever rounding the model's arithmetic left on it. */
export const probability01 = (p: number): number => clamp(p, 0, 1)

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
  /** The latest growth fit was rejected, so this is the student's posterior from an earlier, accepted fit. */
  readonly latestFitRejected: boolean
}

/** Prophet forecast of I_t. */
export interface Forecast {
  readonly history: ReadonlyArray<WeekValue>
  readonly forecast: ReadonlyArray<TrendPoint>
  readonly anomalies: ReadonlyArray<{
    readonly week: string
    readonly value: number
    readonly expected: number
    readonly score: number
  }>
  readonly runId: string
}

/** Churn levels: low < 0.3 ≤ medium < 0.7 ≤ high. */
export type RiskLevel = "low" | "medium" | "high"

/** The level of a churn risk. */
export const riskLevel = (risk01: number): RiskLevel => (risk01 < 0.3 ? "low" : risk01 < 0.7 ? "medium" : "high")

/** Churn risk S from the survival model. */
export interface Churn {
  /** The week whose S this is (the reported week, or the as-of day's week when survival ran after it). */
  readonly week: string
  readonly risk01: number
  readonly level: RiskLevel
  readonly concordance: number | null
}

/** The student's learning-pattern segment. */
export interface Segment {
  readonly label: string
  /** The segment centre's most distinctive features, in standard deviations from the cohort (the model's structured form). */
  readonly traits: ReadonlyArray<SegmentTrait>
}

/** One feature of a segment centre: which one and how far from the cohort, in (robust) standard deviations. */
export interface SegmentTrait {
  readonly feature: string
  readonly z: number
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
  /** Days from the last day with an attempt to the last day of the reported week (null: no attempt on record). */
  readonly daysSinceActive: number | null
}

const KpiObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const finite = (u: unknown): number | null => (typeof u === "number" && Number.isFinite(u) ? u : null)
const nullableProbability = (p: number | null) => (p === null ? null : probability01(p))

const kpiValues = (row: KpiHistoryRow | undefined): Readonly<Record<string, unknown>> =>
  row === undefined ? {} : Either.getOrElse(Schema.decodeUnknownEither(KpiObject)(row.kpis), () => ({}))

const decodeError = (e: ParseResult.ParseError) =>
  ParseResult.TreeFormatter.formatErrorSync(e).split("\n").slice(0, 3).join(" ")

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

const field = (u: unknown, name: string): unknown =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>)[name] : undefined

// ---- growth ------------------------------------------------------------------------------------------------------

// each student's line, keyed by student, as stages/growth/GrowthRows.ts writes it
const GrowthSummary = Schema.Struct({
  week_start: Schema.String,
  as_of_week: Schema.Number,
  students: Schema.optional(Schema.Record({ key: Schema.String, value: GrowthCoefficients }))
})

/**
 * Per student, the trend coefficients of the latest accepted growth fit, when the fit stored them (a rejected fit's
 * coefficients are not the student's posterior).
 */
const growthCoefficients = (growthMeta: ReadonlyArray<unknown>) => {
  const accepted = growthMeta.find((m) => latestGrowthFit([m])?.accepted === true)
  const summary = Schema.decodeUnknownOption(GrowthSummary)(field(accepted, "posterior_summary"))
  const run = field(accepted, "run_id")
  return Option.match(summary, {
    onNone: () => undefined,
    onSome: (s) => ({
      runId: typeof run === "string" ? run : undefined,
      weekStart: s.week_start,
      asOfWeek: s.as_of_week,
      byStudent: new Map(Object.entries(s.students ?? {}))
    })
  })
}

const Diagnostics = Schema.Struct({ accepted: Schema.Boolean, reasons: Schema.optional(Schema.Array(Schema.String)) })

/** The latest growth fit: its run and whether it passed the acceptance checks (and which it failed). */
export interface LatestGrowthFit {
  readonly runId: string | undefined
  readonly accepted: boolean
  readonly reasons: ReadonlyArray<string>
}

/** The latest recorded growth fit (the first row of `growthMeta`), or undefined when none was recorded. */
export const latestGrowthFit = (growthMeta: ReadonlyArray<unknown>): LatestGrowthFit | undefined => {
  const latest = growthMeta[0]
  if (latest === undefined) return undefined
  const run = field(latest, "run_id")
  const diagnostics = Schema.decodeUnknownOption(Diagnostics)(field(latest, "diagnostics"))
  return {
    runId: typeof run === "string" ? run : undefined,
    // a fit recorded without the acceptance verdict predates it, and was stored only when accepted
    accepted: Option.match(diagnostics, { onNone: () => true, onSome: (d) => d.accepted }),
    reasons: Option.match(diagnostics, { onNone: () => [], onSome: (d) => d.reasons ?? [] })
  }
}

/** Which checks the acceptance reasons name (the reasons are sentences; the reader gets the checks in their language). */
export const fitChecks = (reasons: ReadonlyArray<string>): ReadonlyArray<FitCheck> => {
  const checks = new Set<FitCheck>()
  for (const r of reasons) {
    checks.add(
      /r-?hat/i.test(r)
        ? "rhat"
        : /\bess\b|effective sample/i.test(r)
          ? "ess"
          : /diverg/i.test(r)
            ? "divergences"
            : "other"
    )
  }
  return [...checks]
}

const growthSection = (
  posterior: PosteriorRow | undefined,
  accuracy: ReadonlyArray<WeeklyAccuracyPoint>,
  coefficients: ReturnType<typeof growthCoefficients>,
  latest: LatestGrowthFit | undefined,
  anyPosterior: boolean
): Section<Growth> => {
  const rejected = latest !== undefined && !latest.accepted
  if (posterior === undefined) {
    if (rejected) {
      return unavailable(
        "FitRejected",
        `the latest growth fit${latest.runId === undefined ? "" : ` (${latest.runId})`} was rejected: ${latest.reasons.join("; ") || "no reason recorded"}; no accepted posterior exists for this student`,
        { checks: fitChecks(latest.reasons) }
      )
    }
    return latest === undefined && !anyPosterior
      ? unavailable("NotRun", "growth_brms_meta and growth_brms_posterior hold no fit for this week or before")
      : unavailable(
          "NoStudentOutput",
          "the latest accepted growth fit has no posterior for this student (not in the fit: too few weeks with graded attempts, or started after it)"
        )
  }
  const points = accuracy.map((a) => ({ week: a.week_start, value: a.accuracy01 }))
  const horizonWeek = addDays(posterior.week_start, 7 * posterior.horizon_weeks)
  // the trend line must come from the fit the posterior came from
  const own =
    coefficients?.runId === undefined || coefficients.runId === posterior.run_id
      ? coefficients?.byStudent.get(posterior.user_id)
      : undefined
  let trend: ReadonlyArray<TrendPoint>
  if (own !== undefined && coefficients !== undefined) {
    const weeks = [...new Set([...points.map((p) => p.week), posterior.week_start, horizonWeek])].sort()
    const { intercept, intercept_slope_cor: cor, slope } = own
    trend = weeks.map((week) => {
      const k = coefficients.asOfWeek + (Date.parse(week) - Date.parse(coefficients.weekStart)) / (7 * 86_400_000)
      const mean = intercept.mean + slope.mean * k
      const sd = Math.sqrt(
        Math.max(0, intercept.sd ** 2 + k * k * slope.sd ** 2 + 2 * k * cor * intercept.sd * slope.sd)
      )
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
    probability01: probability01(posterior.p_goal),
    sigma: posterior.sigma,
    lower95: posterior.lower95,
    upper95: posterior.upper95,
    target01: posterior.target,
    horizonWeeks: posterior.horizon_weeks,
    horizonWeek,
    fittedAt: posterior.fitted_at,
    latestFitRejected: rejected && latest.runId !== posterior.run_id
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
  // null: the cohort's series
  user_id: Schema.NullOr(Schema.String),
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

/** A stored Prophet fit of I_t with its anomalies, as a chart section (also the cohort's series on the overview). */
export const forecastSection = (
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
    return unavailable("ModelDeclined", `${status}${typeof message === "string" ? `: ${message}` : ""}`, {
      code: status
    })
  }
  return Either.match(Schema.decodeUnknownEither(ForecastRow)(stored), {
    onLeft: (e) => unavailable("Undecodable", decodeError(e)),
    onRight: (row) => {
      const points = Array.isArray(row.forecast)
        ? row.forecast
        : (row.forecast as { forecast: ReadonlyArray<typeof ForecastPoint.Type> }).forecast
      if (points.length === 0) return unavailable("ModelDeclined", "the stored forecast is empty", { code: "empty" })
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

const churnSection = (
  risk: { readonly week: string; readonly value: number } | null,
  survivalFit: unknown
): Section<Churn> => {
  if (risk !== null) {
    const risk01 = probability01(risk.value)
    return {
      _tag: "Available",
      week: risk.week,
      risk01,
      level: riskLevel(risk01),
      concordance: finite(field(survivalFit, "concordance"))
    }
  }
  return survivalFit === undefined
    ? unavailable("NotRun", "survival_fit_meta holds no fit: the survival model has not run (or is disabled)")
    : unavailable(
        "NoStudentOutput",
        "the survival fit stored no risk S for this student and week (SURVIVAL_UPDATE_KPI=false, or too little activity)"
      )
}

// the trait's English `description` is ignored: the page words the feature and its direction in the reader's language
const Center = Schema.Struct({
  label: Schema.String,
  traits: Schema.optional(Schema.Array(Schema.Struct({ feature: Schema.String, z: Schema.Number })))
})
const Centers = Schema.Union(Schema.Array(Center), Schema.Struct({ centers: Schema.Array(Center) }))
const SegmentRow = Schema.Struct({ user_id: Schema.String, segment_label: Schema.String })

const segmentTraits = (segmentMeta: unknown) => {
  const centers = Schema.decodeUnknownOption(Centers)(field(segmentMeta, "centers"))
  return Option.match(centers, {
    onNone: () => new Map<string, typeof Center.Type>(),
    onSome: (c) =>
      new Map(
        (Array.isArray(c) ? c : (c as { centers: ReadonlyArray<typeof Center.Type> }).centers).map((x) => [x.label, x])
      )
  })
}

const segmentSection = (
  stored: unknown,
  traits: ReturnType<typeof segmentTraits>,
  segmentRuns: number
): Section<Segment> => {
  if (stored === undefined) {
    return segmentRuns === 0
      ? unavailable("NotRun", "user_segment is empty: the segment model has not run yet")
      : unavailable(
          "NoStudentOutput",
          "the student was not in the latest segmentation (joined after it, or too little data)"
        )
  }
  return Either.match(Schema.decodeUnknownEither(SegmentRow)(stored), {
    onLeft: (e) => unavailable("Undecodable", decodeError(e)),
    onRight: (row) => ({
      _tag: "Available",
      label: row.segment_label,
      traits: [...(traits.get(row.segment_label)?.traits ?? [])]
        .sort((a, b) => Math.abs(b.z) - Math.abs(a.z))
        .slice(0, 3)
        .map((t) => ({ feature: t.feature, z: t.z }))
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
  const forecasts = new Map(
    inputs.forecasts.flatMap((f) => {
      const user = field(f, "user_id")
      return typeof user === "string" ? [[user, f] as const] : []
    })
  )
  const anomalies = anomaliesByUser(inputs.anomalies, inputs.forecasts)
  const survivalFit = inputs.survivalFits[0]
  const segments = new Map(
    inputs.segments.flatMap((s) => {
      const user = field(s, "user_id")
      return typeof user === "string" ? [[user, s] as const] : []
    })
  )
  const traits = segmentTraits(inputs.segmentMeta[0])
  const latestFit = latestGrowthFit(inputs.growthMeta)
  const lastActive = new Map(inputs.lastActive.map((a) => [a.user_id, a.last_day]))
  const lastDay = addDays(week.weekStart, 6)

  return inputs.users.map((userId): StudentReport => {
    const history = kpisByUser.get(userId) ?? []
    const valuesOf = (weekStart: string) => kpiValues(history.find((r) => r.week_start === weekStart))
    const current = valuesOf(week.weekStart)
    const previous = valuesOf(week.previousWeek)
    // S of the reported week, else the one survival stored for the as-of day's week (computed right after it); the
    // summary row and the gauge show the same one, and its change is against the week before that one
    const sNow = finite(current["S"])
    const sLater = finite(valuesOf(week.modelWeek)["S"])
    const risk =
      sNow !== null
        ? { week: week.weekStart, value: sNow }
        : sLater !== null
          ? { week: week.modelWeek, value: sLater }
          : null
    const kpis = summaryKeys.map((key): KpiLine => {
      const bounded = (v: number | null) => (v === null || (key !== "P" && key !== "S") ? v : probability01(v))
      const now = bounded(key === "S" ? (risk?.value ?? null) : finite(current[key]))
      const before = bounded(
        key === "S" && risk !== null ? finite(valuesOf(addDays(risk.week, -7))["S"]) : finite(previous[key])
      )
      return { key, current: now, previous: before, change: now === null || before === null ? null : now - before }
    })
    const last = lastActive.get(userId)
    const iHistory = history.flatMap((r) => {
      const v = finite(kpiValues(r)["I_t"])
      return v === null ? [] : [{ week: r.week_start, value: v }]
    })
    return {
      userId,
      weekStart: week.weekStart,
      kpis,
      growth: growthSection(
        posteriors.get(userId),
        accuracyByUser.get(userId) ?? [],
        coefficients,
        latestFit,
        inputs.posteriors.length > 0
      ),
      forecast: forecastSection(forecasts.get(userId), anomalies.get(userId) ?? [], iHistory, inputs.forecasts.length),
      churn: churnSection(risk, survivalFit),
      churnHeuristic01: nullableProbability(finite(current["churn_heuristic"])),
      segment: segmentSection(segments.get(userId), traits, inputs.segments.length),
      daysSinceActive:
        last === undefined ? null : Math.max(0, Math.round((Date.parse(lastDay) - Date.parse(last)) / 86_400_000))
    }
  })
}

// ---- the cohort --------------------------------------------------------------------------------------------------

/**
 * The cohort's I_t forecast (the forecast run's series with user_id null) over the cohort's weekly mean I_t, with
 * the weeks the forecast found anomalous.
 */
export const cohortForecast = (inputs: ReportInputs): Section<Forecast> => {
  const stored = inputs.cohortForecasts[0]
  const run = field(stored, "run_id")
  const anomalies = inputs.anomalies
    .flatMap((a) => Option.toArray(Schema.decodeUnknownOption(AnomalyRow)(a)))
    .filter((a) => a.run_id === run && (a.user_id === null || a.user_id === undefined))
  return forecastSection(
    stored,
    anomalies,
    inputs.cohortSeries.map((p) => ({ week: p.week_start, value: p.value })),
    inputs.cohortForecasts.length
  )
}
