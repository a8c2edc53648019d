import type { RiskLevel, SummaryKey, UnavailableReason } from "./StudentReport.ts"

/** The report languages (`REPORT_LOCALE`). */
export type Locale = "ko" | "en"

/** What a segment label means for a student, and what to do about it. */
export interface SegmentText {
  readonly name: string
  readonly description: string
  readonly recommendations: ReadonlyArray<string>
}

/** Every fixed text of a report page in one language. */
export interface ReportText {
  readonly lang: Locale
  readonly title: string
  readonly weekOf: (week: string) => string
  readonly sections: {
    readonly kpis: string
    readonly growth: string
    readonly forecast: string
    readonly churn: string
    readonly segment: string
  }
  readonly kpiNames: Readonly<Record<SummaryKey, string>>
  readonly columns: { readonly kpi: string; readonly thisWeek: string; readonly lastWeek: string; readonly change: string }
  readonly growth: {
    readonly probability: string
    readonly interval: (lower: string, upper: string, horizon: number) => string
    readonly target: (target: string) => string
    readonly coneNote: string
    readonly caption: string
  }
  readonly forecast: { readonly caption: string; readonly anomalies: (n: number) => string }
  readonly churn: {
    readonly risk: string
    readonly levels: Readonly<Record<RiskLevel, string>>
    readonly heuristic: (value: string) => string
    readonly concordance: (value: string) => string
  }
  readonly segment: { readonly traits: string; readonly recommendations: string; readonly label: string }
  readonly unavailable: Readonly<Record<UnavailableReason, string>>
  readonly unavailableTitle: string
  readonly index: { readonly title: string; readonly student: string; readonly report: string; readonly open: string; readonly segment: string }
  readonly segments: Readonly<Record<string, SegmentText>>
  readonly unknownSegment: (label: string) => SegmentText
  readonly noValue: string
}

