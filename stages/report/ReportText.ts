import type { FitCheck, RiskLevel, SummaryKey, Unavailable } from "./StudentReport.ts"

/** The report languages (`REPORT_LOCALE`). */
export type Locale = "ko" | "en"

/** The sections of a student's page. */
export type SectionName = "kpis" | "growth" | "forecast" | "churn" | "segment"

/** What a segment label means for a student, and what to do about it. */
export interface SegmentText {
  readonly name: string
  readonly description: string
  readonly recommendations: ReadonlyArray<string>
}

/** A KPI as a parent reads it: a plain name and what it measures, in one line. */
export interface KpiText {
  readonly name: string
  readonly meaning: string
}

/** The numbers a growth chart's text alternative states, already formatted. */
export interface GrowthFacts {
  readonly weeks: number
  readonly first: string | null
  readonly last: string | null
  readonly horizonWeeks: number
  readonly expected: string
  readonly lower: string
  readonly upper: string
  readonly target: string
  readonly probability: string
}

/** The numbers a forecast chart's text alternative states, already formatted. */
export interface ForecastFacts {
  readonly weeks: number
  readonly last: string | null
  readonly horizonWeeks: number
  readonly forecastEnd: string
  readonly lower: string
  readonly upper: string
  readonly anomalies: number
}

/** Every fixed text of the report in one language; everything a page says comes from here. */
export interface ReportText {
  readonly lang: Locale
  readonly title: string
  readonly weekOf: (week: string) => string
  readonly sections: Readonly<Record<SectionName, string>>
  readonly kpis: Readonly<Record<SummaryKey, KpiText>>
  readonly columns: {
    readonly kpi: string
    readonly thisWeek: string
    readonly lastWeek: string
    readonly change: string
  }
  readonly growth: {
    readonly probability: string
    readonly interval: (lower: string, upper: string, horizon: number) => string
    readonly target: (target: string) => string
    readonly chartTitle: string
    readonly caption: string
    readonly coneNote: string
    readonly earlierFitNote: (fittedOn: string) => string
    /** The labels drawn in the chart. */
    readonly targetLabel: (target: string) => string
    readonly probabilityLabel: (probability: string) => string
    readonly alt: (facts: GrowthFacts) => string
  }
  readonly forecast: {
    readonly chartTitle: string
    readonly caption: string
    readonly anomalies: (n: number) => string
    /** Why a week was anomalous: the value against what the forecast expected. */
    readonly anomaly: (week: string, value: string, expected: string) => string
    readonly alt: (facts: ForecastFacts) => string
  }
  readonly churn: {
    readonly risk: string
    readonly chartTitle: string
    readonly levels: Readonly<Record<RiskLevel, string>>
    readonly heuristic: (value: string) => string
    readonly concordance: (value: string) => string
    readonly laterWeekNote: (week: string) => string
    readonly alt: (risk: string, level: string) => string
  }
  readonly segment: {
    readonly traits: string
    readonly recommendations: string
    readonly label: string
    /** A trait of the segment in words: the feature and how far it is from the cohort. */
    readonly trait: (feature: string, z: number) => string
  }
  /** The reason a section is unavailable, in words. */
  readonly unavailable: (section: SectionName, u: Unavailable) => string
  readonly unavailableTitle: string
  readonly technicalDetail: string
  /** A change of a probability, in percentage points. */
  readonly points: (value: string) => string
  readonly index: {
    readonly title: string
    readonly intro: string
    readonly attention: string
    readonly attentionHelp: string
    readonly student: string
    readonly risk: string
    readonly change: string
    readonly lastActive: string
    readonly goal: string
    readonly segment: string
    readonly report: string
    readonly open: string
    readonly daysAgo: (days: number) => string
    readonly search: string
    readonly allSegments: string
    readonly allLevels: string
    readonly noSegment: string
    readonly shown: (shown: string, total: string) => string
    readonly levelCount: (level: string, n: number) => string
    readonly students: (n: number) => string
    readonly segmentsTitle: string
    readonly segmentsChartTitle: string
    readonly pChartTitle: string
    readonly sortBy: string
    readonly sortOptions: Readonly<Record<"risk" | "change" | "days" | "goal" | "user", string>>
    readonly segmentsAlt: (parts: ReadonlyArray<{ readonly name: string; readonly count: number }>) => string
    readonly cohortTitle: string
    readonly cohortChartTitle: string
    readonly cohortCaption: string
    readonly pTitle: string
    readonly pCaption: string
    readonly pAlt: (bins: ReadonlyArray<{ readonly range: string; readonly count: number }>, missing: number) => string
    readonly sortHint: string
  }
  readonly segments: Readonly<Record<string, SegmentText>>
  readonly unknownSegment: (label: string) => SegmentText
  readonly noValue: string
}

