import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll } from "vitest"
import * as Plan from "../../engine/Plan.ts"
import { computeDailyKpis } from "../../pipelines/computeDailyKpis.ts"
import { pipelines } from "../../pipelines/registry.ts"
import * as Database from "../../sources/Database.ts"
import { browser, screenshot } from "../report/browser.ts"
import { fits, insertFits, outsideContent, slots, writeReports } from "./fixtures.ts"
import { type RunningConsole, seedtest, startConsole } from "./support.ts"

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "seedtest-console-"))
const env = { SEEDTEST_DATA_DIR: dataDir, DATABASE_URL: undefined, SEEDTEST_UI_TOKEN: undefined }
const WEEK = "2026-11-23"
const TOKEN = "console-token-for-tests-5521"

let console_: RunningConsole
let b: Browser
const scope = Effect.runSync(Scope.make())

const visit = async (url: string, width = 1280): Promise<Page> => {
  const page = await b.newPage({ viewport: { width, height: 900 } })
  page.setDefaultTimeout(30_000)
  await page.goto(url, { waitUntil: "load" })
  return page
}

describe("the operations console", { timeout: 600_000 }, () => {
  beforeAll(async () => {
    // the console holds the data folder; everything below (seed, runs, fixtures) connects to its database
    console_ = await startConsole(env)
    const seeded = await seedtest(["seed", "--students", "40", "--weeks", "6"], env)
    assert.strictEqual(seeded.code, 0, seeded.stderr)
    await Effect.runPromise(insertFits.pipe(Effect.provide(Database.layerEmbedded(dataDir))))
    writeReports(path.join(dataDir, "reports"), WEEK)
    b = await Effect.runPromise(Scope.extend(browser, scope))
  }, 600_000)

  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await console_?.stop()
  })

  it("shows every pipeline on the graph, with the weekly_kpi.S edge", async () => {
    const page = await visit(console_.url)
    const nodes = await page
      .locator("#graph svg g.node")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-id")))
    assert.sameMembers(
      nodes,
      pipelines.map((p) => p.name)
    )
    const labels = await page.locator("#graph svg text.edge-label").evaluateAll((els) =>
      els.map((e) => ({
        from: e.getAttribute("data-from"),
        resources: (e.getAttribute("data-resources") ?? "").split(" "),
        text: e.textContent ?? ""
      }))
    )
    const sEdges = labels.filter((l) => l.resources.includes("weekly_kpi.S"))
    assert.isNotEmpty(sEdges, JSON.stringify(labels))
    for (const edge of sEdges) {
      assert.strictEqual(edge.from, "fit-survival-churn")
      assert.include(edge.text, "weekly_kpi.S", "the label shows the column")
    }
    // the table says the same: the edges that carry weekly_kpi.S all leave fit-survival-churn, its one writer
    const edges = await page
      .locator("#edges tbody tr")
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? "")))
    const carryingS = edges.filter(([, , resources]) => resources!.split(", ").includes("weekly_kpi.S"))
    assert.isNotEmpty(carryingS)
    assert.deepStrictEqual([...new Set(carryingS.map(([from]) => from))], ["fit-survival-churn"])
    // every node links to its pipeline's page
    await page.locator(`#graph a:has(g.node[data-id="fit-survival-churn"])`).click()
    await page.waitForURL(/\/pipelines\/fit-survival-churn$/)
    assert.include(await page.locator("#params").innerText(), "SURVIVAL_LOOKBACK_DAYS")
    await page.close()
  })

  it("shows a run started from the CLI live in /runs, and its stages on its page", async () => {
    const page = await visit(`${console_.url}/runs`)
    const before = await page.locator("tr[data-run]").count()
    const run = await seedtest(["run", "compute-daily-kpis"], env)
    assert.strictEqual(run.code, 0, run.stderr)
    const runId = /run (run_\S+) of compute-daily-kpis committed/.exec(run.stdout)?.[1]
    assert.isDefined(runId, run.stdout)
    // no reload: the page's live update brings the row in, and its status follows the run to the end
    const row = page.locator(`tr[data-run="${runId}"]`)
    await row.waitFor({ state: "visible", timeout: 30_000 })
    await page
      .locator(`tr[data-run="${runId}"][data-status="succeeded"]`)
      .waitFor({ state: "visible", timeout: 30_000 })
    assert.isAbove(await page.locator("tr[data-run]").count(), before)
    // the CLI sees the same history as the console
    const history = JSON.parse((await seedtest(["runs", "--json"], env)).stdout) as ReadonlyArray<{ id: string }>
    assert.include(
      history.map((r) => r.id),
      runId
    )

    await row.locator("a.mono").click()
    await page.waitForURL(new RegExp(`/runs/${runId}$`))
    const stageNames = Plan.ofPipeline(computeDailyKpis)
      .levels.flat()
      .map((s) => s.name)
    const shown = await page
      .locator("#stages tr[data-stage]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-stage")))
    assert.sameMembers(shown, stageNames)
    assert.isTrue(await page.locator("#gantt svg").isVisible())
    assert.isAbove(await page.locator("#gantt svg path, #gantt svg rect").count(), stageNames.length)
    assert.include(await page.locator("#sinks").innerText(), "weekly_kpi")
    await page.close()
  })

  it("refuses the run button in read-only mode with a clear message", async () => {
    const page = await visit(`${console_.url}/pipelines/compute-daily-kpis`)
    assert.include(await page.locator("#read-only-notice").innerText(), "SEEDTEST_UI_TOKEN")
    const runsBefore = (await seedtest(["runs", "--json"], env)).stdout
    await page.locator("#run-button").click()
    await page.waitForSelector("#refusal")
    assert.strictEqual(await page.locator("#refusal").getAttribute("data-reason"), "ReadOnly")
    assert.include(await page.locator("#refusal").innerText(), "read-only")
    assert.strictEqual((await seedtest(["runs", "--json"], env)).stdout, runsBefore, "nothing ran")
    await page.close()
  })

  it("shows the stored fits of every model", async () => {
    const page = await visit(`${console_.url}/models`)
    const growth = page.locator("#model-growth")
    assert.include(await growth.innerText(), fits.growthAccepted.run_id)
    const slope = fits.growthAccepted.posterior_summary.population.slope
    assert.include(
      await growth.locator("table.population").innerText(),
      `${slope.mean.toFixed(3)} [${slope.q2_5.toFixed(3)}, ${slope.q97_5.toFixed(3)}]`
    )
    assert.include(await growth.innerText(), fits.growthRejected.diagnostics.reasons[0])
    const survival = page.locator("#model-survival")
    for (const hr of fits.survival.hazard_ratios) {
      assert.include(
        await survival.locator("table.hazard-ratios").innerText(),
        `${hr.hazard_ratio.toFixed(3)} [${hr.lower95.toFixed(3)}, ${hr.upper95.toFixed(3)}]`
      )
    }
    assert.include(await survival.innerText(), `concordance ${fits.survival.concordance.toFixed(3)}`)
    const sizes = await page.locator("#model-segments table.segment-sizes").innerText()
    for (const c of fits.segments.centers) assert.match(sizes, new RegExp(`${c.label}\\s+${c.size}`))
    assert.include(await page.locator("#model-forecast table.anomalies").innerText(), fits.forecast.anomaly.week_start)
    for (const id of ["model-growth", "model-survival", "model-segments", "model-forecast"]) {
      const charts = page.locator(`#${id} figure svg`)
      assert.isAtLeast(await charts.count(), 1, `${id} draws its charts`)
      const box = await charts.first().boundingBox()
      assert.isTrue(box !== null && box.width > 100 && box.height > 40, `${id} chart has a size`)
    }
    await page.close()
  })

  it("shows the upcoming fires as `seedtest next` orders them, and the slot history per day", async () => {
    const page = await visit(`${console_.url}/schedule`)
    const next = JSON.parse((await seedtest(["next", "--count", "8", "--json"], env)).stdout) as ReadonlyArray<{
      pipeline: string
      fire: string
    }>
    const shown = await page
      .locator("#upcoming tbody tr")
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? "")))
    assert.deepStrictEqual(
      shown.slice(0, next.length).map(([fire, pipeline]) => [fire, pipeline]),
      next.map((n) => [`${n.fire.slice(0, 16).replace("T", " ")} UTC`, n.pipeline])
    )
    for (const slot of slots) {
      const day = page.locator(`[data-day="${slot.slot.slice(0, 10)}"]`)
      const row = day.locator("tr", { hasText: slot.pipeline })
      assert.include(await row.innerText(), slot.status)
      if (slot.detail !== null) assert.include(await row.innerText(), slot.detail)
    }
    assert.include(
      await page.locator(`[data-day="${slots[0].slot.slice(0, 10)}"]`).innerText(),
      "1 succeeded · 1 skipped"
    )
    await page.close()
  })

  it("serves the week's reports and nothing outside them", async () => {
    const page = await visit(`${console_.url}/reports`)
    await page.locator(`#report-weeks a`, { hasText: WEEK }).click()
    await page.waitForURL(new RegExp(`/reports/${WEEK}/index.html$`))
    await page.locator("#s1").click()
    assert.strictEqual(await page.locator("#student").innerText(), "Student s_001")
    await page.close()
    for (const escape of [
      `/reports/${WEEK}/..%2Fsecret.txt`,
      `/reports/..%2F..%2Fpgdata/x.html`,
      `/reports/${WEEK}/.hidden.html`,
      `/reports/${WEEK}/%2E%2E%2Flock`
    ]) {
      const r = await fetch(console_.url + escape)
      assert.strictEqual(r.status, 404, escape)
      assert.notInclude(await r.text(), outsideContent)
    }
  })

  it("takes a screenshot of every page at desktop and phone width", async () => {
    const runs = JSON.parse((await seedtest(["runs", "--json"], env)).stdout) as ReadonlyArray<{ id: string }>
    const pages = [
      ["graph", "/"],
      ["pipeline", "/pipelines/fit-survival-churn"],
      ["runs", "/runs"],
      ["run", `/runs/${runs[0]!.id}`],
      ["schedule", "/schedule"],
      ["models", "/models"],
      ["reports", "/reports"]
    ] as const
    for (const [name, url] of pages) {
      for (const width of [1280, 390]) {
        const page = await visit(console_.url + url, width)
        // nothing but the graph scrolls sideways: the page itself fits the screen
        const overflow = await page.evaluate(() => {
          const root = (
            globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
          ).document.documentElement
          return root.scrollWidth - root.clientWidth
        })
        assert.isAtMost(overflow, 0, `${name} at ${width}px is wider than the screen`)
        await Effect.runPromise(screenshot(page, `console-${name}-${width}.png`))
        await page.close()
      }
    }
  })

  it("with SEEDTEST_UI_TOKEN, dry-runs and runs from the pipeline page; a wrong token or a forged form is refused", async () => {
    // a second console on the same data folder: it connects to the first one's database
    const withToken = await startConsole({ ...env, SEEDTEST_UI_TOKEN: TOKEN })
    try {
      const page = await visit(`${withToken.url}/pipelines/compute-daily-kpis`)
      assert.strictEqual(await page.locator("#read-only-notice").count(), 0)

      await page.fill("input[name=token]", "not-the-token")
      await page.locator("#dry-run-button").click()
      await page.waitForSelector("#refusal")
      assert.strictEqual(await page.locator("#refusal").getAttribute("data-reason"), "BadToken")

      await page.fill("input[name=token]", TOKEN)
      await page.fill("input[name='param.lookbackDays']", "21")
      await page.locator("#dry-run-button").click()
      await page.waitForSelector("#dry-run-result", { timeout: 120_000 })
      const result = await page.locator("#dry-run-result").innerText()
      assert.include(result, "weekly_kpi")
      assert.include(result, "lookbackDays=21")

      // a form posted from elsewhere carries no CSRF value, even with the right token
      const forged = await fetch(`${withToken.url}/pipelines/compute-daily-kpis/run`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
        body: new URLSearchParams({ mode: "run", token: TOKEN }).toString(),
        redirect: "manual"
      })
      assert.strictEqual(forged.status, 403)
      assert.include(await forged.text(), "cross-site")

      await page.fill("input[name=token]", TOKEN)
      await page.locator("#run-button").click()
      await page.waitForURL(/\/runs\/run_[^/]+$/, { timeout: 60_000 })
      const runId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!)
      // the run finishes in the console's process; both consoles and the CLI see it
      let status = ""
      for (let i = 0; i < 120 && status !== "succeeded" && status !== "failed"; i++) {
        await new Promise((r) => setTimeout(r, 1000))
        const shown = JSON.parse((await seedtest(["runs", "show", runId, "--json"], env)).stdout || "{}") as {
          status?: string
        }
        status = shown.status ?? ""
      }
      assert.strictEqual(status, "succeeded")
      const first = await (await fetch(`${console_.url}/runs/${runId}`)).text()
      assert.include(first, "weeklyKpi")
      await page.close()
    } finally {
      await withToken.stop()
    }
  })

  it("refuses to serve on a non-loopback address without a token", async () => {
    const r = await seedtest(["ui", "--host", "0.0.0.0", "--port", "0"], env)
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "without SEEDTEST_UI_TOKEN")
  })
})
