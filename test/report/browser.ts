import { assert } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { Browser, Page } from "playwright-core"

/** The installed Chromium, driven by playwright-core (never downloaded). */
export const browser = Effect.acquireRelease(
  Effect.promise(async () =>
    (await import("playwright-core")).chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
    })
  ),
  (b) => Effect.promise(() => b.close())
)

/** What a page did while it loaded: console errors, page errors, requests for anything but the file itself. */
export interface Visit {
  readonly page: Page
  readonly consoleErrors: Array<string>
  readonly outsideRequests: Array<string>
}

/** Opens a local file; every request that is not a local file (the page, or a report it links to) is recorded and refused. */
export const open = (b: Browser, file: string) =>
  Effect.acquireRelease(
    Effect.promise(async (): Promise<Visit> => {
      const page = await b.newPage({ viewport: { width: 900, height: 1200 } })
      page.setDefaultTimeout(5_000)
      const consoleErrors: Array<string> = []
      const outsideRequests: Array<string> = []
      const href = pathToFileURL(file).href
      // a self-contained page requests nothing but itself
      page.on("request", (r) => {
        if (r.url() !== href && !r.isNavigationRequest()) outsideRequests.push(r.url())
      })
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text())
      })
      page.on("pageerror", (e) => consoleErrors.push(e.message))
      await page.route("**/*", (route) => {
        const url = route.request().url()
        if (url.startsWith("file:")) return route.continue()
        outsideRequests.push(url)
        return route.abort()
      })
      await page.goto(href, { waitUntil: "load" })
      return { page, consoleErrors, outsideRequests }
    }),
    (v) => Effect.promise(() => v.page.close())
  )

/** Every report section is present and visible, every chart of an available section is an SVG of non-zero size. */
export const assertPageWellFormed = (visit: Visit, label: string) =>
  Effect.promise(async () => {
    const { page } = visit
    for (const id of ["kpis", "growth", "forecast", "churn", "segment"]) {
      const section = page.locator(`section#${id}`)
      assert.strictEqual(await section.count(), 1, `${label}: section ${id} present`)
      assert.isTrue(await section.isVisible(), `${label}: section ${id} visible`)
      const title = (await section.locator("h2").innerText()).trim()
      assert.isTrue(title.length > 0, `${label}: section ${id} has a title`)
      const status = await section.getAttribute("data-status")
      if (status === "unavailable") {
        assert.isTrue(await section.locator("[data-unavailable]").isVisible(), `${label}: ${id} says why it is unavailable`)
      }
    }
    const charts = page.locator("figure.chart")
    for (let i = 0; i < (await charts.count()); i++) {
      const svg = charts.nth(i).locator("svg")
      assert.strictEqual(await svg.count(), 1, `${label}: chart ${i} is one SVG`)
      const box = await svg.boundingBox()
      assert.isTrue(box !== null && box.width > 50 && box.height > 20, `${label}: chart ${i} has a size (${JSON.stringify(box)})`)
      assert.isTrue((await svg.locator("path, rect, line, symbol").count()) > 3, `${label}: chart ${i} draws marks`)
    }
    assert.deepStrictEqual(visit.consoleErrors, [], `${label}: no console errors`)
    assert.deepStrictEqual(visit.outsideRequests, [], `${label}: no request leaves the file`)
  })

/** A full-page screenshot kept under test-artifacts/. */
export const screenshot = (page: Page, name: string) =>
  Effect.promise(async () => {
    const dir = path.resolve("test-artifacts")
    fs.mkdirSync(dir, { recursive: true })
    await page.screenshot({ path: path.join(dir, name), fullPage: true })
  })

/** The number shown in an element (a percentage is returned as a probability), and its precision. */
export const shownNumber = (text: string): { readonly value: number; readonly halfUnit: number } => {
  const match = /(-?−?\d+(?:\.(\d+))?)(%?)/.exec(text.replace("−", "-"))
  assert.isNotNull(match, `a number in "${text}"`)
  const digits = match![2]?.length ?? 0
  const scale = match![3] === "%" ? 100 : 1
  return { value: Number(match![1]) / scale, halfUnit: 0.5 * 10 ** -digits / scale + 1e-12 }
}