const koFeatures: Readonly<Record<string, string>> = {
  improvement: "정답률 상승 추세",
  engagement: "학습 참여도",
  efficiency: "풀이 속도",
  recovery: "오답 회복",
  accuracy: "정답률",
  hint_rate: "힌트 사용",
  hints: "힌트 사용",
  sessions: "학습 횟수",
  mean_gap: "학습 간격",
  mean_gap_days: "학습 간격",
  response_time: "풀이 시간"
}

const koChecks: Readonly<Record<FitCheck, string>> = {
  rhat: "여러 번 반복한 계산의 결과가 서로 맞지 않음",
  ess: "결과를 믿기에 계산 표본이 부족함",
  divergences: "계산 과정이 불안정함",
  other: "기타 품질 검사"
}

const koForecastDeclined: Readonly<Record<string, string>> = {
  insufficient_data: "향상도 기록이 아직 적어 예측할 수 없습니다 (4주 이상 필요합니다).",
  constant_series: "향상도가 매주 같아 예측할 변화가 없습니다.",
  failed: "이번 주 예측 계산이 실패했습니다.",
  empty: "저장된 예측이 비어 있습니다."
}

const koUnavailable = (section: SectionName, u: Unavailable): string => {
  if (u.reason === "Undecodable") return "저장된 결과를 읽을 수 없습니다. 담당자에게 알려 주세요."
  switch (section) {
    case "growth":
      return u.reason === "FitRejected"
        ? `이번 성장 모형 계산이 품질 검사를 통과하지 못해 믿을 수 있는 결과가 없습니다${(u.checks ?? []).length === 0 ? "" : ` (${(u.checks ?? []).map((c) => koChecks[c]).join(", ")})`}. 다음 계산에서 다시 시도합니다.`
        : u.reason === "NotRun"
          ? "성장 모형이 아직 실행되지 않았습니다."
          : "최근 성장 모형 계산에 이 학생이 포함되지 않았습니다. 채점된 문제를 푼 주가 더 쌓이면 표시됩니다."
    case "forecast":
      return u.reason === "NotRun"
        ? "향상도 예측 모형이 아직 실행되지 않았습니다."
        : u.reason === "ModelDeclined"
          ? (koForecastDeclined[u.code ?? ""] ?? "예측 모형이 이 학생의 기록으로 결과를 만들지 못했습니다.")
          : "최근 예측에 이 학생이 포함되지 않았습니다 (향상도 기록이 4주 이상 필요합니다)."
    case "churn":
      return u.reason === "NotRun"
        ? "학습 중단 위험 모형이 아직 실행되지 않았습니다."
        : "이번 주에는 이 학생의 학습 중단 위험이 계산되지 않았습니다."
    case "segment":
      return u.reason === "NotRun"
        ? "학습 패턴 분석이 아직 실행되지 않았습니다."
        : "최근 학습 패턴 분석에 이 학생이 포함되지 않았습니다 (분석 뒤에 학습을 시작했거나 기록이 부족합니다)."
    case "kpis":
      return "이번 주 지표가 없습니다."
  }
}

