# Prophet forecasts for many weekly series in one request; each series gets its own status.
suppressPackageStartupMessages(library(prophet))

decode_prophet_fit <- function(body) {
  series <- field_array(body, "series", min_length = 1L)
  ids <- character(length(series))
  parsed <- lapply(seq_along(series), function(i) {
    path <- sprintf("series[%d]", i - 1L)
    s <- element_object(series[[i]], path)
    id <- field_id(s, "id", paste0(path, ".id"))
    points <- field_array(s, "points", paste0(path, ".points"))
    ds <- as.Date(rep(NA, length(points))); y <- numeric(length(points))
    for (j in seq_along(points)) {
      pp <- sprintf("%s.points[%d]", path, j - 1L)
      p <- element_object(points[[j]], pp)
      ds[j] <- field_date(p, "week_start", paste0(pp, ".week_start"))
      y[j] <- field_number(p, "value", paste0(pp, ".value"), nullable = TRUE)
    }
    if (anyDuplicated(ds)) invalid(paste0(path, ".points"), "week_start values must be distinct")
    ids[i] <<- id
    list(id = id, ds = ds, y = y)
  })
  if (anyDuplicated(ids)) invalid("series", sprintf("series id '%s' appears more than once", ids[anyDuplicated(ids)]))
  list(
    series = parsed,
    horizon_weeks = field_number(body, "horizon_weeks", default = 4L, min = 1, max = 104, integer = TRUE),
    anomaly_threshold = field_number(body, "anomaly_threshold", default = 2.5, min = 0),
    interval_width = field_number(body, "interval_width", default = 0.95, min = 0.5, max = 0.999),
    uncertainty_samples = field_number(body, "uncertainty_samples", default = 200L, min = 0, max = 5000, integer = TRUE),
    changepoint_prior_scale = field_number(body, "changepoint_prior_scale", default = 0.05, min = 1e-4, max = 10),
    seed = field_number(body, "seed", default = 42L, integer = TRUE)
  )
}

series_status <- function(id, status, message) list(id = id, status = status, message = message,
  fit = list(), forecast = list(), anomalies = list(), changepoints = list())

#' Prophet 1.0 as the package runs it: `prophet()` then `predict()` on the history and the horizon. Kept as the
#' reference the direct path is compared with (`--prophet-path package`, r-services/tests and bench/r-services).
prophet_path_package <- function(df, req) {
  m <- prophet::prophet(df, weekly.seasonality = FALSE, yearly.seasonality = FALSE, daily.seasonality = FALSE,
    interval.width = req$interval_width, uncertainty.samples = req$uncertainty_samples,
    changepoint.prior.scale = req$changepoint_prior_scale, fit = TRUE)
  future <- prophet::make_future_dataframe(m, periods = req$horizon_weeks, freq = "week", include_history = TRUE)
  fc <- predict(m, future)
  no_band <- is.null(fc$yhat_lower)
  list(ds = as.Date(fc$ds), yhat = fc$yhat, lower = if (no_band) fc$yhat else fc$yhat_lower,
    upper = if (no_band) fc$yhat else fc$yhat_upper, changepoints = as.Date(m$changepoints),
    delta = colMeans(matrix(m$params$delta, ncol = length(m$changepoints))), k = mean(m$params$k),
    y_scale = m$y.scale, weeks_per_unit = as.numeric(m$t.scale) / (7 * 86400))
}

