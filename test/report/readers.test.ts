import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as Runner from "../../engine/Runner.ts"
import { generateWeeklyReport } from "../../pipelines/generateWeeklyReport.ts"
import { runtimeFor } from "../kpi/support.ts"
import { embedded } from "../support/TestDatabase.ts"
import {
  assertPageWellFormed,
  browser,
  contrastFailures,
  latinWords,
  open,
  readerTexts,
  screenshotAt
} from "./browser.ts"
import { HIGH_RISK, insertModelOutputs, LAST_DAY, LOW_RISK, outputFolder, seedReportCohort, WEEK } from "./support.ts"

const fileOf = (dir: string, user: string, ext = "html") => path.join(dir, WEEK, `${user}.${ext}`)
const artifacts = path.resolve("test-artifacts")

// What parents and teachers read (issue #17): Korean throughout, the overview in order of need, phone and paper.
// One database is enough here: what is tested is the pages, the storage is covered by generateWeeklyReport.test.ts.
layer(runtimeFor(embedded), { timeout: Duration.minutes(10), excludeTestServices: true })(
  "the weekly report as parents and teachers read it",
  (it) => {
    let users: ReadonlyArray<string> = []

    it.effect(
      "Korean pages and overview: no English prose, AA contrast, no sideways scrolling at 390 px; screenshots and a PDF page",
      () =>
        Effect.gen(function* () {
          users = yield* seedReportCohort
          yield* insertModelOutputs(users)
          const dir = outputFolder()
          // Korean is the default locale
          const result = yield* Runner.run(generateWeeklyReport, {
            params: { asOf: LAST_DAY, outputDir: dir, format: "html,pdf" }
          })
          assert.isUndefined(result.stages.find((s) => s.name === "render")!.notes["failedPdfs"], "every page printed")
          const chromium = yield* browser
          const high = users[HIGH_RISK.index]!
          for (const file of [
            fileOf(dir, high),
            fileOf(dir, users[2]!),
            fileOf(dir, users.at(-1)!),
            path.join(dir, WEEK, "index.html")
          ]) {
            const visit = yield* open(chromium, file)
            assert.strictEqual(yield* Effect.promise(() => visit.page.locator("html").getAttribute("lang")), "ko")
            const texts = yield* Effect.promise(() => readerTexts(visit.page))
            assert.isTrue(texts.join(" ").length > 400, `${file}: the scan sees the page's text`)
            assert.deepStrictEqual(latinWords(texts, users), [], `${file}: English words a Korean reader meets`)
            for (const width of [390, 1280]) {
              yield* Effect.promise(() => visit.page.setViewportSize({ width, height: 900 }))
              assert.deepStrictEqual(
                yield* Effect.promise(() => contrastFailures(visit.page)),
                [],
                `${file} at ${width} px: text below WCAG AA contrast`
              )
              const overflow = yield* Effect.promise(() =>
                visit.page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)
              )
              assert.isTrue(overflow <= width, `${file} at ${width} px is ${overflow} px wide`)
            }
            assert.deepStrictEqual(
              visit.consoleErrors,
              [],
              `${file}: no console errors (the overview's script runs under its CSP)`
            )
          }

          // the student page: every chart has a title and a text alternative; the growth chart draws the target and P
          const student = yield* open(chromium, fileOf(dir, high))
          yield* assertPageWellFormed(student, high)
          for (const chart of ["growth", "forecast", "churn"]) {
            const figure = student.page.locator(`figure[data-chart="${chart}"]`)
            assert.isTrue(
              (yield* Effect.promise(() => figure.locator("figcaption strong").innerText())).length > 3,
              `${chart} has a title`
            )
            assert.isTrue(
              ((yield* Effect.promise(() => figure.locator('[role="img"]').getAttribute("aria-label"))) ?? "").length >
                20,
              `${chart} has a text alternative`
            )
          }
          const growthText = yield* Effect.promise(() =>
            student.page.locator('figure[data-chart="growth"] svg').textContent()
          )
          const shownP = yield* Effect.promise(() => student.page.locator('[data-value="growth-p"]').innerText())
          assert.include(growthText, "목표 70.0%", "the target line is labelled")
          assert.include(growthText, `도달 확률 ${shownP}`, "P is on the chart")
          // S in the summary row is the gauge's
          assert.strictEqual(
            yield* Effect.promise(() => student.page.locator('tr[data-kpi="S"] [data-field="current"]').innerText()),
            yield* Effect.promise(() => student.page.locator('[data-value="churn-s"]').innerText())
          )
          yield* screenshotAt(student.page, 390, "report-student-ko-390.png")
          yield* screenshotAt(student.page, 1280, "report-student-ko-1280.png")
          const overview = yield* open(chromium, path.join(dir, WEEK, "index.html"))
          yield* screenshotAt(overview.page, 390, "report-overview-ko-390.png")
          yield* screenshotAt(overview.page, 1280, "report-overview-ko-1280.png")

          // the PDF: A4, Korean text extractable, its first page as an image
          const pdf = fileOf(dir, high, "pdf")
          const info = execFileSync("pdfinfo", [pdf], { encoding: "utf8" })
          assert.match(info, /Page size:\s+595(\.\d+)? x 842/, "A4")
          assert.include(execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" }), "학습 중단 위험")
          execFileSync("pdftoppm", [
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf,
            path.join(artifacts, "report-student-ko-pdf-page1")
          ])
          assert.isTrue(fs.statSync(path.join(artifacts, "report-student-ko-pdf-page1.png")).size > 10_000)
        }).pipe(Effect.scoped),
      600_000
    )

    it.effect(
      "the overview lists every student by churn risk S, highest first, and sorts and filters in the page",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const dir = outputFolder()
          yield* Runner.run(generateWeeklyReport, { params: { asOf: LAST_DAY, outputDir: dir } })
          const stored = yield* sql<{ user_id: string; s: number | null; p: number | null }>`
        SELECT user_id, (kpis ->> 'S')::float8 AS s, (kpis ->> 'P')::float8 AS p FROM weekly_kpi WHERE week_start = ${WEEK}::date`
          const expected = [...stored]
            .sort((a, b) => (b.s ?? -1) - (a.s ?? -1) || (a.user_id < b.user_id ? -1 : 1))
            .map((r) => r.user_id)
          const chromium = yield* browser
          const { page } = yield* open(chromium, path.join(dir, WEEK, "index.html"))
          const order = () =>
            Effect.promise(() =>
              page
                .locator("#attention-table tbody tr:visible")
                .evaluateAll((rows) => rows.map((r) => (r as any).dataset.user as string))
            )
          const shown = yield* order()
          assert.strictEqual(shown.length, users.length)
          // ties in S are broken by days since last activity, so compare the S sequence and the top student
          const sOf = new Map(stored.map((r) => [r.user_id, r.s]))
          assert.deepStrictEqual(
            shown.map((u) => sOf.get(u)),
            expected.map((u) => sOf.get(u)),
            "ordered by S, highest first"
          )
          assert.isBelow(
            shown.indexOf(users[HIGH_RISK.index]!),
            shown.indexOf(users[LOW_RISK.index]!),
            "the planted high-risk student before the low-risk one"
          )
          // each row: S, its change, days since the last activity, P and the segment
          const first = page.locator(`#attention-table tr[data-user="${shown[0]}"]`)
          for (const field of ["S", "change", "days", "P", "segment"]) {
            assert.notStrictEqual(
              (yield* Effect.promise(() => first.locator(`[data-field="${field}"]`).innerText())).trim(),
              "",
              field
            )
          }
          assert.match(
            yield* Effect.promise(() => first.locator('[data-field="days"]').innerText()),
            /^(오늘|\d+일 전)$/
          )
          // sort by P: the header toggles descending, then ascending
          yield* Effect.promise(() => page.locator('th button[data-sort="goal"]').click())
          const byP = (yield* order())
            .map((u) => stored.find((r) => r.user_id === u)!.p)
            .filter((p): p is number => p !== null)
          assert.deepStrictEqual(
            byP,
            [...byP].sort((a, b) => b - a),
            "sorted by P, highest first"
          )
          yield* Effect.promise(() => page.locator('th button[data-sort="goal"]').click())
          const byPUp = (yield* order())
            .map((u) => stored.find((r) => r.user_id === u)!.p)
            .filter((p): p is number => p !== null)
          assert.deepStrictEqual(
            byPUp,
            [...byPUp].sort((a, b) => a - b),
            "then lowest first"
          )
          // filter: high risk only, then one student by name
          yield* Effect.promise(() => page.locator("#filter-level").selectOption("high"))
          const highOnly = yield* order()
          assert.deepStrictEqual(
            highOnly.sort(),
            stored
              .filter((r) => r.s !== null && r.s >= 0.7)
              .map((r) => r.user_id)
              .sort()
          )
          yield* Effect.promise(() => page.locator("#filter-level").selectOption(""))
          yield* Effect.promise(() => page.locator("#filter-student").fill(users[5]!))
          assert.deepStrictEqual(yield* order(), [users[5]])
          // the segment distribution, the P distribution and the cohort's I_t with its anomalous week, as charts
          for (const chart of ["segments", "probabilities", "cohort"]) {
            assert.strictEqual(
              yield* Effect.promise(() => page.locator(`figure[data-chart="${chart}"] svg`).count()),
              1,
              chart
            )
          }
          assert.strictEqual(
            yield* Effect.promise(() => page.locator('#cohort [data-value="anomalies"]').getAttribute("data-count")),
            "1"
          )
          assert.include(
            yield* Effect.promise(() => page.locator('#cohort [data-value="anomalies"]').innerText()),
            "예상"
          )
        }).pipe(Effect.scoped),
      300_000
    )

    it.effect(
      "a student with no growth posterior, no forecast and no segment still gets every section, each with its reason",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const lone = users[3]!
          yield* sql`DELETE FROM growth_brms_posterior WHERE user_id = ${lone}`
          yield* sql`DELETE FROM prophet_fit_meta WHERE user_id = ${lone}`
          yield* sql`DELETE FROM user_segment WHERE user_id = ${lone}`
          // the latest growth fit was rejected; the others keep the posterior of the earlier, accepted fit
          yield* sql`INSERT INTO growth_brms_meta (run_id, formula, priors, posterior_summary, diagnostics, fitted_at)
        VALUES ('run_growth_rejected', 'score ~ week + (week | student)', '{}'::jsonb, '{}'::jsonb,
                '{"accepted": false, "reasons": ["max R-hat 1.120 > 1.05", "3 divergent transitions"]}'::jsonb, now() + interval '1 hour')`
          const dir = outputFolder()
          const result = yield* Runner.run(generateWeeklyReport, { params: { asOf: LAST_DAY, outputDir: dir } })
          const notes = result.stages.find((s) => s.name === "reports")!.notes["unavailableSections"] as Record<
            string,
            Record<string, number>
          >
          assert.deepStrictEqual(notes["growth"], { FitRejected: 1 })
          const chromium = yield* browser
          const visit = yield* open(chromium, fileOf(dir, lone))
          yield* assertPageWellFormed(visit, lone)
          const { page } = visit
          const reason = (id: string) => Effect.promise(() => page.locator(`#${id} [data-value="reason"]`).innerText())
          assert.strictEqual(
            yield* Effect.promise(() => page.locator("#growth [data-unavailable]").getAttribute("data-unavailable")),
            "FitRejected"
          )
          assert.include(yield* reason("growth"), "품질 검사")
          assert.include(yield* reason("growth"), "계산 과정이 불안정함", "the failed checks, in Korean")
          assert.strictEqual(
            yield* Effect.promise(() => page.locator("#forecast [data-unavailable]").getAttribute("data-unavailable")),
            "NoStudentOutput"
          )
          assert.include(yield* reason("forecast"), "4주")
          assert.strictEqual(
            yield* Effect.promise(() => page.locator("#segment [data-unavailable]").getAttribute("data-unavailable")),
            "NoStudentOutput"
          )
          assert.include(yield* reason("segment"), "포함되지 않았습니다")
          for (const id of ["kpis", "churn"])
            assert.strictEqual(
              yield* Effect.promise(() => page.locator(`#${id}`).getAttribute("data-status")),
              "available"
            )
          assert.deepStrictEqual(
            latinWords(yield* Effect.promise(() => readerTexts(page)), users),
            [],
            "reasons in Korean"
          )
          yield* screenshotAt(page, 390, "report-student-ko-missing-390.png")
          // another student keeps the accepted posterior, and is told that the latest fit was rejected
          const other = yield* open(chromium, fileOf(dir, users[4]!))
          assert.strictEqual(
            yield* Effect.promise(() => other.page.locator("#growth").getAttribute("data-status")),
            "available"
          )
          assert.strictEqual(yield* Effect.promise(() => other.page.locator('[data-value="earlier-fit"]').count()), 1)
          yield* sql`DELETE FROM growth_brms_meta WHERE run_id = 'run_growth_rejected'`
        }).pipe(Effect.scoped),
      300_000
    )

    it.effect(
      "a PDF that cannot be printed in time is named in the run record; the week's pages are still published",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const dir = outputFolder()
          const result = yield* Runner.run(generateWeeklyReport, {
            params: { asOf: LAST_DAY, outputDir: dir, format: "html,pdf", pdfPageTimeout: "0.001" }
          })
          const failed = result.stages.find((s) => s.name === "render")!.notes["failedPdfs"] as ReadonlyArray<{
            user_id: string
            error: string
          }>
          assert.deepStrictEqual(failed.map((f) => f.user_id).sort(), [...users].sort())
          assert.include(failed[0]!.error, "Timeout")
          const formats = yield* sql<{ format: string; n: number }>`
        SELECT format, count(*)::int AS n FROM report_artifacts WHERE week_start = ${WEEK}::date AND url LIKE ${`${dir}%`} GROUP BY format`
          assert.deepStrictEqual(formats, [{ format: "html", n: users.length }])
          assert.deepStrictEqual(
            fs.readdirSync(path.join(dir, WEEK)).filter((f) => f.endsWith(".pdf")),
            [],
            "no half-written PDF"
          )
        }),
      300_000
    )
  }
)
