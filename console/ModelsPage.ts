import { Effect, Option, Schema } from "effect"
import * as Charts from "./Charts.ts"
import { Console } from "./ConsoleOptions.ts"
import { ConsoleStore, type MetaRow } from "./ConsoleStore.ts"
import * as Format from "./Format.ts"
import { type Html, html } from "./Html.ts"
import { page } from "./Layout.ts"

// The meta tables hold JSON written by model versions old and new: each is decoded leniently, and a row whose
// JSON does not have the expected shape is shown as such instead of failing the page.
const Num = Schema.NullOr(Schema.Number)
const Draws = Schema.Struct({
  mean: Schema.Number,
  q2_5: Num,
  q97_5: Num,
  rhat: Schema.optional(Num),
  ess_bulk: Schema.optional(Num)
})
const GrowthSummary = Schema.Struct({
  week_start: Schema.optional(Schema.String),
  n_students: Schema.optional(Schema.Number),
  population: Schema.Record({ key: Schema.String, value: Draws })
})
const GrowthDiagnostics = Schema.Struct({
  accepted: Schema.Boolean,
  reasons: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  max_rhat: Schema.optional(Num),
  min_ess_bulk: Schema.optional(Num),
  divergences: Schema.optional(Num)
})
const HazardRatios = Schema.Array(
  Schema.Struct({ name: Schema.String, hazard_ratio: Schema.Number, lower95: Schema.Number, upper95: Schema.Number })
)
const Centers = Schema.Array(Schema.Struct({ label: Schema.String, size: Schema.Number }))
const SegmentMetrics = Schema.Struct({
  silhouette: Schema.optional(Num),
  k_selection: Schema.optional(
    Schema.Struct({
      criterion: Schema.String,
      scores: Schema.Array(Schema.Struct({ k: Schema.Number, gap: Schema.Number, se: Schema.Number }))
    })
  )
})
const ForecastPoints = Schema.Array(
  Schema.Struct({
    week_start: Schema.String,
    yhat: Schema.Number,
    yhat_lower: Schema.Number,
    yhat_upper: Schema.Number
  })
)
const FitMeta = Schema.Struct({
  status: Schema.String,
  residual_sd: Schema.optional(Num),
  message: Schema.optional(Schema.String)
})

const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown): Option.Option<A> =>
  Schema.decodeUnknownOption(schema)(value)
const shapeless = html`<span class="muted">stored in an unexpected shape</span>`
const runLink = (row: MetaRow) =>
  html`<a class="mono" href="${`/runs/${encodeURIComponent(row.run_id)}`}">${row.run_id}</a>`
const interval = (d: typeof Draws.Type) => `${Format.num(d.mean)} [${Format.num(d.q2_5)}, ${Format.num(d.q97_5)}]`
const none = (what: string) => html`<p class="muted">No ${what} fit stored yet.</p>`

const growth = (rows: ReadonlyArray<MetaRow>) =>
  Effect.gen(function* () {
    const decoded = rows.map((row) => ({
      row,
      summary: decode(GrowthSummary, row.a),
      diagnostics: decode(GrowthDiagnostics, row.b)
    }))
    const accepted = decoded.find((d) => Option.exists(d.diagnostics, (x) => x.accepted) && Option.isSome(d.summary))
    const slopes = decoded.flatMap((d) =>
      Option.match(
        Option.flatMap(d.summary, (s) => Option.fromNullable(s.population.slope)),
        {
          onNone: () => [],
          onSome: (slope) => [
            {
              at: d.row.fitted_at.getTime(),
              value: slope.mean,
              lower: slope.q2_5 ?? slope.mean,
              upper: slope.q97_5 ?? slope.mean
            }
          ]
        }
      )
    )
    const chart = slopes.length === 0 ? html`` : yield* Charts.render("interval", slopes)
    return html`<section class="card" id="model-growth" data-fits="${rows.length}"><h2>Bayesian growth</h2>${
      accepted === undefined
        ? none("accepted growth")
        : html`
<p>Latest accepted fit: ${runLink(accepted.row)}, ${Format.utc(accepted.row.fitted_at)}${Option.match(
            accepted.summary,
            { onNone: () => "", onSome: (s) => ` · week of ${s.week_start ?? "?"} · ${s.n_students ?? "?"} students` }
          )}</p>
<div class="scroll"><table class="population"><thead><tr><th>population parameter</th><th>mean [95% interval]</th><th>R-hat</th><th>bulk ESS</th></tr></thead><tbody>${Object.entries(
            Option.getOrThrow(accepted.summary).population
          ).map(
            ([name, d]) =>
              html`<tr><td class="mono">${name}</td><td class="num">${interval(d)}</td><td class="num">${Format.num(d.rhat, 3)}</td><td class="num">${Format.num(d.ess_bulk, 0)}</td></tr>`
          )}</tbody></table></div>`
    }
<h3>History</h3>${slopes.length === 0 ? "" : html`<figure>${chart}<figcaption class="muted">population slope per week, mean and 95% interval, per fit</figcaption></figure>`}
<div class="scroll"><table><thead><tr><th>fitted</th><th>run</th><th>accepted</th><th>why</th><th class="hide-narrow">max R-hat</th><th class="hide-narrow">divergences</th></tr></thead><tbody>${decoded.map(
      (d) =>
        html`<tr><td>${Format.utc(d.row.fitted_at)}</td><td>${runLink(d.row)}</td>${Option.match(d.diagnostics, {
          onNone: () => html`<td colspan="4">${shapeless}</td>`,
          onSome: (x) =>
            html`<td>${x.accepted ? "yes" : "no"}</td><td>${x.reasons.join("; ") || "—"}</td><td class="num hide-narrow">${Format.num(x.max_rhat)}</td><td class="num hide-narrow">${Format.num(x.divergences, 0)}</td>`
        })}</tr>`
    )}</tbody></table></div></section>`
  })