#' The same model without the package's data-frame plumbing, which took ~90% of a 12-point series' time: prophet's
#' own Stan program and optimizer call (`fit.prophet` for linear growth and no seasonality: one all-zero feature,
#' Newton below 100 points, LBFGS above, Newton again if that fails), its changepoint grid and its trend function, and
#' its predictive simulation (`sample_predictive_trend`: Poisson-many new changepoints after the history, Laplace rate
#' changes of scale mean|delta|, plus Gaussian noise) drawn for all samples at once instead of one sample per loop.
prophet_path_direct <- function(df, req) {
  n <- nrow(df)
  days <- as.numeric(df$ds - df$ds[1])
  t_scale_days <- days[n]
  t <- days / t_scale_days
  y_scale <- max(abs(df$y))
  if (y_scale == 0) y_scale <- 1
  # prophet's set_changepoints: n.changepoints = 25 capped by the first 80% of the history
  hist_size <- floor(n * 0.8)
  n_changepoints <- min(25L, hist_size - 1L)
  cp_index <- if (n_changepoints > 0) round(seq.int(1, hist_size, length.out = n_changepoints + 1)[-1]) else integer(0)
  cp_t <- if (n_changepoints > 0) sort(t[cp_index]) else 0
  y_scaled <- df$y / y_scale
  k0 <- (y_scaled[n] - y_scaled[1]) / (t[n] - t[1])
  data <- list(T = n, K = 1L, S = length(cp_t), y = y_scaled, t = t, t_change = array(cp_t), X = matrix(0, n, 1L),
    sigmas = array(1), tau = req$changepoint_prior_scale, trend_indicator = 0, s_a = array(0), s_m = array(0),
    cap = rep(0, n))
  init <- function() list(k = k0, m = y_scaled[1], delta = array(rep(0, length(cp_t))), beta = array(0), sigma_obs = 1)
  args <- list(object = prophet_stan_model(), data = data, init = init,
    algorithm = if (n < 100) "Newton" else "LBFGS", iter = 10000, as_vector = FALSE)
  opt <- do.call(rstan::optimizing, args)
  if (opt$return_code != 0) opt <- do.call(rstan::optimizing, utils::modifyList(args, list(algorithm = "Newton")))
  k <- opt$par$k
  delta <- as.numeric(opt$par$delta)
  if (n_changepoints == 0) { k <- k + delta[1]; delta <- 0 }
  ds <- c(df$ds, df$ds[n] + 7L * seq_len(req$horizon_weeks))
  t_all <- as.numeric(ds - df$ds[1]) / t_scale_days
  yhat <- piecewise_linear(t_all, delta, k, opt$par$m, cp_t) * y_scale
  band <- predictive_band(t_all, yhat, delta, length(cp_t), opt$par$sigma_obs * y_scale, y_scale, req)
  list(ds = ds, yhat = yhat, lower = band$lower, upper = band$upper,
    changepoints = if (n_changepoints > 0) df$ds[cp_index] else as.Date(character(0)), delta = delta, k = k,
    y_scale = y_scale, weeks_per_unit = t_scale_days / 7)
}

prophet_stan_model <- function() {
  env <- prophet:::prophet_model_env
  if (exists(".prophet.stan.model", where = env)) get(".prophet.stan.model", envir = env) else prophet:::stanmodels$prophet
}
piecewise_linear <- prophet:::piecewise_linear

#' prophet's predictive interval at every time of `t_all`, simulated as `sample_posterior_predictive` does for a
#' MAP fit (one parameter draw, `uncertainty_samples` simulations), vectorised over the simulations: the new
#' changepoints of all simulations are drawn at once and each future time sums its own.
predictive_band <- function(t_all, yhat, delta, n_changepoints, noise_sd, y_scale, req) {
  samples <- req$uncertainty_samples
  if (samples == 0L) return(list(lower = yhat, upper = yhat))
  last <- max(t_all)
  trend <- matrix(yhat, nrow = length(t_all), ncol = samples)
  if (last > 1) {
    changes <- stats::rpois(samples, n_changepoints * (last - 1))
    total <- sum(changes)
    if (total > 0) {
      at <- 1 + stats::runif(total) * (last - 1)
      rate <- extraDistr::rlaplace(total, mu = 0, sigma = mean(abs(delta)) + 1e-8)
      owner <- rep.int(seq_len(samples), changes)
      future <- which(t_all > 1)
      # a rate change `rate` at time `at` adds rate·(t − at) at every t ≥ at
      shift <- vapply(future, function(i) {
        tabulate_sum(owner, rate * pmax(t_all[i] - at, 0), samples)
      }, numeric(samples))
      trend[future, ] <- trend[future, ] + t(shift) * y_scale
    }
  }
  simulated <- trend + stats::rnorm(length(trend), 0, noise_sd)
  probs <- c((1 - req$interval_width) / 2, (1 + req$interval_width) / 2)
  bounds <- row_quantiles(simulated, probs)
  list(lower = bounds[, 1], upper = bounds[, 2])
}

