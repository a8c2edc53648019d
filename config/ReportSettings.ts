import { Config } from "effect"
import * as Param from "../engine/Param.ts"
import { asOf } from "./KpiSettings.ts"

/** The parameters of `generate-weekly-report`, under their environment variable names. */
export const ReportSettings = {
  asOf,
  locale: Param.literal(["ko", "en"], {
    env: "REPORT_LOCALE",
    description: "language of the reports: ko (Korean) or en (English)",
    default: "ko"
  }),
  format: Param.literal(["html", "pdf", "html,pdf"], {
    env: "REPORT_FORMAT",
    description: "html, or pdf / html,pdf to also print every page to PDF with headless Chromium",
    default: "html"
  }),
  outputDir: Param.string({
    env: "REPORT_OUTPUT_DIR",
    description: "folder whose <week_start>/ subfolder receives the reports; empty = <SEEDTEST_DATA_DIR>/reports",
    default: ""
  }),
  baseUrl: Param.string({
    env: "REPORT_BASE_URL",
    description: "URL prefix stored in report_artifacts.url (…/<week_start>/<file>); empty = the absolute file path",
    default: ""
  }),
  chromiumPath: Param.string({
    env: "REPORT_CHROMIUM_PATH",
    description: "the Chromium executable that prints PDFs (never downloaded)",
    default: "/usr/bin/chromium"
  }),
  pdfPageTimeout: Param.number({
    env: "REPORT_PDF_PAGE_TIMEOUT_SECS",
    description:
      "seconds one page may take to print; a page that fails or times out is retried once, then named in the run record (the week still succeeds)",
    default: 30,
    min: 0.001
  })
}

/** Where reports go when `REPORT_OUTPUT_DIR` is empty: `<SEEDTEST_DATA_DIR or .seedtest>/reports`. */
export const defaultReportsRoot: Config.Config<string> = Config.string("SEEDTEST_DATA_DIR").pipe(
  Config.withDefault(".seedtest"),
  Config.map((dataDir) => `${dataDir.replace(/\/+$/, "")}/reports`)
)