const ko: ReportText = {
  lang: "ko",
  title: "주간 학습 리포트",
  weekOf: (week) => `${week} 주`,
  sections: {
    kpis: "이번 주 요약",
    growth: "정답률 성장과 목표",
    forecast: "향상도 예측",
    churn: "학습 중단 위험",
    segment: "학습 패턴 유형"
  },
  kpis: {
    I_t: { name: "실력 향상도", meaning: "최근 2주 정답률이 그 전 2주보다 얼마나 올랐는지 (−1 ~ 1, 0보다 크면 향상)" },
    E_t: { name: "풀이 속도 향상", meaning: "맞힌 문제를 푸는 시간이 그 전 4주보다 얼마나 줄었는지 (0 ~ 1)" },
    R_t: { name: "오답 회복률", meaning: "전에 틀린 문제를 다시 만났을 때 맞힌 비율 (0 ~ 1)" },
    A_t: { name: "학습 참여도", meaning: "최근 4주의 학습 횟수·간격·힌트 사용·학습 시간을 합친 점수 (0 ~ 1)" },
    P: { name: "목표 달성 가능성", meaning: "정한 기간 안에 목표 정답률에 도달할 확률 (매주 계산하는 지표)" },
    S: { name: "학습 중단 위험", meaning: "앞으로 14일 넘게 학습하지 않을 확률" },
    sessions: { name: "학습 횟수", meaning: "최근 28일 동안 학습한 횟수" },
    mean_gap: { name: "평균 학습 간격", meaning: "학습과 학습 사이의 평균 일수" }
  },
  columns: { kpi: "지표", thisWeek: "이번 주", lastWeek: "지난 주", change: "변화" },
  growth: {
    probability: "성장 모형으로 본 목표 달성 가능성",
    interval: (lower, upper, horizon) => `${horizon}주 뒤 예상 정답률은 95% 확률로 ${lower} ~ ${upper} 사이입니다.`,
    target: (target) => `목표 정답률: ${target}`,
    chartTitle: "주별 정답률과 성장 추세",
    caption: "점: 주별 정답률 · 점선: 이 학생의 성장 추세 · 띠: 95% 범위 · 가로 점선: 목표",
    coneNote: "이 학생의 추세선이 저장되지 않아, 마지막 주부터 목표 시점의 95% 범위까지를 표시합니다.",
    earlierFitNote: (fittedOn) =>
      `최근 성장 모형 계산이 품질 검사를 통과하지 못해, ${fittedOn}에 계산된 결과를 표시합니다.`,
    targetLabel: (target) => `목표 ${target}`,
    probabilityLabel: (probability) => `도달 확률 ${probability}`,
    alt: (f) =>
      `주별 정답률 ${f.weeks}주 기록${f.first === null ? "" : `, 첫 주 ${f.first}, 마지막 주 ${f.last}`}. ${f.horizonWeeks}주 뒤 예상 정답률 ${f.expected} (95% 범위 ${f.lower} ~ ${f.upper}), 목표 ${f.target}, 도달 확률 ${f.probability}.`
  },
  forecast: {
    chartTitle: "주별 향상도와 앞으로의 예측",
    caption: "실선과 점: 주별 향상도 · 점선과 띠: 예측과 불확실성 범위 · 빨간 점: 평소와 다른 주",
    anomalies: (n) => (n === 0 ? "평소와 다른 주는 없었습니다." : `평소와 다른 주가 ${n}번 있었습니다`),
    anomaly: (week, value, expected) => `${week} 주: 향상도 ${value} (예상 ${expected})`,
    alt: (f) =>
      `주별 향상도 ${f.weeks}주 기록${f.last === null ? "" : `, 마지막 주 ${f.last}`}. ${f.horizonWeeks}주 뒤 예측 ${f.forecastEnd} (범위 ${f.lower} ~ ${f.upper}). 평소와 다른 주 ${f.anomalies}번.`
  },
  churn: {
    risk: "학습 중단 위험",
    chartTitle: "학습 중단 위험 눈금",
    levels: { low: "낮음", medium: "보통", high: "높음" },
    heuristic: (value) => `최근 학습 빈도로 어림한 값: ${value}`,
    concordance: (value) => `이 모형이 학생들의 복귀 순서를 맞힌 정도: ${value} (0.5는 무작위, 1은 완벽)`,
    laterWeekNote: (week) => `${week} 주에 계산된 값입니다.`,
    alt: (risk, level) => `학습 중단 위험 ${risk}, ${level}. 30% 미만은 낮음, 70% 이상은 높음입니다.`
  },
  segment: {
    traits: "주요 특성",
    recommendations: "맞춤 추천",
    label: "유형",
    trait: (feature, z) =>
      `${koFeatures[feature] ?? "기타 학습 지표"}: 또래보다 ${Math.abs(z) >= 1.5 ? "훨씬 " : ""}${z >= 0 ? "높음" : "낮음"}`
  },
  unavailable: koUnavailable,
  unavailableTitle: "이 부분은 표시할 수 없습니다",
  technicalDetail: "기술 정보 (담당자용)",
  points: (value) => `${value}%p`,
  index: {
    title: "이번 주 학생 현황",
    intro: "학습 중단 위험이 높은 학생부터 보여 줍니다.",
    attention: "먼저 살펴볼 학생",
    attentionHelp: "정렬 방법을 고르거나 열 제목을 눌러 정렬하고, 검색과 선택으로 걸러 볼 수 있습니다.",
    student: "학생",
    risk: "학습 중단 위험",
    change: "지난주 대비",
    lastActive: "마지막 학습",
    goal: "목표 달성 가능성",
    segment: "학습 패턴 유형",
    report: "리포트",
    open: "열기",
    daysAgo: (days) => (days === 0 ? "오늘" : `${days}일 전`),
    search: "학생 검색",
    allSegments: "모든 유형",
    allLevels: "모든 위험 수준",
    noSegment: "유형 없음",
    shown: (shown, total) => `${total}명 중 ${shown}명 표시`,
    levelCount: (level, n) => `위험 ${level}: ${n}명`,
    students: (n) => `학생 ${n}명`,
    segmentsTitle: "학습 패턴 유형 분포",
    segmentsChartTitle: "유형별 학생 수",
    pChartTitle: "구간별 학생 수",
    sortBy: "정렬",
    sortOptions: {
      risk: "학습 중단 위험 높은 순",
      change: "위험이 많이 오른 순",
      days: "오래 쉰 순",
      goal: "목표 달성 가능성 높은 순",
      user: "학생 이름순"
    },
    segmentsAlt: (parts) => `학습 패턴 유형별 학생 수: ${parts.map((p) => `${p.name} ${p.count}명`).join(", ")}.`,
    cohortTitle: "전체 학생의 향상도 추이와 예측",
    cohortChartTitle: "주별 평균 향상도",
    cohortCaption: "실선과 점: 주별 전체 평균 향상도 · 점선과 띠: 예측과 불확실성 범위 · 빨간 점: 평소와 다른 주",
    pTitle: "목표 달성 가능성 분포",
    pCaption: "학생 수를 목표 달성 가능성 구간별로 셉니다.",
    pAlt: (bins, missing) =>
      `목표 달성 가능성 구간별 학생 수: ${bins.map((b) => `${b.range} ${b.count}명`).join(", ")}${missing === 0 ? "" : `. 값이 없는 학생 ${missing}명`}.`,
    sortHint: "눌러서 정렬"
  },
  segments: {
    improving: {
      name: "꾸준히 성장하는 학생",
      description: "최근 정답률이 뚜렷하게 오르고 있습니다.",
      recommendations: ["난이도를 한 단계 높인 문제에 도전해 보세요.", "지금의 학습 리듬을 유지하세요."]
    },
    declining: {
      name: "정체·하락 중인 학생",
      description: "최근 정답률이 이전보다 낮아졌습니다.",
      recommendations: [
        "최근 틀린 문제를 다시 풀어 보세요.",
        "짧게라도 매일 학습해 감각을 되찾으세요.",
        "어려운 단원은 개념부터 복습하세요."
      ]
    },
    "highly engaged": {
      name: "적극 참여형",
      description: "자주, 오래 학습하고 있습니다.",
      recommendations: ["양보다 약점 단원에 집중해 보세요.", "주기적으로 실전 모의고사를 풀어 보세요."]
    },
    disengaged: {
      name: "참여 저조형",
      description: "학습 빈도와 시간이 또래보다 적습니다.",
      recommendations: [
        "하루 15분 학습 목표를 정해 보세요.",
        "알림을 켜고 학습 시간을 고정하세요.",
        "쉬운 문제부터 시작해 흐름을 만드세요."
      ]
    },
    efficient: {
      name: "효율형",
      description: "정답 문제의 풀이 시간이 빨라지고 있습니다.",
      recommendations: ["시간 제한이 있는 세트로 실전 감각을 키우세요.", "고난도 문제 비중을 늘려 보세요."]
    },
    slow: {
      name: "신중형",
      description: "문제 풀이에 시간이 오래 걸립니다.",
      recommendations: ["유형별 풀이 전략을 정리해 보세요.", "시간을 재며 짧은 세트를 풀어 보세요."]
    },
    recovering: {
      name: "오답 회복형",
      description: "틀렸던 문제를 다시 맞히는 비율이 높습니다.",
      recommendations: ["오답 노트를 계속 활용하세요.", "비슷한 유형의 새 문제로 확인하세요."]
    },
    "repeating mistakes": {
      name: "반복 실수형",
      description: "틀렸던 문제를 다시 틀리는 경우가 많습니다.",
      recommendations: [
        "오답의 원인을 한 줄로 적어 보세요.",
        "틀린 문제는 사흘 뒤 다시 풀어 보세요.",
        "개념 설명을 먼저 복습하세요."
      ]
    },
    "high achiever": {
      name: "우수 성취형",
      description: "정답률이 또래보다 높습니다.",
      recommendations: ["심화 문제로 실력을 넓혀 보세요.", "실수 유형을 점검해 만점을 노리세요."]
    },
    struggling: {
      name: "도움이 필요한 학생",
      description: "정답률이 또래보다 낮습니다.",
      recommendations: [
        "기초 개념 강의부터 복습하세요.",
        "쉬운 문제로 자신감을 쌓으세요.",
        "선생님과 학습 계획을 상의해 보세요."
      ]
    },
    "hint-heavy": {
      name: "힌트 의존형",
      description: "힌트를 자주 사용합니다.",
      recommendations: ["힌트 전 1분 더 스스로 생각해 보세요.", "힌트로 푼 문제는 힌트 없이 다시 풀어 보세요."]
    },
    independent: {
      name: "자기주도형",
      description: "힌트 없이 스스로 문제를 풉니다.",
      recommendations: ["어려운 문제에서는 힌트로 풀이를 확인해 보세요.", "새로운 단원에 도전해 보세요."]
    },
    frequent: {
      name: "자주 학습형",
      description: "학습 세션이 잦습니다.",
      recommendations: ["세션마다 목표 단원을 정해 보세요.", "주 1회 복습 세션을 넣어 보세요."]
    },
    infrequent: {
      name: "간헐 학습형",
      description: "학습 세션이 드뭅니다.",
      recommendations: ["주 3회 이상 학습 일정을 잡아 보세요.", "짧은 세션이라도 자주 접속해 보세요."]
    },
    irregular: {
      name: "불규칙 학습형",
      description: "학습 간격이 길고 들쭉날쭉합니다.",
      recommendations: ["매일 같은 시간에 학습해 보세요.", "학습 간격이 길어지면 알림을 받도록 설정하세요."]
    },
    regular: {
      name: "규칙 학습형",
      description: "학습 간격이 짧고 일정합니다.",
      recommendations: ["지금의 습관을 유지하세요.", "학습량을 조금씩 늘려 보세요."]
    },
    fast: {
      name: "속도형",
      description: "풀이 속도가 빠릅니다.",
      recommendations: ["검산 습관으로 실수를 줄이세요.", "고난도 문제로 깊이를 더하세요."]
    },
    typical: {
      name: "평균형",
      description: "대부분의 지표가 또래 평균과 비슷합니다.",
      recommendations: ["약한 단원 하나를 골라 집중해 보세요.", "주간 목표를 세우고 점검하세요."]
    }
  },
  unknownSegment: (label) => ({
    name: unknownSegmentName(
      label,
      "유형",
      (feature, high) => `${koFeatures[feature] ?? "기타 지표"} ${high ? "높음" : "낮음"} 유형`,
      "기타 유형"
    ),
    description: "이 유형에 대한 설명이 아직 없습니다.",
    recommendations: ["꾸준히 학습하고 약한 단원을 복습하세요.", "주간 목표를 세우고 점검하세요."]
  }),
  noValue: "–"
}

