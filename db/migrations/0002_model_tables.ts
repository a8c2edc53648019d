import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The output tables of the models (mission.md "Tables"), compatible with the existing production schema: every
 * statement is `IF NOT EXISTS`, so a database that already has them keeps its rows and columns.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE IF NOT EXISTS weekly_kpi (
      user_id     text NOT NULL,
      week_start  date NOT NULL,
      kpis        jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, week_start)
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS weekly_kpi_week_start ON weekly_kpi (week_start)`
  yield* sql`
    CREATE TABLE IF NOT EXISTS features_topic_daily (
      user_id       text NOT NULL,
      topic_id      text NOT NULL,
      date          date NOT NULL,
      attempts      integer NOT NULL,
      correct       integer NOT NULL,
      avg_time_ms   double precision,
      hints         integer NOT NULL,
      rt_median     double precision,
      improvement   double precision,
      last_seen_at  timestamptz,
      computed_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, topic_id, date)
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS features_topic_daily_date ON features_topic_daily (date)`
  yield* sql`
    CREATE TABLE IF NOT EXISTS growth_brms_meta (
      run_id             text PRIMARY KEY,
      formula            text NOT NULL,
      priors             jsonb NOT NULL DEFAULT '{}'::jsonb,
      posterior_summary  jsonb NOT NULL DEFAULT '{}'::jsonb,
      diagnostics        jsonb NOT NULL DEFAULT '{}'::jsonb,
      fitted_at          timestamptz NOT NULL DEFAULT now()
    )`
  // the per-student posterior of the growth model: what METRICS_USE_BAYESIAN=true turns into weekly_kpi.P / sigma
  yield* sql`
    CREATE TABLE IF NOT EXISTS growth_brms_posterior (
      run_id         text NOT NULL,
      user_id        text NOT NULL,
      week_start     date NOT NULL,
      p_goal         double precision NOT NULL CHECK (p_goal BETWEEN 0 AND 1),
      sigma          double precision NOT NULL CHECK (sigma >= 0),
      lower95        double precision NOT NULL,
      upper95        double precision NOT NULL,
      target         double precision NOT NULL,
      horizon_weeks  integer NOT NULL,
      fitted_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, user_id)
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS growth_brms_posterior_user ON growth_brms_posterior (user_id, fitted_at DESC)`
  yield* sql`
    CREATE TABLE IF NOT EXISTS prophet_fit_meta (
      run_id             text NOT NULL,
      metric             text NOT NULL,
      user_id            text,
      changepoints       jsonb NOT NULL DEFAULT '[]'::jsonb,
      forecast           jsonb NOT NULL DEFAULT '[]'::jsonb,
      fit_meta           jsonb NOT NULL DEFAULT '{}'::jsonb,
      lookback_weeks     integer NOT NULL,
      horizon_weeks      integer NOT NULL,
      anomaly_threshold  double precision NOT NULL,
      fitted_at          timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS prophet_fit_meta_run ON prophet_fit_meta (run_id)`
  yield* sql`
    CREATE TABLE IF NOT EXISTS prophet_anomalies (
      run_id         text NOT NULL,
      week_start     date NOT NULL,
      metric         text NOT NULL,
      value          double precision,
      expected       double precision,
      anomaly_score  double precision,
      detected_at    timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX IF NOT EXISTS prophet_anomalies_run ON prophet_anomalies (run_id)`
  yield* sql`
    CREATE TABLE IF NOT EXISTS survival_fit_meta (
      run_id                text PRIMARY KEY,
      family                text NOT NULL,
      event_threshold_days  integer NOT NULL,
      coefficients          jsonb NOT NULL DEFAULT '{}'::jsonb,
      hazard_ratios         jsonb NOT NULL DEFAULT '{}'::jsonb,
      concordance           double precision,
      n                     integer NOT NULL,
      events                integer NOT NULL,
      fitted_at             timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`
    CREATE TABLE IF NOT EXISTS user_segment (
      user_id            text PRIMARY KEY,
      segment_label      text NOT NULL,
      features_snapshot  jsonb NOT NULL DEFAULT '{}'::jsonb,
      assigned_at        timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`
    CREATE TABLE IF NOT EXISTS segment_meta (
      run_id      text PRIMARY KEY,
      method      text NOT NULL,
      n_clusters  integer NOT NULL,
      centers     jsonb NOT NULL DEFAULT '[]'::jsonb,
      metrics     jsonb NOT NULL DEFAULT '{}'::jsonb,
      fitted_at   timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`
    CREATE TABLE IF NOT EXISTS report_artifacts (
      user_id       text NOT NULL,
      week_start    date NOT NULL,
      format        text NOT NULL,
      url           text NOT NULL,
      generated_at  timestamptz NOT NULL DEFAULT now(),
      UNIQUE (user_id, week_start, format)
    )`
})
