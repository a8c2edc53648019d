import { pathToFileURL } from "node:url"
import { Data, Duration, Effect, Pool, type Scope } from "effect"
import type { Browser, BrowserContext, Page } from "playwright-core"

/** Chromium could not start, or a page could not be printed (in time). */
export class PdfError extends Data.TaggedError("PdfError")<{
  readonly reason: "Launch" | "Print" | "Timeout"
  readonly detail: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `PDF printing failed (${this.reason}) ${this.detail}: ${String((this.cause as Error | undefined)?.message ?? this.cause)}`
  }
}

/** Prints report pages to PDF with one headless Chromium, reused for every page. */
export interface ReportPrinter {
  readonly print: (htmlPath: string, pdfPath: string) => Effect.Effect<void, PdfError>
}

/** How many pages print at once, and how long one page may take. */
export interface PrinterOptions {
  readonly pages: number
  readonly pageTimeout: Duration.DurationInput
}

const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-extensions",
  "--font-render-hinting=none"
]

/**
 * Starts Chromium (the installed executable; never downloaded) for the scope's lifetime, with a pool of `pages`
 * tabs that print one report each at a time. Tabs are reused: opening and closing a tab per report cost about a
 * quarter of the time per PDF. A print that fails or passes `pageTimeout` discards its tab (a hung renderer is
 * not reused), and the pool opens a fresh one.
 */
export const launch = (
  executablePath: string,
  options: PrinterOptions
): Effect.Effect<ReportPrinter, PdfError, Scope.Scope> =>
  Effect.gen(function* () {
    const browser: Browser = yield* Effect.acquireRelease(
      Effect.tryPromise({
        // loaded on demand: HTML-only runs never load playwright
        try: async () => (await import("playwright-core")).chromium.launch({ executablePath, args: chromiumArgs }),
        catch: (cause) => new PdfError({ reason: "Launch", detail: `starting ${executablePath}`, cause })
      }),
      (b) => Effect.promise(() => b.close()).pipe(Effect.ignore)
    )
    const context: BrowserContext = yield* Effect.tryPromise({
      try: async () => {
        const c = await browser.newContext()
        // a report is self-contained: anything but a local file is refused
        await c.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort()))
        return c
      },
      catch: (cause) => new PdfError({ reason: "Launch", detail: "opening a browser context", cause })
    })
    const pool = yield* Pool.make({
      acquire: Effect.acquireRelease(
        Effect.tryPromise({
          try: () => context.newPage(),
          catch: (cause) => new PdfError({ reason: "Print", detail: "opening a tab", cause })
        }),
        (page) => Effect.promise(() => page.close()).pipe(Effect.ignore)
      ),
      size: Math.max(1, options.pages)
    })
    const printOn = (page: Page, htmlPath: string, pdfPath: string) =>
      Effect.tryPromise({
        try: async () => {
          await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" })
          await page.pdf({
            path: pdfPath,
            format: "A4",
            printBackground: true,
            margin: { top: "12mm", bottom: "12mm", left: "10mm", right: "10mm" }
          })
        },
        catch: (cause) => new PdfError({ reason: "Print", detail: `printing ${htmlPath}`, cause })
      })
    const print = (htmlPath: string, pdfPath: string) =>
      Effect.scoped(
        Effect.gen(function* () {
          const page = yield* Pool.get(pool)
          yield* printOn(page, htmlPath, pdfPath).pipe(
            Effect.timeoutFail({
              duration: options.pageTimeout,
              onTimeout: () =>
                new PdfError({
                  reason: "Timeout",
                  detail: `printing ${htmlPath}`,
                  cause: `no PDF within ${Duration.format(options.pageTimeout)}`
                })
            }),
            Effect.tapError(() => Pool.invalidate(pool, page))
          )
        })
      ).pipe(Effect.withSpan("ReportPrinter.print"))
    return { print }
  })