const survival = (rows: ReadonlyArray<MetaRow>) =>
  Effect.gen(function* () {
    const latest = rows[0]
    const ratios = latest === undefined ? Option.none() : decode(HazardRatios, latest.a)
    const chart =
      Option.isNone(ratios) || ratios.value.length === 0
        ? html``
        : yield* Charts.render(
            "hazardRatios",
            ratios.value.map((r) => ({ name: r.name, value: r.hazard_ratio, lower: r.lower95, upper: r.upper95 }))
          )
    return html`<section class="card" id="model-survival" data-fits="${rows.length}"><h2>Survival (churn)</h2>${
      latest === undefined
        ? none("survival")
        : html`
<p>Latest fit: ${runLink(latest)}, ${Format.utc(latest.fitted_at)} · concordance ${Format.num(typeof latest.b === "number" ? latest.b : null)} · ${latest.n ?? "?"} students, ${String(latest.c ?? "?")} events</p>
${Option.match(ratios, {
  onNone: () => shapeless,
  onSome: (rs) =>
    html`<figure>${chart}</figure><div class="scroll"><table class="hazard-ratios"><thead><tr><th>covariate</th><th>hazard ratio [95% interval]</th></tr></thead><tbody>${rs.map(
      (r) =>
        html`<tr><td class="mono">${r.name}</td><td class="num">${Format.num(r.hazard_ratio)} [${Format.num(r.lower95)}, ${Format.num(r.upper95)}]</td></tr>`
    )}</tbody></table></div>`
})}`
    }
<h3>History</h3><div class="scroll"><table><thead><tr><th>fitted</th><th>run</th><th>concordance</th><th>students</th><th>events</th></tr></thead><tbody>${rows.map(
      (r) =>
        html`<tr><td>${Format.utc(r.fitted_at)}</td><td>${runLink(r)}</td><td class="num">${Format.num(typeof r.b === "number" ? r.b : null)}</td><td class="num">${r.n ?? "—"}</td><td class="num">${String(r.c ?? "—")}</td></tr>`
    )}</tbody></table></div></section>`
  })

const segments = (rows: ReadonlyArray<MetaRow>) =>
  Effect.gen(function* () {
    const latest = rows[0]
    const centers = latest === undefined ? Option.none() : decode(Centers, latest.a)
    const metrics = latest === undefined ? Option.none() : decode(SegmentMetrics, latest.b)
    const sizes = Option.isNone(centers)
      ? html``
      : yield* Charts.render(
          "bars",
          centers.value.map((c) => ({ label: c.label, value: c.size }))
        )
    const selection = Option.flatMap(metrics, (m) => Option.fromNullable(m.k_selection))
    const gap = Option.isNone(selection)
      ? html``
      : yield* Charts.render(
          "gapCurve",
          selection.value.scores.map((s) => ({
            k: s.k,
            gap: s.gap,
            lower: s.gap - s.se,
            upper: s.gap + s.se,
            chosen: s.k === latest?.n
          }))
        )
    return html`<section class="card" id="model-segments" data-fits="${rows.length}"><h2>Segments</h2>${
      latest === undefined
        ? none("segment")
        : html`
<p>Latest fit: ${runLink(latest)}, ${Format.utc(latest.fitted_at)} · ${String(latest.c)} with k = ${latest.n ?? "?"}${Option.match(
            metrics,
            { onNone: () => "", onSome: (m) => ` · silhouette ${Format.num(m.silhouette)}` }
          )}</p>
<div class="grid"><figure>${Option.isNone(centers) ? shapeless : sizes}<figcaption class="muted">students per segment</figcaption></figure>
${Option.match(selection, { onNone: () => "", onSome: (sel) => html`<figure>${gap}<figcaption class="muted">gap statistic per k (± 1 SE); ${sel.criterion}</figcaption></figure>` })}</div>
${Option.match(centers, {
  onNone: () => "",
  onSome: (cs) =>
    html`<div class="scroll"><table class="segment-sizes"><thead><tr><th>segment</th><th>students</th></tr></thead><tbody>${cs.map(
      (c) => html`<tr><td>${c.label}</td><td class="num">${c.size}</td></tr>`
    )}</tbody></table></div>`
})}`
    }
<h3>History</h3><div class="scroll"><table><thead><tr><th>fitted</th><th>run</th><th>k</th></tr></thead><tbody>${rows.map(
      (r) => html`<tr><td>${Format.utc(r.fitted_at)}</td><td>${runLink(r)}</td><td class="num">${r.n ?? "—"}</td></tr>`
    )}</tbody></table></div></section>`
  })

