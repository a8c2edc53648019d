import { Data, Effect, type Scope } from "effect"
import type { Browser } from "playwright-core"
import { pathToFileURL } from "node:url"

/** Chromium could not start, or a page could not be printed. */
export class PdfError extends Data.TaggedError("PdfError")<{
  readonly reason: "Launch" | "Print"
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

const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run"
]

/** Starts Chromium (the installed executable; never downloaded) for the scope's lifetime. */
export const launch = (executablePath: string): Effect.Effect<ReportPrinter, PdfError, Scope.Scope> =>
  Effect.gen(function*() {
    const browser: Browser = yield* Effect.acquireRelease(
      Effect.tryPromise({
        // loaded on demand: HTML-only runs never load playwright
        try: async () => (await import("playwright-core")).chromium.launch({ executablePath, args: chromiumArgs }),
        catch: (cause) => new PdfError({ reason: "Launch", detail: `starting ${executablePath}`, cause })
      }),
      (b) => Effect.promise(() => b.close()).pipe(Effect.ignore)
    )
    const print = (htmlPath: string, pdfPath: string) =>
      Effect.acquireUseRelease(
        Effect.tryPromise({
          try: () => browser.newPage(),
          catch: (cause) => new PdfError({ reason: "Print", detail: `opening a page for ${htmlPath}`, cause })
        }),
        (page) =>
          Effect.tryPromise({
            try: async () => {
              // a report is self-contained: anything but the file itself is refused
              await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort()))
              await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" })
              await page.pdf({ path: pdfPath, format: "A4", printBackground: true, margin: { top: "12mm", bottom: "12mm", left: "10mm", right: "10mm" } })
            },
            catch: (cause) => new PdfError({ reason: "Print", detail: `printing ${htmlPath}`, cause })
          }),
        (page) => Effect.promise(() => page.close()).pipe(Effect.ignore)
      ).pipe(Effect.withSpan("ReportPrinter.print"))
    return { print }
  })
