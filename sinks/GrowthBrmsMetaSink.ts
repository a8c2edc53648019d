import * as TableWriter from "./TableWriter.ts"

/** One growth fit, accepted or not: the history of fits, one row per run. */
export interface GrowthBrmsMetaRow extends Record<string, unknown> {
  readonly run_id: string
  readonly formula: string
  readonly priors: unknown
  readonly posterior_summary: unknown
  /** R-hat, ESS, divergences, and `accepted` with the reasons of a rejection. */
  readonly diagnostics: unknown
}

/** Appends the fit's row to `growth_brms_meta` (keyed by run id: every fit is kept, rejected ones too). */
export const GrowthBrmsMetaSink = TableWriter.append<GrowthBrmsMetaRow>({
  table: "growth_brms_meta",
  columns: { run_id: "text", formula: "text", priors: "jsonb", posterior_summary: "jsonb", diagnostics: "jsonb" }
})