tabulate_sum <- function(group, value, groups) {
  out <- numeric(groups)
  sums <- rowsum(value, group, reorder = TRUE)
  out[as.integer(rownames(sums))] <- sums[, 1]
  out
}

#' `stats::quantile(type = 7)` of every row at `probs`, one sort per row.
row_quantiles <- function(x, probs) {
  s <- ncol(x)
  sorted <- t(apply(x, 1L, sort.int))
  h <- (s - 1) * probs + 1
  lo <- floor(h); hi <- ceiling(h)
  sapply(seq_along(probs), function(j) sorted[, lo[j]] + (h[j] - lo[j]) * (sorted[, hi[j]] - sorted[, lo[j]]))
}

#' The seed of one series: the request's seed mixed with the series id (a polynomial hash), so a series draws the
#' same simulations in any batch while different series draw independent ones. One shared seed gave every series the
#' same Monte Carlo error, so a cohort's intervals were all a few percent too wide, or too narrow, together.
series_seed <- function(seed, id) {
  Reduce(function(h, code) (h * 131 + code) %% 2147483647, utf8ToInt(id), seed %% 2147483647)
}

prophet_paths <- list(direct = prophet_path_direct, package = prophet_path_package)

#' Fit one series: in-sample fit, forecast with intervals, anomalies and changepoints.
fit_one_series <- function(s, req, path = prophet_path_direct) {
  started <- Sys.time()
  keep <- !is.na(s$y)
  df <- data.frame(ds = s$ds[keep], y = s$y[keep])
  df <- df[order(df$ds), ]
  if (nrow(df) < 4L) return(series_status(s$id, "insufficient_data", sprintf("%d non-null point(s); at least 4 are needed", nrow(df))))
  if (sd(df$y) == 0) return(series_status(s$id, "constant_series", sprintf("all %d values equal %s; nothing to forecast or score", nrow(df), format(df$y[1], digits = 15))))
  result <- tryCatch({
    set.seed(series_seed(req$seed, s$id))
    fc <- path(df, req)
    at <- match(df$ds, fc$ds)
    expected <- fc$yhat[at]
    resid <- df$y - expected
    resid_sd <- sd(resid)
    score <- if (resid_sd > 0) resid / resid_sd else rep(0, length(resid))
    anomalous <- abs(score) > req$anomaly_threshold
    ahead <- which(!(fc$ds %in% df$ds))
    # data frames, not lists of points: jsonlite writes a data frame as the same array of objects four times faster
    list(
      id = s$id, status = "ok", message = NULL,
      n_points = nrow(df),
      fit = data.frame(week_start = format(df$ds), value = df$y, yhat = expected, yhat_lower = fc$lower[at],
        yhat_upper = fc$upper[at], residual = resid, anomaly_score = score),
      forecast = data.frame(week_start = format(fc$ds[ahead]), yhat = fc$yhat[ahead], yhat_lower = fc$lower[ahead],
        yhat_upper = fc$upper[ahead]),
      anomalies = data.frame(week_start = format(df$ds[anomalous]), value = df$y[anomalous],
        expected = expected[anomalous], anomaly_score = score[anomalous]),
      changepoints = data.frame(week_start = format(fc$changepoints),
        rate_change_per_week = fc$delta[seq_along(fc$changepoints)] * fc$y_scale / fc$weeks_per_unit),
      residual_sd = resid_sd,
      trend_rate_per_week = fc$k * fc$y_scale / fc$weeks_per_unit,
      seconds = seconds_since(started)
    )
  }, error = function(e) series_status(s$id, "failed", conditionMessage(e)))
  result
}