const forecast = (rows: ReadonlyArray<MetaRow>) =>
  Effect.gen(function* () {
    const store = yield* ConsoleStore
    const latest = rows.find((r) => Option.exists(decode(FitMeta, r.b), (m) => m.status === "ok"))
    const points = latest === undefined ? Option.none() : decode(ForecastPoints, latest.a)
    const anomalies = latest === undefined ? [] : yield* store.anomalies(latest.run_id)
    const series = [
      ...Option.getOrElse(points, () => []).map((p) => ({
        at: Date.parse(p.week_start),
        value: p.yhat,
        lower: p.yhat_lower,
        upper: p.yhat_upper,
        anomaly: false
      })),
      ...anomalies.flatMap((a) =>
        a.value === null
          ? []
          : [
              {
                at: Date.parse(a.week_start),
                value: a.value,
                lower: a.expected ?? a.value,
                upper: a.expected ?? a.value,
                anomaly: true
              }
            ]
      )
    ].sort((a, b) => a.at - b.at)
    const chart = series.length === 0 ? html`` : yield* Charts.render("interval", series)
    return html`<section class="card" id="model-forecast" data-fits="${rows.length}"><h2>Forecast (cohort)</h2>${
      latest === undefined
        ? none("cohort forecast")
        : html`
<p>Latest fit: ${runLink(latest)}, ${Format.utc(latest.fitted_at)} · ${String(latest.c)} · ${latest.n ?? "?"} weeks ahead · ${anomalies.length} anomalous week${anomalies.length === 1 ? "" : "s"}</p>
<figure>${chart}<figcaption class="muted">forecast with its interval; red points are anomalous weeks</figcaption></figure>
${
  anomalies.length === 0
    ? ""
    : html`<div class="scroll"><table class="anomalies"><thead><tr><th>week</th><th>value</th><th>expected</th><th>score</th></tr></thead><tbody>${anomalies.map(
        (a) =>
          html`<tr><td>${a.week_start}</td><td class="num">${Format.num(a.value)}</td><td class="num">${Format.num(a.expected)}</td><td class="num">${Format.num(a.anomaly_score, 2)}</td></tr>`
      )}</tbody></table></div>`
}`
    }
<h3>History</h3><div class="scroll"><table><thead><tr><th>fitted</th><th>run</th><th>status</th><th>residual SD</th></tr></thead><tbody>${rows.map(
      (r) =>
        html`<tr><td>${Format.utc(r.fitted_at)}</td><td>${runLink(r)}</td>${Option.match(decode(FitMeta, r.b), {
          onNone: () => html`<td colspan="2">${shapeless}</td>`,
          onSome: (m) => html`<td>${m.status}</td><td class="num">${Format.num(m.residual_sd)}</td>`
        })}</tr>`
    )}</tbody></table></div></section>`
  })

const HISTORY = 30

/** `/models`: each model's latest (accepted) fit and its history, from the meta tables. */
export const modelsPage = Effect.gen(function* () {
  const { token } = yield* Console
  const store = yield* ConsoleStore
  const [g, s, seg, f] = yield* Effect.all([
    store.fits("growth", HISTORY),
    store.fits("survival", HISTORY),
    store.fits("segments", HISTORY),
    store.fits("forecast", HISTORY)
  ])
  const sections: ReadonlyArray<Html> = [yield* growth(g), yield* survival(s), yield* segments(seg), yield* forecast(f)]
  return page({ title: "Models", section: "models", readOnly: Option.isNone(token), body: html`${sections}` })
})
