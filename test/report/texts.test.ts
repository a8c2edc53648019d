import { assert, describe, it } from "@effect/vitest"
import { fixed, formatKpi, percent } from "../../stages/report/ReportPage.ts"
import { reportText, type SectionName, segmentText } from "../../stages/report/ReportText.ts"
import { fitChecks, latestGrowthFit, type UnavailableReason } from "../../stages/report/StudentReport.ts"
import { latinWords } from "./browser.ts"

const sections: ReadonlyArray<SectionName> = ["kpis", "growth", "forecast", "churn", "segment"]
const reasons: ReadonlyArray<UnavailableReason> = [
  "NotRun",
  "NoStudentOutput",
  "ModelDeclined",
  "FitRejected",
  "Undecodable"
]
// what the models store: the forecast's statuses, the cluster service's features and fallback labels
const forecastCodes = ["insufficient_data", "constant_series", "failed", "empty", "something_new"]
const features = [
  "improvement",
  "engagement",
  "efficiency",
  "recovery",
  "accuracy",
  "hint_rate",
  "hints",
  "sessions",
  "mean_gap",
  "mean_gap_days",
  "response_time",
  "a_new_feature"
]
const labels = [
  "improving",
  "declining",
  "highly engaged",
  "disengaged",
  "efficient",
  "slow",
  "slow 2",
  "recovering",
  "repeating mistakes",
  "high achiever",
  "struggling",
  "hint-heavy",
  "independent",
  "frequent",
  "infrequent",
  "irregular",
  "regular",
  "fast",
  "typical",
  "segment 4",
  "high a_new_feature",
  "something else"
]

describe("report texts", () => {
  it("Korean: every reason, trait, segment and KPI text is Korean, whatever the model stored", () => {
    const ko = reportText("ko")
    const texts: Array<string> = []
    for (const section of sections) {
      for (const reason of reasons) {
        for (const code of [undefined, ...forecastCodes]) {
          texts.push(
            ko.unavailable(section, {
              _tag: "Unavailable",
              reason,
              detail: "English detail",
              ...(code === undefined ? {} : { code }),
              checks: ["rhat", "ess", "divergences", "other"]
            })
          )
        }
      }
    }
    for (const f of features) for (const z of [-2, -0.7, 0.7, 2]) texts.push(ko.segment.trait(f, z))
    for (const l of labels) {
      const s = segmentText(ko, l)
      texts.push(s.name, s.description, ...s.recommendations)
    }
    for (const k of Object.values(ko.kpis)) texts.push(k.name, k.meaning)
    texts.push(...Object.values(ko.sections), ko.growth.caption, ko.forecast.caption, ko.index.cohortCaption)
    assert.deepStrictEqual(latinWords(texts, []), [])
    // a label the texts do not know is never shown as the model's English label
    assert.strictEqual(segmentText(ko, "segment 4").name, "유형 4")
    assert.strictEqual(segmentText(ko, "something else").name, "기타 유형")
  })

  it("probabilities are shown inside [0, 1] and no number is shown as -0", () => {
    assert.strictEqual(percent(-4.4e-16), "0.0%")
    assert.strictEqual(percent(1.0000000000000002), "100.0%")
    assert.strictEqual(percent(-0.0004), "0.0%")
    assert.strictEqual(fixed(-0.0004, 3), "0.000")
    assert.strictEqual(fixed(-0.0006, 3), "-0.001")
    assert.strictEqual(formatKpi("I_t", -0.00001), "0.000")
    assert.strictEqual(formatKpi("P", -4.4e-16), "0.0%")
    assert.strictEqual(formatKpi("S", 0.4567), "45.7%")
  })

  it("growth fits: the latest verdict, and the checks a rejected fit failed", () => {
    assert.isUndefined(latestGrowthFit([]))
    assert.deepStrictEqual(
      latestGrowthFit([{ run_id: "a", diagnostics: { accepted: false, reasons: ["max R-hat 1.2 > 1.01"] } }]),
      { runId: "a", accepted: false, reasons: ["max R-hat 1.2 > 1.01"] }
    )
    // a fit recorded before the verdict existed was stored only when accepted
    assert.isTrue(latestGrowthFit([{ run_id: "b", diagnostics: { converged: true } }])!.accepted)
    assert.deepStrictEqual(
      fitChecks([
        "max R-hat 1.120 > 1.05",
        "min bulk ESS 120 < 400",
        "3 divergent transitions",
        "R-hat could not be computed",
        "tree depth"
      ]),
      ["rhat", "ess", "divergences", "other"]
    )
  })
})