const ko: ReportText = {
  lang: "ko",
  title: "주간 학습 리포트",
  weekOf: (week) => `${week} 주`,
  sections: {
    kpis: "주요 지표 요약",
    growth: "베이지안 성장 분석",
    forecast: "Prophet 향상도 예측",
    churn: "이탈 위험",
    segment: "학습 패턴 유형"
  },
  kpiNames: {
    I_t: "향상도 I_t",
    E_t: "효율성 E_t",
    R_t: "회복률 R_t",
    A_t: "참여도 A_t",
    P: "목표 달성 확률 P",
    S: "이탈 위험 S",
    sessions: "학습 세션 수 (28일)",
    mean_gap: "평균 학습 간격 (일)"
  },
  columns: { kpi: "지표", thisWeek: "이번 주", lastWeek: "지난 주", change: "변화" },
  growth: {
    probability: "목표 달성 확률 P",
    interval: (lower, upper, horizon) => `${horizon}주 후 예상 정답률 95% 신용구간: ${lower} – ${upper}`,
    target: (target) => `목표 정답률 ${target}`,
    coneNote: "학생별 추세 계수가 저장되지 않아, 마지막 주에서 목표 시점의 95% 구간까지를 표시합니다.",
    caption: "주별 정답률(점), 적합된 추세와 95% 신용구간(띠)"
  },
  forecast: {
    caption: "향상도 I_t 기록(실선), 예측과 불확실성 구간(띠), 이상치(빨간 점)",
    anomalies: (n) => (n === 0 ? "이상치 없음" : `이상치 ${n}건`)
  },
  churn: {
    risk: "이탈 위험 S",
    levels: { low: "낮음", medium: "보통", high: "높음" },
    heuristic: (value) => `규칙 기반 추정치: ${value}`,
    concordance: (value) => `복귀 시점 모형의 일치도(C-index, 0.5 = 무작위): ${value}`
  },
  segment: { traits: "주요 특성", recommendations: "맞춤 추천", label: "유형" },
  unavailable: {
    NotRun: "이 모형은 아직 실행되지 않았습니다.",
    NoStudentOutput: "이 학생에 대한 모형 결과가 없습니다.",
    ModelDeclined: "모형이 이 학생의 데이터로 결과를 만들지 못했습니다.",
    Undecodable: "저장된 모형 결과를 읽을 수 없습니다."
  },
  unavailableTitle: "이 섹션을 표시할 수 없습니다",
  index: { title: "주간 리포트 목록", student: "학생", report: "리포트", open: "열기", segment: "유형" },
  segments: {
    "improving": { name: "꾸준히 성장하는 학생", description: "최근 정답률이 뚜렷하게 오르고 있습니다.", recommendations: ["난이도를 한 단계 높인 문제에 도전해 보세요.", "지금의 학습 리듬을 유지하세요."] },
    "declining": { name: "정체·하락 중인 학생", description: "최근 정답률이 이전보다 낮아졌습니다.", recommendations: ["최근 틀린 문제를 다시 풀어 보세요.", "짧게라도 매일 학습해 감각을 되찾으세요.", "어려운 단원은 개념부터 복습하세요."] },
    "highly engaged": { name: "적극 참여형", description: "자주, 오래 학습하고 있습니다.", recommendations: ["양보다 약점 단원에 집중해 보세요.", "주기적으로 실전 모의고사를 풀어 보세요."] },
    "disengaged": { name: "참여 저조형", description: "학습 빈도와 시간이 또래보다 적습니다.", recommendations: ["하루 15분 학습 목표를 정해 보세요.", "알림을 켜고 학습 시간을 고정하세요.", "쉬운 문제부터 시작해 흐름을 만드세요."] },
    "efficient": { name: "효율형", description: "정답 문제의 풀이 시간이 빨라지고 있습니다.", recommendations: ["시간 제한이 있는 세트로 실전 감각을 키우세요.", "고난도 문제 비중을 늘려 보세요."] },
    "slow": { name: "신중형", description: "문제 풀이에 시간이 오래 걸립니다.", recommendations: ["유형별 풀이 전략을 정리해 보세요.", "시간을 재며 짧은 세트를 풀어 보세요."] },
    "recovering": { name: "오답 회복형", description: "틀렸던 문제를 다시 맞히는 비율이 높습니다.", recommendations: ["오답 노트를 계속 활용하세요.", "비슷한 유형의 새 문제로 확인하세요."] },
    "repeating mistakes": { name: "반복 실수형", description: "틀렸던 문제를 다시 틀리는 경우가 많습니다.", recommendations: ["오답의 원인을 한 줄로 적어 보세요.", "틀린 문제는 사흘 뒤 다시 풀어 보세요.", "개념 설명을 먼저 복습하세요."] },
    "high achiever": { name: "우수 성취형", description: "정답률이 또래보다 높습니다.", recommendations: ["심화 문제로 실력을 넓혀 보세요.", "실수 유형을 점검해 만점을 노리세요."] },
    "struggling": { name: "도움이 필요한 학생", description: "정답률이 또래보다 낮습니다.", recommendations: ["기초 개념 강의부터 복습하세요.", "쉬운 문제로 자신감을 쌓으세요.", "선생님과 학습 계획을 상의해 보세요."] },
    "hint-heavy": { name: "힌트 의존형", description: "힌트를 자주 사용합니다.", recommendations: ["힌트 전 1분 더 스스로 생각해 보세요.", "힌트로 푼 문제는 힌트 없이 다시 풀어 보세요."] },
    "independent": { name: "자기주도형", description: "힌트 없이 스스로 문제를 풉니다.", recommendations: ["어려운 문제에서는 힌트로 풀이를 확인해 보세요.", "새로운 단원에 도전해 보세요."] },
    "frequent": { name: "자주 학습형", description: "학습 세션이 잦습니다.", recommendations: ["세션마다 목표 단원을 정해 보세요.", "주 1회 복습 세션을 넣어 보세요."] },
    "infrequent": { name: "간헐 학습형", description: "학습 세션이 드뭅니다.", recommendations: ["주 3회 이상 학습 일정을 잡아 보세요.", "짧은 세션이라도 자주 접속해 보세요."] },
    "irregular": { name: "불규칙 학습형", description: "학습 간격이 길고 들쭉날쭉합니다.", recommendations: ["매일 같은 시간에 학습해 보세요.", "학습 간격이 길어지면 알림을 받도록 설정하세요."] },
    "regular": { name: "규칙 학습형", description: "학습 간격이 짧고 일정합니다.", recommendations: ["지금의 습관을 유지하세요.", "학습량을 조금씩 늘려 보세요."] },
    "fast": { name: "속도형", description: "풀이 속도가 빠릅니다.", recommendations: ["검산 습관으로 실수를 줄이세요.", "고난도 문제로 깊이를 더하세요."] },
    "typical": { name: "평균형", description: "대부분의 지표가 또래 평균과 비슷합니다.", recommendations: ["약한 단원 하나를 골라 집중해 보세요.", "주간 목표를 세우고 점검하세요."] }
  },
  unknownSegment: (label) => ({ name: label, description: "이 유형에 대한 설명이 아직 없습니다.", recommendations: ["꾸준히 학습하고 약점 단원을 복습하세요.", "주간 목표를 세우고 점검하세요."] }),
  noValue: "–"
}

