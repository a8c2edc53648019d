import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type { Browser, Page } from "playwright-core"

/** The installed Chromium, driven by playwright-core (never downloaded). */
export const browser = Effect.acquireRelease(
  Effect.promise(async () =>
    (await import("playwright-core")).chromium.launch({
      executablePath: "/usr/bin/chromium",
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
        assert.isTrue(
          await section.locator("[data-unavailable]").isVisible(),
          `${label}: ${id} says why it is unavailable`
        )
      }
    }
    const charts = page.locator("figure.chart")
    for (let i = 0; i < (await charts.count()); i++) {
      const svg = charts.nth(i).locator("svg")
      assert.strictEqual(await svg.count(), 1, `${label}: chart ${i} is one SVG`)
      const box = await svg.boundingBox()
      assert.isTrue(
        box !== null && box.width > 50 && box.height > 20,
        `${label}: chart ${i} has a size (${JSON.stringify(box)})`
      )
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
  return { value: Number(match![1]) / scale, halfUnit: (0.5 * 10 ** -digits) / scale + 1e-12 }
}

/** A screenshot of a page at a viewport width (full page), kept under test-artifacts/. */
export const screenshotAt = (page: Page, width: number, name: string) =>
  Effect.promise(async () => {
    await page.setViewportSize({ width, height: 900 })
    const dir = path.resolve("test-artifacts")
    fs.mkdirSync(dir, { recursive: true })
    await page.screenshot({ path: path.join(dir, name), fullPage: true })
  })

/**
 * Every text a reader meets on the page, outside the parts marked as another language (`lang="en"` technical
 * details): text nodes (also in charts), accessible names, titles, placeholders and the document title.
 */
export const readerTexts = (page: Page) =>
  page.evaluate(() => {
    const d = (globalThis as any).document
    const foreign = (el: any) => el.closest('[lang]:not([lang="' + d.documentElement.lang + '"])') !== null
    const out: Array<string> = [d.title]
    const walker = d.createTreeWalker(d.body, 4 /* NodeFilter.SHOW_TEXT */)
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const el = n.parentElement
      if (el === null || foreign(el) || el.closest("script, style") !== null) continue
      if (n.textContent.trim() !== "") out.push(n.textContent.trim())
    }
    for (const el of d.querySelectorAll("[aria-label], [title], [placeholder]")) {
      if (foreign(el)) continue
      for (const a of ["aria-label", "title", "placeholder"]) if (el.hasAttribute(a)) out.push(el.getAttribute(a))
    }
    return out as Array<string>
  })

/** Latin words (two letters or more) in texts, once the given names (student ids) are taken out. */
export const latinWords = (texts: ReadonlyArray<string>, names: ReadonlyArray<string>): Array<string> => {
  const found = new Set<string>()
  for (let t of texts) {
    for (const name of names) t = t.split(name).join(" ")
    for (const m of t.matchAll(/[A-Za-z]{2,}/g)) found.add(`${m[0]} (in "${t.slice(0, 60)}")`)
  }
  return [...found]
}

/** Text whose contrast against its background is below WCAG AA (4.5:1, 3:1 for large text), with the ratio. */
export const contrastFailures = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as any
    const parse = (c: string) => {
      const m = /rgba?\(([^)]+)\)/.exec(c)
      if (m === null) return null
      const [r, g, b, a = 1] = m[1]!
        .split(/[\s,/]+/)
        .filter((x) => x !== "")
        .map(Number)
      return { r: r!, g: g!, b: b!, a }
    }
    const lum = (c: { r: number; g: number; b: number }) => {
      const f = (v: number) => {
        const s = v / 255
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
      }
      return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b)
    }
    const background = (el: any) => {
      for (let e = el; e !== null; e = e.parentElement) {
        const c = parse(w.getComputedStyle(e).backgroundColor)
        if (c !== null && c.a > 0.5) return c
      }
      return { r: 255, g: 255, b: 255, a: 1 }
    }
    const failures: Array<string> = []
    for (const el of w.document.body.querySelectorAll("*")) {
      const own = [...el.childNodes].some((n: any) => n.nodeType === 3 && n.textContent.trim() !== "")
      if (!own) continue
      const box = el.getBoundingClientRect()
      if (box.width <= 1 || box.height <= 1) continue
      const style = w.getComputedStyle(el)
      const fg = parse(el.closest("svg") !== null ? style.fill : style.color)
      if (fg === null) continue
      const bg = el.closest("svg") !== null ? { r: 255, g: 255, b: 255, a: 1 } : background(el)
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a)
      const ratio = (hi! + 0.05) / (lo! + 0.05)
      const size = Number.parseFloat(style.fontSize)
      const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66)
      if (ratio < (large ? 3 : 4.5))
        failures.push(
          `${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""} "${el.textContent.trim().slice(0, 40)}": ${ratio.toFixed(2)}`
        )
    }
    return failures as Array<string>
  })
