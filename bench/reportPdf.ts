/**
 * Korean PDF printing throughput, the printer before issue #17 against the current one, in one run on the same
 * pages (so both see the same machine load):
 *   npx tsx bench/reportPdf.ts [students=60] [--rounds=2]
 * "before" is the earlier printer, kept here as the baseline: a new tab per report with its own request filter,
 * two reports at a time, on the pages as they were (Hangul in the CFF Noto Sans CJK font, before NanumGothic). "after" is `ReportPrinter.launch` as the pipeline uses it (a pool of reused tabs, a
 * per-page timeout). Rounds alternate before/after so a change of load hits both. Only printing is timed.
 */

import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Duration, Effect } from "effect"
import { renderReports } from "../stages/report/ReportFiles.ts"
import { launch } from "../stages/report/ReportPrinter.ts"
import { reportText } from "../stages/report/ReportText.ts"
import { reportWeek } from "../stages/report/ReportWeek.ts"
import { cohortForecast, studentReports } from "../stages/report/StudentReport.ts"
import { syntheticInputs } from "./report.ts"

const args = process.argv.slice(2)
const students = Number(args.find((a) => /^\d+$/.test(a)) ?? 60)
const rounds = Number(args.find((a) => a.startsWith("--rounds="))?.split("=")[1] ?? 2)
const chromiumPath = "/usr/bin/chromium"
const week = reportWeek("2026-05-31")

const before = (pages: ReadonlyArray<string>, out: string) =>
  Effect.promise(async () => {
    const browser = await (await import("playwright-core")).chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run"
      ]
    })
    const start = performance.now()
    let next = 0
    const worker = async () => {
      while (next < pages.length) {
        const html = pages[next++]!
        const page = await browser.newPage()
        await page.route("**/*", (route) =>
          route.request().url().startsWith("file:") ? route.continue() : route.abort()
        )
        await page.goto(pathToFileURL(html).href, { waitUntil: "load" })
        await page.pdf({
          path: path.join(out, path.basename(html, ".html") + ".pdf"),
          format: "A4",
          printBackground: true,
          margin: { top: "12mm", bottom: "12mm", left: "10mm", right: "10mm" }
        })
        await page.close()
      }
    }
    await Promise.all([worker(), worker()])
    const seconds = (performance.now() - start) / 1000
    await browser.close()
    return seconds
  })

const after = (pages: ReadonlyArray<string>, out: string, tabs: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const printer = yield* launch(chromiumPath, { pages: tabs, pageTimeout: Duration.seconds(30) })
      // the pool opens its tabs on first use; the launch is outside the timing, as for "before"
      const start = performance.now()
      yield* Effect.forEach(
        pages,
        (html) => printer.print(html, path.join(out, path.basename(html, ".html") + ".pdf")),
        { concurrency: tabs }
      )
      return (performance.now() - start) / 1000
    })
  )

const main = Effect.gen(function* () {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-pdf-bench-"))
  const inputs = syntheticInputs(students)
  const { files } = yield* renderReports(studentReports(inputs, week), {
    folder,
    text: reportText("ko"),
    pdf: false,
    chromiumPath,
    weekStart: week.weekStart,
    cohort: cohortForecast(inputs)
  })
  const pages = files.map((f) => path.join(folder, f.file))
  // "before" also prints the pages as they were: without NanumGothic, Hangul fell back to the CFF Noto CJK font
  const oldFolder = fs.mkdtempSync(path.join(folder, "before-"))
  const oldPages = pages.map((p) => {
    const target = path.join(oldFolder, path.basename(p))
    fs.writeFileSync(target, fs.readFileSync(p, "utf8").replaceAll("NanumGothic, ", ""))
    return target
  })
  console.log(
    `${pages.length} Korean pages, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`
  )
  for (let round = 1; round <= rounds; round++) {
    const out = fs.mkdtempSync(path.join(folder, "pdf-"))
    const b = yield* before(oldPages, out)
    console.log(
      `round ${round} before (new tab per page, 2 at a time, Noto CJK): ${(pages.length / b).toFixed(2)} PDFs/s (${b.toFixed(1)} s)`
    )
    for (const tabs of [2, 3]) {
      const a = yield* after(pages, out, tabs)
      console.log(
        `round ${round} after  (pool of ${tabs} reused tabs):        ${(pages.length / a).toFixed(2)} PDFs/s (${a.toFixed(1)} s)`
      )
    }
  }
  console.log(
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`
  )
  fs.rmSync(folder, { recursive: true, force: true })
})

Effect.runPromise(main).catch((e) => {
  console.error(e)
  process.exitCode = 1
})