const en: ReportText = {
  lang: "en",
  title: "Weekly learning report",
  weekOf: (week) => `Week of ${week}`,
  sections: {
    kpis: "KPI summary",
    growth: "Bayesian growth",
    forecast: "Prophet forecast",
    churn: "Churn risk",
    segment: "Learning-pattern segment"
  },
  kpiNames: {
    I_t: "Improvement I_t",
    E_t: "Efficiency E_t",
    R_t: "Recovery R_t",
    A_t: "Engagement A_t",
    P: "Goal attainment P",
    S: "Churn risk S",
    sessions: "Sessions (28 days)",
    mean_gap: "Mean gap between sessions (days)"
  },
  columns: { kpi: "KPI", thisWeek: "This week", lastWeek: "Last week", change: "Change" },
  growth: {
    probability: "Probability of reaching the goal P",
    interval: (lower, upper, horizon) => `95% credible interval of the expected accuracy in ${horizon} weeks: ${lower} – ${upper}`,
    target: (target) => `Target accuracy ${target}`,
    coneNote: "The growth fit stored no per-student trend, so the band runs from the last week to the 95% interval at the horizon.",
    caption: "Weekly accuracy (points), fitted trend and its 95% credible band"
  },
  forecast: {
    caption: "Improvement I_t history (line), forecast with its uncertainty band, anomalies (red points)",
    anomalies: (n) => (n === 0 ? "No anomalies" : `${n} anomal${n === 1 ? "y" : "ies"}`)
  },
  churn: {
    risk: "Churn risk S",
    levels: { low: "Low", medium: "Medium", high: "High" },
    heuristic: (value) => `Rule-based estimate: ${value}`,
    concordance: (value) => `Concordance of the time-to-return model (C-index, 0.5 = chance): ${value}`
  },
  segment: { traits: "Main traits", recommendations: "Recommendations", label: "Segment" },
  unavailable: {
    NotRun: "This model has not run yet.",
    NoStudentOutput: "The model produced no result for this student.",
    ModelDeclined: "The model could not produce a result from this student's data.",
    Undecodable: "The stored model output could not be read."
  },
  unavailableTitle: "This section is unavailable",
  index: { title: "Weekly reports", student: "Student", report: "Report", open: "Open", segment: "Segment" },
  segments: {
    "improving": { name: "Improving", description: "Accuracy has been rising clearly in recent weeks.", recommendations: ["Try problems one level harder.", "Keep the current study rhythm."] },
    "declining": { name: "Declining", description: "Recent accuracy is lower than before.", recommendations: ["Redo the problems you missed recently.", "Study a little every day to get back on track.", "Review the concepts of the hardest topics first."] },
    "highly engaged": { name: "Highly engaged", description: "Studies often and for long sessions.", recommendations: ["Focus the time on weak topics rather than volume.", "Take a timed mock exam regularly."] },
    "disengaged": { name: "Disengaged", description: "Studies less often and for less time than peers.", recommendations: ["Set a 15-minute daily goal.", "Turn on reminders and fix a study time.", "Start with easy problems to build momentum."] },
    "efficient": { name: "Efficient", description: "Solves correct problems faster than before.", recommendations: ["Practise with timed sets.", "Increase the share of hard problems."] },
    "slow": { name: "Careful", description: "Takes a long time per problem.", recommendations: ["Write down a solving strategy per problem type.", "Practise short timed sets."] },
    "recovering": { name: "Recovering", description: "Often gets previously missed problems right.", recommendations: ["Keep using the mistake notebook.", "Check with new problems of the same type."] },
    "repeating mistakes": { name: "Repeating mistakes", description: "Often misses the same problems again.", recommendations: ["Write one line on why each answer was wrong.", "Redo missed problems three days later.", "Review the concept explanation first."] },
    "high achiever": { name: "High achiever", description: "Accuracy is above peers.", recommendations: ["Broaden with advanced problems.", "Check recurring slips to aim for a perfect score."] },
    "struggling": { name: "Struggling", description: "Accuracy is below peers.", recommendations: ["Review the basic concept lessons.", "Build confidence with easier problems.", "Plan the next weeks with a teacher."] },
    "hint-heavy": { name: "Hint-heavy", description: "Uses hints often.", recommendations: ["Think one more minute before opening a hint.", "Redo hinted problems without the hint."] },
    "independent": { name: "Independent", description: "Solves problems without hints.", recommendations: ["Use hints to check solutions on hard problems.", "Try a new topic."] },
    "frequent": { name: "Frequent", description: "Has many study sessions.", recommendations: ["Set a target topic for each session.", "Add a weekly review session."] },
    "infrequent": { name: "Infrequent", description: "Has few study sessions.", recommendations: ["Schedule at least three sessions a week.", "Log in often, even for short sessions."] },
    "irregular": { name: "Irregular", description: "Long and uneven gaps between sessions.", recommendations: ["Study at the same time every day.", "Get a reminder when a gap grows long."] },
    "regular": { name: "Regular", description: "Short, steady gaps between sessions.", recommendations: ["Keep the habit.", "Increase the workload a little at a time."] },
    "fast": { name: "Fast", description: "Solves problems quickly.", recommendations: ["Double-check answers to cut slips.", "Add depth with harder problems."] },
    "typical": { name: "Typical", description: "Most indicators are close to the cohort average.", recommendations: ["Pick one weak topic and focus on it.", "Set a weekly goal and check it."] }
  },
  unknownSegment: (label) => ({ name: label, description: "No description for this segment yet.", recommendations: ["Study steadily and review weak topics.", "Set a weekly goal and check it."] }),
  noValue: "–"
}

/** The texts of a locale. */
export const reportText = (locale: Locale): ReportText => (locale === "ko" ? ko : en)

/** The text of a segment label; labels the model made unique with a number ("slow 2") use their base label. */
export const segmentText = (text: ReportText, label: string): SegmentText =>
  text.segments[label] ?? text.segments[label.replace(/\s+\d+$/, "")] ?? text.unknownSegment(label)