const enFeatures: Readonly<Record<string, string>> = {
  improvement: "Accuracy trend",
  engagement: "Engagement",
  efficiency: "Answering speed",
  recovery: "Recovery from mistakes",
  accuracy: "Accuracy",
  hint_rate: "Hint use",
  hints: "Hint use",
  sessions: "Study sessions",
  mean_gap: "Gaps between sessions",
  mean_gap_days: "Gaps between sessions",
  response_time: "Time per problem"
}

const enChecks: Readonly<Record<FitCheck, string>> = {
  rhat: "repeated runs of the computation disagree",
  ess: "too few effective samples to trust the result",
  divergences: "the computation was unstable",
  other: "another quality check"
}

const enForecastDeclined: Readonly<Record<string, string>> = {
  insufficient_data: "Too few weeks of improvement history to forecast yet (at least 4 are needed).",
  constant_series: "Improvement was the same every week, so there is no change to forecast.",
  failed: "This week's forecast computation failed.",
  empty: "The stored forecast is empty."
}

const enUnavailable = (section: SectionName, u: Unavailable): string => {
  if (u.reason === "Undecodable") return "The stored result could not be read. Please tell the person in charge."
  switch (section) {
    case "growth":
      return u.reason === "FitRejected"
        ? `This week's growth model computation failed its quality checks, so there is no result to trust${(u.checks ?? []).length === 0 ? "" : ` (${(u.checks ?? []).map((c) => enChecks[c]).join(", ")})`}. It is tried again at the next computation.`
        : u.reason === "NotRun"
          ? "The growth model has not run yet."
          : "The latest growth computation did not include this student. It shows once more weeks with graded problems are recorded."
    case "forecast":
      return u.reason === "NotRun"
        ? "The improvement forecast has not run yet."
        : u.reason === "ModelDeclined"
          ? (enForecastDeclined[u.code ?? ""] ??
            "The forecast model could not produce a result from this student's history.")
          : "The latest forecast did not include this student (at least 4 weeks of improvement history are needed)."
    case "churn":
      return u.reason === "NotRun"
        ? "The risk-of-stopping model has not run yet."
        : "This student's risk of stopping was not computed this week."
    case "segment":
      return u.reason === "NotRun"
        ? "The learning-pattern analysis has not run yet."
        : "The latest learning-pattern analysis did not include this student (started after it, or too little history)."
    case "kpis":
      return "No indicators this week."
  }
}