#' One series by path name: what a worker process runs (a top-level function, so sending it sends no batch data).
fit_series_by_path <- function(s, req, path) fit_one_series(s, req, prophet_paths[[path]])

default_prophet_request <- list(horizon_weeks = 4L, anomaly_threshold = 2.5, interval_width = 0.95,
  uncertainty_samples = 200L, changepoint_prior_scale = 0.05, seed = 42L)

#' Load prophet's Stan model and rstan's first-call state (about a second) before the first request needs them.
warm_up_prophet <- function() {
  weeks <- as.Date("2024-01-01") + 7L * 0:11
  invisible(suppressMessages(lapply(names(prophet_paths), function(path) {
    fit_series_by_path(list(id = "warm-up", ds = weeks, y = sin(seq_along(weeks)) / 10), default_prophet_request, path)
  })))
}

#' `workers` persistent R processes (a PSOCK cluster) with `sources` loaded and prophet warmed up, over which each
#' batch's series are spread; none for one worker (the service's own process). Forking per batch (mclapply) was
#' slower than one process here: every fork redid the warm-up or copied the heap page by page as R's collector
#' touched it. The workers start with the first batch, not before the service listens (loading prophet in each takes
#' seconds, and a loaded machine made that a minute); they end with the service (they exit when its connection
#' closes, and share its process group).
prophet_workers <- function(workers, sources) {
  pool <- new.env()
  pool$size <- max(1L, as.integer(workers))
  pool$cluster <- NULL
  pool$ensure <- function() {
    if (pool$size <= 1L || !is.null(pool$cluster)) return(pool$cluster)
    cluster <- parallel::makePSOCKcluster(pool$size)
    parallel::clusterCall(cluster, function(sources) {
      Sys.setenv(TZ = "UTC")
      for (file in sources) source(file)
      warm_up_prophet()
      NULL
    }, sources)
    pool$cluster <- cluster
    cluster
  }
  pool$reset <- function() {
    if (!is.null(pool$cluster)) try(parallel::stopCluster(pool$cluster), silent = TRUE)
    pool$cluster <- NULL
  }
  pool
}

fit_prophet_batch <- function(req, pool = NULL, path = "direct") {
  started <- Sys.time()
  workers <- if (is.null(pool)) 1L else pool$size
  cluster <- if (!is.null(pool) && length(req$series) > 1L) {
    tryCatch(pool$ensure(), error = function(e) {
      message("prophet workers did not start (", conditionMessage(e), "); this batch runs in the main process")
      pool$reset()
      NULL
    })
  } else NULL
  results <- if (!is.null(cluster)) {
    tryCatch(parallel::parLapply(cluster, req$series, fit_series_by_path, req = req, path = path),
      error = function(e) {
        # a worker died (killed, out of memory): answer this batch in the service's own process; the next batch
        # starts new workers
        message("prophet workers failed (", conditionMessage(e), "); this batch runs in the main process")
        pool$reset()
        lapply(req$series, fit_series_by_path, req = req, path = path)
      })
  } else lapply(req$series, fit_series_by_path, req = req, path = path)
  statuses <- vapply(results, function(r) r$status, character(1))
  list(
    horizon_weeks = req$horizon_weeks, anomaly_threshold = req$anomaly_threshold, interval_width = req$interval_width,
    anomaly_definition = "anomaly_score = (value - yhat) / sd(in-sample residuals); anomalous when |score| > anomaly_threshold",
    series = results,
    summary = list(n_series = length(results), ok = sum(statuses == "ok"), insufficient_data = sum(statuses == "insufficient_data"),
      constant_series = sum(statuses == "constant_series"), failed = sum(statuses == "failed")),
    timing = list(total_seconds = seconds_since(started), workers = workers, prophet_path = path,
      per_series_seconds = seconds_since(started) / length(results))
  )
}
