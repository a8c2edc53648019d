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

#' Fit one series: in-sample fit, forecast with intervals, anomalies and changepoints.
fit_one_series <- function(s, req) {
  started <- Sys.time()
  keep <- !is.na(s$y)
  df <- data.frame(ds = s$ds[keep], y = s$y[keep])
  df <- df[order(df$ds), ]
  if (nrow(df) < 4L) return(series_status(s$id, "insufficient_data", sprintf("%d non-null point(s); at least 4 are needed", nrow(df))))
  if (sd(df$y) == 0) return(series_status(s$id, "constant_series", sprintf("all %d values equal %s; nothing to forecast or score", nrow(df), format(df$y[1], digits = 15))))
  result <- tryCatch({
    set.seed(req$seed)
    m <- prophet::prophet(df, weekly.seasonality = FALSE, yearly.seasonality = FALSE, daily.seasonality = FALSE,
      interval.width = req$interval_width, uncertainty.samples = req$uncertainty_samples,
      changepoint.prior.scale = req$changepoint_prior_scale, fit = TRUE)
    future <- prophet::make_future_dataframe(m, periods = req$horizon_weeks, freq = "week", include_history = TRUE)
    fc <- predict(m, future)
    fc$ds <- as.Date(fc$ds)
    in_sample <- fc$ds %in% df$ds
    fitted <- fc[in_sample, ]
    resid <- df$y - fitted$yhat[match(df$ds, fitted$ds)]
    resid_sd <- sd(resid)
    score <- if (resid_sd > 0) resid / resid_sd else rep(0, length(resid))
    anomalous <- abs(score) > req$anomaly_threshold
    weeks_per_unit <- as.numeric(m$t.scale) / (7 * 86400)
    delta <- if (is.null(m$params$delta)) numeric(0) else colMeans(matrix(m$params$delta, ncol = length(m$changepoints)))
    list(
      id = s$id, status = "ok", message = NULL,
      n_points = nrow(df),
      fit = lapply(seq_len(nrow(df)), function(i) {
        row <- fitted[match(df$ds[i], fitted$ds), ]
        list(week_start = format(df$ds[i]), value = df$y[i], yhat = row$yhat, yhat_lower = row$yhat_lower,
          yhat_upper = row$yhat_upper, residual = resid[i], anomaly_score = score[i])
      }),
      forecast = lapply(which(!in_sample), function(i) list(week_start = format(fc$ds[i]), yhat = fc$yhat[i],
        yhat_lower = fc$yhat_lower[i], yhat_upper = fc$yhat_upper[i])),
      anomalies = lapply(which(anomalous), function(i) list(week_start = format(df$ds[i]), value = df$y[i],
        expected = df$y[i] - resid[i], anomaly_score = score[i])),
      changepoints = lapply(seq_along(m$changepoints), function(j) list(week_start = format(as.Date(m$changepoints[j])),
        rate_change_per_week = delta[j] * m$y.scale / weeks_per_unit)),
      residual_sd = resid_sd,
      trend_rate_per_week = mean(m$params$k) * m$y.scale / weeks_per_unit,
      seconds = seconds_since(started)
    )
  }, error = function(e) series_status(s$id, "failed", conditionMessage(e)))
  result
}

fit_prophet_batch <- function(req, workers) {
  started <- Sys.time()
  run <- function(s) fit_one_series(s, req)
  results <- if (workers > 1L && length(req$series) > 1L) {
    parallel::mclapply(req$series, run, mc.cores = workers, mc.preschedule = TRUE)
  } else lapply(req$series, run)
  statuses <- vapply(results, function(r) r$status, character(1))
  list(
    horizon_weeks = req$horizon_weeks, anomaly_threshold = req$anomaly_threshold, interval_width = req$interval_width,
    anomaly_definition = "anomaly_score = (value - yhat) / sd(in-sample residuals); anomalous when |score| > anomaly_threshold",
    series = results,
    summary = list(n_series = length(results), ok = sum(statuses == "ok"), insufficient_data = sum(statuses == "insufficient_data"),
      constant_series = sum(statuses == "constant_series"), failed = sum(statuses == "failed")),
    timing = list(total_seconds = seconds_since(started), workers = workers,
      per_series_seconds = seconds_since(started) / length(results))
  )
}