const en: ReportText = {
  lang: "en",
  title: "Weekly learning report",
  weekOf: (week) => `Week of ${week}`,
  sections: {
    kpis: "This week at a glance",
    growth: "Accuracy growth and goal",
    forecast: "Improvement forecast",
    churn: "Risk of stopping",
    segment: "Learning pattern"
  },
  kpis: {
    I_t: {
      name: "Improvement",
      meaning: "How much accuracy in the last 2 weeks rose over the 2 weeks before (−1 to 1; above 0 is better)"
    },
    E_t: { name: "Speed-up", meaning: "How much less time correct answers took than in the 4 weeks before (0 to 1)" },
    R_t: {
      name: "Recovery",
      meaning: "Share of previously missed problems answered correctly when they came back (0 to 1)"
    },
    A_t: {
      name: "Engagement",
      meaning: "Sessions, gaps, hint use and study time of the last 4 weeks in one score (0 to 1)"
    },
    P: {
      name: "Chance of reaching the goal",
      meaning: "Probability of reaching the target accuracy within the goal period (the weekly indicator)"
    },
    S: { name: "Risk of stopping", meaning: "Probability of going more than 14 days without studying" },
    sessions: { name: "Study sessions", meaning: "Sessions in the last 28 days" },
    mean_gap: { name: "Average gap", meaning: "Average days between two sessions" }
  },
  columns: { kpi: "Indicator", thisWeek: "This week", lastWeek: "Last week", change: "Change" },
  growth: {
    probability: "Chance of reaching the goal, by the growth model",
    interval: (lower, upper, horizon) =>
      `In ${horizon} weeks, accuracy is expected between ${lower} and ${upper} (95% probability).`,
    target: (target) => `Target accuracy: ${target}`,
    chartTitle: "Weekly accuracy and growth trend",
    caption: "Points: weekly accuracy · dashed line: this student's trend · band: 95% range · dotted line: the target",
    coneNote:
      "No trend line was stored for this student, so the band runs from the last week to the 95% range at the goal date.",
    earlierFitNote: (fittedOn) =>
      `The latest growth computation failed its quality checks, so the result computed on ${fittedOn} is shown.`,
    targetLabel: (target) => `Target ${target}`,
    probabilityLabel: (probability) => `Chance ${probability}`,
    alt: (f) =>
      `Weekly accuracy over ${f.weeks} weeks${f.first === null ? "" : `, first week ${f.first}, last week ${f.last}`}. Expected accuracy in ${f.horizonWeeks} weeks ${f.expected} (95% range ${f.lower} to ${f.upper}), target ${f.target}, chance of reaching it ${f.probability}.`
  },
  forecast: {
    chartTitle: "Weekly improvement and what comes next",
    caption:
      "Line and points: weekly improvement · dashed line and band: forecast and its uncertainty · red points: unusual weeks",
    anomalies: (n) => (n === 0 ? "No unusual weeks." : `${n} unusual week${n === 1 ? "" : "s"}`),
    anomaly: (week, value, expected) => `week of ${week}: improvement ${value} (expected ${expected})`,
    alt: (f) =>
      `Weekly improvement over ${f.weeks} weeks${f.last === null ? "" : `, last week ${f.last}`}. Forecast in ${f.horizonWeeks} weeks ${f.forecastEnd} (range ${f.lower} to ${f.upper}). ${f.anomalies} unusual weeks.`
  },
  churn: {
    risk: "Risk of stopping",
    chartTitle: "Risk-of-stopping scale",
    levels: { low: "Low", medium: "Medium", high: "High" },
    heuristic: (value) => `Estimate from recent study frequency: ${value}`,
    concordance: (value) => `How well this model ordered students' returns: ${value} (0.5 is chance, 1 is perfect)`,
    laterWeekNote: (week) => `Computed for the week of ${week}.`,
    alt: (risk, level) => `Risk of stopping ${risk}, ${level}. Below 30% is low, 70% or more is high.`
  },
  segment: {
    traits: "Main traits",
    recommendations: "Recommendations",
    label: "Pattern",
    trait: (feature, z) =>
      `${enFeatures[feature] ?? "Another indicator"}: ${Math.abs(z) >= 1.5 ? "well " : ""}${z >= 0 ? "above" : "below"} peers`
  },
  unavailable: enUnavailable,
  unavailableTitle: "This part cannot be shown",
  technicalDetail: "Technical detail (for staff)",
  points: (value) => `${value} pts`,
  index: {
    title: "This week's students",
    intro: "Students at the highest risk of stopping come first.",
    attention: "Who needs attention first",
    attentionHelp: "Choose an order or select a column title to sort; search and choose to filter.",
    student: "Student",
    risk: "Risk of stopping",
    change: "Since last week",
    lastActive: "Last studied",
    goal: "Chance of reaching the goal",
    segment: "Learning pattern",
    report: "Report",
    open: "Open",
    daysAgo: (days) => (days === 0 ? "today" : `${days} day${days === 1 ? "" : "s"} ago`),
    search: "Search students",
    allSegments: "All patterns",
    allLevels: "All risk levels",
    noSegment: "No pattern",
    shown: (shown, total) => `Showing ${shown} of ${total}`,
    levelCount: (level, n) => `${level} risk: ${n}`,
    students: (n) => `${n} students`,
    segmentsTitle: "Learning patterns",
    segmentsChartTitle: "Students per pattern",
    pChartTitle: "Students per range",
    sortBy: "Sort",
    sortOptions: {
      risk: "Highest risk first",
      change: "Largest rise in risk first",
      days: "Longest away first",
      goal: "Best chance first",
      user: "By student"
    },
    segmentsAlt: (parts) => `Students per learning pattern: ${parts.map((p) => `${p.name} ${p.count}`).join(", ")}.`,
    cohortTitle: "Improvement of all students, and the forecast",
    cohortChartTitle: "Weekly mean improvement",
    cohortCaption:
      "Line and points: weekly mean improvement · dashed line and band: forecast and its uncertainty · red points: unusual weeks",
    pTitle: "Chances of reaching the goal",
    pCaption: "Students counted by their chance of reaching the goal.",
    pAlt: (bins, missing) =>
      `Students per chance of reaching the goal: ${bins.map((b) => `${b.range} ${b.count}`).join(", ")}${missing === 0 ? "" : `. ${missing} without a value`}.`,
    sortHint: "select to sort"
  },
  segments: {
    improving: {
      name: "Improving",
      description: "Accuracy has been rising clearly in recent weeks.",
      recommendations: ["Try problems one level harder.", "Keep the current study rhythm."]
    },
    declining: {
      name: "Declining",
      description: "Recent accuracy is lower than before.",
      recommendations: [
        "Redo the problems you missed recently.",
        "Study a little every day to get back on track.",
        "Review the concepts of the hardest topics first."
      ]
    },
    "highly engaged": {
      name: "Highly engaged",
      description: "Studies often and for long sessions.",
      recommendations: ["Focus the time on weak topics rather than volume.", "Take a timed mock exam regularly."]
    },
    disengaged: {
      name: "Disengaged",
      description: "Studies less often and for less time than peers.",
      recommendations: [
        "Set a 15-minute daily goal.",
        "Turn on reminders and fix a study time.",
        "Start with easy problems to build momentum."
      ]
    },
    efficient: {
      name: "Efficient",
      description: "Solves correct problems faster than before.",
      recommendations: ["Practise with timed sets.", "Increase the share of hard problems."]
    },
    slow: {
      name: "Careful",
      description: "Takes a long time per problem.",
      recommendations: ["Write down a solving strategy per problem type.", "Practise short timed sets."]
    },
    recovering: {
      name: "Recovering",
      description: "Often gets previously missed problems right.",
      recommendations: ["Keep using the mistake notebook.", "Check with new problems of the same type."]
    },
    "repeating mistakes": {
      name: "Repeating mistakes",
      description: "Often misses the same problems again.",
      recommendations: [
        "Write one line on why each answer was wrong.",
        "Redo missed problems three days later.",
        "Review the concept explanation first."
      ]
    },
    "high achiever": {
      name: "High achiever",
      description: "Accuracy is above peers.",
      recommendations: ["Broaden with advanced problems.", "Check recurring slips to aim for a perfect score."]
    },
    struggling: {
      name: "Struggling",
      description: "Accuracy is below peers.",
      recommendations: [
        "Review the basic concept lessons.",
        "Build confidence with easier problems.",
        "Plan the next weeks with a teacher."
      ]
    },
    "hint-heavy": {
      name: "Hint-heavy",
      description: "Uses hints often.",
      recommendations: ["Think one more minute before opening a hint.", "Redo hinted problems without the hint."]
    },
    independent: {
      name: "Independent",
      description: "Solves problems without hints.",
      recommendations: ["Use hints to check solutions on hard problems.", "Try a new topic."]
    },
    frequent: {
      name: "Frequent",
      description: "Has many study sessions.",
      recommendations: ["Set a target topic for each session.", "Add a weekly review session."]
    },
    infrequent: {
      name: "Infrequent",
      description: "Has few study sessions.",
      recommendations: ["Schedule at least three sessions a week.", "Log in often, even for short sessions."]
    },
    irregular: {
      name: "Irregular",
      description: "Long and uneven gaps between sessions.",
      recommendations: ["Study at the same time every day.", "Get a reminder when a gap grows long."]
    },
    regular: {
      name: "Regular",
      description: "Short, steady gaps between sessions.",
      recommendations: ["Keep the habit.", "Increase the workload a little at a time."]
    },
    fast: {
      name: "Fast",
      description: "Solves problems quickly.",
      recommendations: ["Double-check answers to cut slips.", "Add depth with harder problems."]
    },
    typical: {
      name: "Typical",
      description: "Most indicators are close to the cohort average.",
      recommendations: ["Pick one weak topic and focus on it.", "Set a weekly goal and check it."]
    }
  },
  unknownSegment: (label) => ({
    name: unknownSegmentName(
      label,
      "Pattern",
      (feature, high) => `${high ? "High" : "Low"} ${(enFeatures[feature] ?? "other indicator").toLowerCase()}`,
      "Other pattern"
    ),
    description: "No description for this pattern yet.",
    recommendations: ["Study steadily and review weak topics.", "Set a weekly goal and check it."]
  }),
  noValue: "–"
}

/**
 * A name for a label the texts do not know: the model's fallbacks are "segment <n>" and "<high|low> <feature>"
 * (see r-services/cluster/segments.R), worded here; anything else gets the generic name, never the English label.
 */
const unknownSegmentName = (
  label: string,
  numbered: string,
  byFeature: (feature: string, high: boolean) => string,
  other: string
): string => {
  const n = /^segment (\d+)$/.exec(label)
  if (n !== null) return `${numbered} ${n[1]}`
  const f = /^(high|low) (\S+)$/.exec(label)
  return f === null ? other : byFeature(f[2]!, f[1] === "high")
}

/** The texts of a locale. */
export const reportText = (locale: Locale): ReportText => (locale === "ko" ? ko : en)

/** The text of a segment label; labels the model made unique with a number ("slow 2") use their base label. */
export const segmentText = (text: ReportText, label: string): SegmentText =>
  text.segments[label] ?? text.segments[label.replace(/\s+\d+$/, "")] ?? text.unknownSegment(label)
