import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Exit } from "effect"
import * as Runner from "../../engine/Runner.ts"
import { generateWeeklyReport } from "../../pipelines/generateWeeklyReport.ts"
import { runtimeFor } from "../kpi/support.ts"
import { databases } from "../support/TestDatabase.ts"
import { assertPageWellFormed, browser, open, screenshot, shownNumber } from "./browser.ts"
import { HIGH_RISK, insertModelOutputs, LAST_DAY, LOW_RISK, outputFolder, seedReportCohort, WEEK } from "./support.ts"

// plain-language titles (issue #17): no model names a parent would have to look up
const sectionTitles = {
  en: [
    "This week at a glance",
    "Accuracy growth and goal",
    "Improvement forecast",
    "Risk of stopping",
    "Learning pattern"
  ],
  ko: ["이번 주 요약", "정답률 성장과 목표", "향상도 예측", "학습 중단 위험", "학습 패턴 유형"]
}

const fileOf = (dir: string, user: string, ext = "html") => path.join(dir, WEEK, `${user}.${ext}`)

const readArtifacts = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ user_id: string; format: string; url: string }>`
    SELECT user_id, format, url FROM report_artifacts WHERE week_start = ${WEEK}::date ORDER BY user_id, format`
})

// live clock: the report sink settles its files after the commit on a fiber that polls with the real clock
for (const [name, db] of databases) {
  layer(runtimeFor(db), { timeout: Duration.minutes(10), excludeTestServices: true })(
    `generate-weekly-report on the ${name} database`,
    (it) => {
      let users: ReadonlyArray<string> = []

      it.effect(
        "renders one self-contained page per active student; every section and chart shows in Chromium",
        () =>
          Effect.gen(function* () {
            users = yield* seedReportCohort
            assert.isTrue(users.length >= 20, `an active cohort (${users.length})`)
            yield* insertModelOutputs(users)
            const dir = outputFolder()
            const result = yield* Runner.run(generateWeeklyReport, {
              params: { asOf: LAST_DAY, outputDir: dir, locale: "en" }
            })
            assert.strictEqual(result.sinks[0]!.inserted, users.length)

            const artifacts = yield* readArtifacts
            assert.deepStrictEqual(
              artifacts.map((a) => a.user_id),
              [...users]
            )
            for (const a of artifacts) assert.isTrue(fs.existsSync(a.url), `${a.url} exists`)
            assert.isTrue(fs.existsSync(path.join(dir, WEEK, "index.html")))
            assert.deepStrictEqual(fs.readdirSync(dir), [WEEK], "no staging or previous folder left behind")

            const chromium = yield* browser
            const index = yield* open(chromium, path.join(dir, WEEK, "index.html"))
            assert.strictEqual(yield* Effect.promise(() => index.page.locator("tr[data-user]").count()), users.length)
            assert.deepStrictEqual(index.consoleErrors, [])
            assert.deepStrictEqual(index.outsideRequests, [])
            // the index links to each report
            yield* Effect.promise(() => index.page.locator(`tr[data-user="${users[HIGH_RISK.index]}"] a`).click())
            assert.strictEqual(decodeURIComponent(index.page.url()), `file://${fileOf(dir, users[HIGH_RISK.index]!)}`)
            yield* screenshot(index.page, `report-index-${name}.png`)

            for (const user of [users[HIGH_RISK.index]!, users[LOW_RISK.index]!, users[2]!, users.at(-1)!]) {
              const visit = yield* open(chromium, fileOf(dir, user))
              yield* assertPageWellFormed(visit, user)
            }
            const high = yield* open(chromium, fileOf(dir, users[HIGH_RISK.index]!))
            yield* screenshot(high.page, `report-${name}-high-risk-en.png`)
            // all four charts of a student with every model output
            assert.strictEqual(yield* Effect.promise(() => high.page.locator("figure.chart svg").count()), 3)
          }).pipe(Effect.scoped),
        300_000
      )

      it.effect(
        "shows the stored KPIs and model outputs; the planted high-risk student gets the high-risk gauge",
        () =>
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const dir = outputFolder()
            yield* Runner.run(generateWeeklyReport, { params: { asOf: LAST_DAY, outputDir: dir, locale: "en" } })
            const chromium = yield* browser
            const kpis = yield* sql<{ user_id: string; week_start: string; kpis: Record<string, number | null> }>`
          SELECT user_id, week_start::text AS week_start, kpis FROM weekly_kpi WHERE week_start >= ${WEEK}::date - 7`
            const posterior = yield* sql<{ user_id: string; p_goal: number; lower95: number; upper95: number }>`
          SELECT user_id, p_goal, lower95, upper95 FROM growth_brms_posterior`
            const segments = yield* sql<{
              user_id: string
              segment_label: string
            }>`SELECT user_id, segment_label FROM user_segment`
            let compared = 0
            for (const [i, user] of users.slice(0, 8).entries()) {
              const { page } = yield* open(chromium, fileOf(dir, user))
              const text = (selector: string) => Effect.promise(() => page.locator(selector).first().innerText())
              for (const [week, field] of [
                [WEEK, "current"],
                [new Date(Date.parse(WEEK) - 7 * 86_400_000).toISOString().slice(0, 10), "previous"]
              ] as const) {
                const stored = kpis.find((k) => k.user_id === user && k.week_start === week)?.kpis ?? {}
                for (const key of ["I_t", "E_t", "R_t", "A_t", "P", "S", "sessions", "mean_gap"]) {
                  const shown = yield* text(`tr[data-kpi="${key}"] [data-field="${field}"]`)
                  const value = stored[key]
                  if (value === null || value === undefined)
                    assert.strictEqual(shown, "–", `${user} ${key} ${field} is empty`)
                  else {
                    const n = shownNumber(shown)
                    assert.isTrue(
                      Math.abs(n.value - value) <= n.halfUnit,
                      `${user} ${key} ${field}: shown ${shown}, stored ${value}`
                    )
                  }
                  compared++
                }
              }
              const p = posterior.find((r) => r.user_id === user)!
              const shownP = shownNumber(yield* text(`[data-value="growth-p"]`))
              assert.isTrue(
                Math.abs(shownP.value - p.p_goal) <= shownP.halfUnit,
                `${user} P shown ${shownP.value}, stored ${p.p_goal}`
              )
              const interval = (yield* text(`[data-value="growth-interval"]`))
                .match(/(\d+\.\d)%/g)!
                .map((s) => Number(s.slice(0, -1)) / 100)
              assert.isTrue(
                Math.abs(interval[0]! - p.lower95) <= 0.0005 && Math.abs(interval[1]! - p.upper95) <= 0.0005,
                `${user} interval`
              )
              // the fit stored the lines of even students (as GrowthRows writes them): those draw their own line, the
              // others the cone to the horizon, with a note saying why
              const cone = yield* Effect.promise(() => page.locator(`[data-value="growth-cone"]`).count())
              assert.strictEqual(
                cone,
                i % 2 === 0 ? 0 : 1,
                `${user}: own growth line drawn only from stored coefficients`
              )
              const s = kpis.find((k) => k.user_id === user && k.week_start === WEEK)!.kpis["S"]!
              const shownS = shownNumber(yield* text(`[data-value="churn-s"]`))
              assert.isTrue(Math.abs(shownS.value - s) <= shownS.halfUnit, `${user} S`)
              const level = yield* Effect.promise(() =>
                page.locator("[data-risk-level]").first().getAttribute("data-risk-level")
              )
              assert.strictEqual(
                level,
                s < 0.3 ? "low" : s < 0.7 ? "medium" : "high",
                `${user} risk level for S = ${s}`
              )
              const label = yield* Effect.promise(() =>
                page.locator(`[data-value="segment-label"]`).getAttribute("data-label")
              )
              assert.strictEqual(label, segments.find((r) => r.user_id === user)!.segment_label)
              assert.isTrue(
                (yield* Effect.promise(() => page.locator(`[data-value="recommendations"] li`).count())) >= 2
              )
            }
            assert.isTrue(compared >= 100)

            // the planted students, as a person sees them: a red "High" badge and a red bar in the gauge
            const high = yield* open(chromium, fileOf(dir, users[HIGH_RISK.index]!))
            const badge = high.page.locator("#churn [data-risk-level]")
            assert.strictEqual(yield* Effect.promise(() => badge.getAttribute("data-risk-level")), "high")
            assert.strictEqual(yield* Effect.promise(() => badge.innerText()), "High")
            assert.strictEqual(
              yield* Effect.promise(() =>
                badge.evaluate((e) => (globalThis as any).getComputedStyle(e).backgroundColor as string)
              ),
              "rgb(214, 48, 49)"
            )
            assert.isTrue(
              yield* Effect.promise(() =>
                high.page
                  .locator('#churn svg path[fill="#d63031"], #churn svg rect[fill="#d63031"]')
                  .count()
                  .then((n) => n > 0)
              ),
              "a red gauge bar"
            )
            const low = yield* open(chromium, fileOf(dir, users[LOW_RISK.index]!))
            assert.strictEqual(
              yield* Effect.promise(() => low.page.locator("#churn [data-risk-level]").getAttribute("data-risk-level")),
              "low"
            )

            // anomalies are marked for the student that has them, and the declined forecast says why
            const anomalous = yield* open(chromium, fileOf(dir, users[2]!))
            assert.strictEqual(
              yield* Effect.promise(() =>
                anomalous.page.locator('[data-value="anomalies"]').getAttribute("data-count")
              ),
              "2"
            )
            assert.isTrue(
              yield* Effect.promise(() =>
                anomalous.page
                  .locator('#forecast svg path[fill="#d63031"]')
                  .count()
                  .then((n) => n === 2)
              ),
              "two red anomaly points"
            )
            const last = yield* open(chromium, fileOf(dir, users.at(-1)!))
            assert.strictEqual(
              yield* Effect.promise(() =>
                last.page.locator("#forecast [data-unavailable]").getAttribute("data-unavailable")
              ),
              "ModelDeclined"
            )
            // the model's status, and the reason in the reader's words (the status itself is folded into the technical detail)
            assert.strictEqual(
              yield* Effect.promise(() => last.page.locator("#forecast [data-unavailable]").getAttribute("data-code")),
              "insufficient_data"
            )
            assert.include(
              yield* Effect.promise(() => last.page.locator("#forecast").innerText()),
              "Too few weeks of improvement history"
            )
            assert.include(
              yield* Effect.promise(() => last.page.locator("#forecast details.tech").textContent()),
              "insufficient_data"
            )
            assert.strictEqual(
              yield* Effect.promise(() =>
                last.page.locator("#segment [data-unavailable]").getAttribute("data-unavailable")
              ),
              "NoStudentOutput"
            )

            // the index lists P and S as stored
            const index = yield* open(chromium, path.join(dir, WEEK, "index.html"))
            const row = index.page.locator(`tr[data-user="${users[HIGH_RISK.index]}"]`)
            const shownIndexS = shownNumber(yield* Effect.promise(() => row.locator('[data-field="S"]').innerText()))
            assert.isTrue(Math.abs(shownIndexS.value - HIGH_RISK.s) <= shownIndexS.halfUnit)
          }).pipe(Effect.scoped),
        300_000
      )

      it.effect(
        "a missing model output gives a section that says so and why; Korean by default",
        () =>
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            yield* sql`TRUNCATE prophet_fit_meta, prophet_anomalies, survival_fit_meta, user_segment, segment_meta`
            yield* sql`UPDATE weekly_kpi SET kpis = kpis - 'S'`
            const dir = outputFolder()
            const result = yield* Runner.run(generateWeeklyReport, { params: { asOf: LAST_DAY, outputDir: dir } })
            const notes = result.stages.find((s) => s.name === "reports")!.notes
            assert.deepStrictEqual(notes["unavailableSections"], {
              forecast: { NotRun: users.length },
              churn: { NotRun: users.length },
              segment: { NotRun: users.length }
            })
            const chromium = yield* browser
            const visit = yield* open(chromium, fileOf(dir, users[0]!))
            yield* assertPageWellFormed(visit, "models missing")
            const { page } = visit
            assert.strictEqual(yield* Effect.promise(() => page.locator("html").getAttribute("lang")), "ko")
            for (const [id, title] of [
              ["kpis", 0],
              ["growth", 1],
              ["forecast", 2],
              ["churn", 3],
              ["segment", 4]
            ] as const) {
              assert.strictEqual(
                yield* Effect.promise(() => page.locator(`#${id} h2`).innerText()),
                sectionTitles.ko[title]
              )
            }
            assert.strictEqual(
              yield* Effect.promise(() => page.locator("#growth").getAttribute("data-status")),
              "available"
            )
            for (const id of ["forecast", "churn", "segment"]) {
              assert.strictEqual(
                yield* Effect.promise(() => page.locator(`#${id}`).getAttribute("data-status")),
                "unavailable"
              )
              assert.strictEqual(
                yield* Effect.promise(() => page.locator(`#${id} [data-unavailable]`).getAttribute("data-unavailable")),
                "NotRun"
              )
              assert.include(yield* Effect.promise(() => page.locator(`#${id}`).innerText()), "실행되지 않았습니다")
            }
            // the rule-based estimate is still shown where S is missing
            assert.strictEqual(
              yield* Effect.promise(() => page.locator('#churn [data-value="churn-heuristic"]').count()),
              1
            )
            yield* screenshot(page, `report-${name}-models-missing-ko.png`)
            yield* insertModelOutputs(users)
          }).pipe(Effect.scoped),
        300_000
      )

      it.effect(
        "prints every page to PDF; the PDF has the sections, report_artifacts has both formats",
        () =>
          Effect.gen(function* () {
            const dir = outputFolder()
            yield* Runner.run(generateWeeklyReport, {
              params: { asOf: LAST_DAY, outputDir: dir, locale: "en", format: "html,pdf" }
            })
            const artifacts = yield* readArtifacts
            assert.strictEqual(artifacts.filter((a) => a.format === "pdf").length, users.length)
            assert.strictEqual(artifacts.filter((a) => a.format === "html").length, users.length)
            const pdf = fileOf(dir, users[HIGH_RISK.index]!, "pdf")
            assert.strictEqual(fs.readFileSync(pdf).subarray(0, 5).toString(), "%PDF-")
            const text = execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" })
            for (const title of sectionTitles.en) assert.include(text, title)
            assert.include(text, users[HIGH_RISK.index]!)
            assert.include(text, "High")
          }),
        300_000
      )

      it.effect(
        "sweeps what earlier runs' processes left behind, and keeps what a person must decide on",
        () =>
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const dir = outputFolder()
            // as a process that ended too early would leave them: a staging folder of a crashed run (no longer running),
            // one of a run still in progress, the previous reports of a run that committed and of one that did not
            const insertRun = (id: string, status: string) =>
              sql`INSERT INTO pipeline_run (id, pipeline, params, trigger, status, host)
              VALUES (${id}, 'generate-weekly-report', '{}'::jsonb, 'test', ${status}, 'test')`
            yield* insertRun("run_crashed", "failed")
            yield* insertRun("run_live", "running")
            yield* insertRun("run_committed", "succeeded")
            const folders = {
              crashedStaging: `.staging-${WEEK}-run_crashed`,
              liveStaging: `.staging-${WEEK}-run_live`,
              committedPrevious: `${WEEK}.previous-run_committed`,
              uncommittedPrevious: `${WEEK}.previous-run_crashed`
            }
            for (const folder of Object.values(folders)) {
              fs.mkdirSync(path.join(dir, folder))
              fs.writeFileSync(path.join(dir, folder, "s00001.html"), "<p>left over</p>")
            }
            const result = yield* Runner.run(generateWeeklyReport, {
              params: { asOf: LAST_DAY, outputDir: dir, locale: "en" }
            })
            assert.deepStrictEqual(
              fs.readdirSync(dir).sort(),
              [folders.liveStaging, WEEK, folders.uncommittedPrevious].sort(),
              "the crashed run's staging and the committed run's previous reports are gone; the others stay"
            )
            const leftovers = result.stages.find((s) => s.name === "render")!.notes["leftovers"] as {
              removed: ReadonlyArray<string>
              kept: ReadonlyArray<{ folder: string; why: string }>
            }
            assert.deepStrictEqual(
              [...leftovers.removed].sort(),
              [folders.crashedStaging, folders.committedPrevious].sort()
            )
            assert.deepStrictEqual(
              leftovers.kept.map((k) => k.folder).sort(),
              [folders.liveStaging, folders.uncommittedPrevious].sort()
            )
            assert.include(leftovers.kept.find((k) => k.folder === folders.uncommittedPrevious)!.why, "did not commit")
            yield* sql`DELETE FROM pipeline_run WHERE id IN ('run_crashed', 'run_live', 'run_committed')`
          }),
        300_000
      )

      it.effect(
        "a commit that fails leaves the week's previous reports in place and nothing new",
        () =>
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const dir = outputFolder()
            yield* Runner.run(generateWeeklyReport, { params: { asOf: LAST_DAY, outputDir: dir, locale: "en" } })
            const before = fs.readFileSync(fileOf(dir, users[0]!), "utf8")
            // a deferred constraint fails at COMMIT, after the sink has moved the new folder into place
            yield* sql.unsafe(`
          CREATE OR REPLACE FUNCTION report_artifacts_refuse() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$`)
            yield* sql.unsafe(`
          CREATE CONSTRAINT TRIGGER report_artifacts_refuse AFTER INSERT OR UPDATE ON report_artifacts
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_artifacts_refuse()`)
            const failed = yield* Effect.exit(
              Runner.run(generateWeeklyReport, { params: { asOf: LAST_DAY, outputDir: dir, locale: "ko" } })
            )
            yield* sql.unsafe(`DROP TRIGGER report_artifacts_refuse ON report_artifacts`)
            assert.isTrue(Exit.isFailure(failed), "the run fails")
            // the settle fiber restores the previous folder once the transaction is known to be aborted
            let restored = false
            for (let i = 0; i < 100 && !restored; i++) {
              yield* Effect.sleep(Duration.millis(100))
              restored = fs.readdirSync(dir).length === 1 && fs.readFileSync(fileOf(dir, users[0]!), "utf8") === before
            }
            assert.isTrue(restored, `the previous reports are back: ${fs.readdirSync(dir).join(", ")}`)

            // a first run whose commit fails leaves no folder at all
            const fresh = outputFolder()
            yield* sql.unsafe(`
          CREATE CONSTRAINT TRIGGER report_artifacts_refuse AFTER INSERT OR UPDATE ON report_artifacts
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_artifacts_refuse()`)
            const again = yield* Effect.exit(
              Runner.run(generateWeeklyReport, { params: { asOf: LAST_DAY, outputDir: fresh, locale: "ko" } })
            )
            yield* sql.unsafe(`DROP TRIGGER report_artifacts_refuse ON report_artifacts`)
            assert.isTrue(Exit.isFailure(again))
            let empty = false
            for (let i = 0; i < 100 && !empty; i++) {
              yield* Effect.sleep(Duration.millis(100))
              empty = fs.readdirSync(fresh).length === 0
            }
            assert.isTrue(empty, `nothing published: ${fs.readdirSync(fresh).join(", ")}`)
          }),
        300_000
      )
    }
  )
}
