# Where one prophet series' time goes in r-forecast-plumber, for prophet's own path (`--prophet-path package`:
# prophet() + predict()) and the service's default direct path, on the same 12-week series, in one process:
#   TZ=UTC Rscript bench/r-services/prophetProfile.R [series=200] [rounds=3]
# Parts (CPU ms of this process per series, median over rounds; the rounds alternate the two paths, so load on a
# shared machine hits both; CPU time rather than wall time, which other processes on the machine stretch):
#   decode    jsonlite::parse_json + decode_prophet_fit of a request of `series` series (the JSON side, inbound)
#   fit       the package: prophet(fit = TRUE) — its data-frame set-up and the Stan optimizer;
#             direct: the same Stan optimizer call alone (prophet's model, Newton, same data and start)
#   stan      the Stan optimizer call inside `fit` (rstan::optimizing, timed on its own)
#   predict   the package: predict() with its uncertainty samples; direct: the point trend and predictive_band()
#   sampling  the predictive simulation inside `predict` (package: predict() minus predict() without samples)
#   answer    the rest of fit_one_series: residuals, anomalies, the answer's data frames (the same for both paths)
#   encode    to_json of the answer of `series` series (the JSON side, outbound)
# Prints ratios and times; never asserts. Plumber's own HTTP handling is not here (bench/r-services/prophet.ts
# measures a request end to end, and bench/forecast.ts the pipeline).
Sys.setenv(TZ = "UTC")
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
services <- file.path(here, "..", "..", "r-services")
source(file.path(services, "shared", "http.R"))
source(file.path(services, "shared", "validate.R"))
source(file.path(services, "forecast", "prophet_series.R"))

args <- as.integer(commandArgs(trailingOnly = TRUE))
n_series <- if (length(args) >= 1L && !is.na(args[1])) args[1] else 200L
rounds <- if (length(args) >= 2L && !is.na(args[2])) args[2] else 3L

set.seed(2026)
weeks <- format(as.Date("2026-03-09") + 7L * 0:11)
request <- list(
  series = lapply(seq_len(n_series), function(i) {
    slope <- rnorm(1, 0, 0.02)
    list(id = sprintf("student-%05d", i), points = lapply(seq_along(weeks), function(w) {
      list(week_start = weeks[w], value = 0.05 + slope * w + rnorm(1, 0, 0.06))
    }))
  }),
  horizon_weeks = 4L, anomaly_threshold = 2.5
)
body <- as.character(to_json(request))

cpu_seconds <- function() sum(proc.time()[c("user.self", "sys.self")])
ms_per_series <- function(expr) {
  started <- cpu_seconds()
  force(expr)
  1000 * (cpu_seconds() - started) / n_series
}
# rstan::optimizing's time inside any call, by wrapping it for the duration of `expr`
with_stan_timer <- function(expr) {
  spent <- 0
  original <- rstan::optimizing
  timed <- function(...) {
    started <- cpu_seconds()
    on.exit(spent <<- spent + cpu_seconds() - started)
    original(...)
  }
  rstan_ns <- asNamespace("rstan")
  unlockBinding("optimizing", rstan_ns)
  assign("optimizing", timed, envir = rstan_ns)
  on.exit({ assign("optimizing", original, envir = rstan_ns); lockBinding("optimizing", rstan_ns) })
  force(expr)
  1000 * spent / n_series
}

profile_path <- function(name) {
  decoded <- NULL
  decode <- ms_per_series(decoded <- decode_prophet_fit(jsonlite::parse_json(body, simplifyVector = FALSE)))
  req <- decoded
  frames <- lapply(decoded$series, function(s) data.frame(ds = s$ds, y = s$y))
  models <- NULL
  if (name == "package") {
    opts <- function(samples) list(interval.width = req$interval_width, uncertainty.samples = samples,
      changepoint.prior.scale = req$changepoint_prior_scale)
    make <- function(df) suppressMessages(prophet::prophet(df, weekly.seasonality = FALSE, yearly.seasonality = FALSE,
      daily.seasonality = FALSE, interval.width = req$interval_width, uncertainty.samples = req$uncertainty_samples,
      changepoint.prior.scale = req$changepoint_prior_scale))
    stan <- 0
    fit <- ms_per_series(stan <- with_stan_timer(models <- lapply(frames, make)))
    futures <- lapply(models, function(m) prophet::make_future_dataframe(m, periods = req$horizon_weeks, freq = "week"))
    predict_ms <- ms_per_series(for (i in seq_along(models)) predict(models[[i]], futures[[i]]))
    bare <- lapply(models, function(m) { m$uncertainty.samples <- 0; m })
    no_samples <- ms_per_series(for (i in seq_along(bare)) predict(bare[[i]], futures[[i]]))
    sampling <- predict_ms - no_samples
  } else {
    # the direct path with its band computed apart: the Stan call, then the trend and the simulated band
    band_ms <- 0
    original_band <- predictive_band
    predictive_band <<- function(...) {
      started <- cpu_seconds()
      on.exit(band_ms <<- band_ms + 1000 * (cpu_seconds() - started) / n_series)
      original_band(...)
    }
    on.exit(predictive_band <<- original_band)
    stan <- 0
    whole <- ms_per_series(stan <- with_stan_timer(lapply(frames, prophet_path_direct, req = req)))
    fit <- stan
    predict_ms <- whole - stan
    sampling <- band_ms
  }
  # the rest of fit_one_series, on the direct path's answers replayed (the same work for both paths)
  fitted <- lapply(frames, prophet_path_direct, req = req)
  replay <- local({ i <- 0L; function(df, req) { i <<- i + 1L; fitted[[i]] } })
  answers <- NULL
  answer <- ms_per_series(answers <- lapply(decoded$series, fit_one_series, req = req, path = replay))
  encode <- ms_per_series(to_json(list(series = answers)))
  c(decode = decode, fit = fit, stan = stan, predict = predict_ms, sampling = sampling, answer = answer,
    encode = encode, total = decode + fit + predict_ms + answer + encode)
}

invisible(suppressMessages(fit_one_series(list(id = "warm", ds = as.Date(weeks), y = (1:12) / 40 + sin(1:12) / 20),
  list(horizon_weeks = 4L, anomaly_threshold = 2.5, interval_width = 0.95, uncertainty_samples = 200L,
    changepoint_prior_scale = 0.05, seed = 1L))))
results <- list(package = list(), direct = list())
for (round in seq_len(rounds)) {
  for (name in c("package", "direct")) results[[name]][[round]] <- suppressMessages(profile_path(name))
}
medians <- sapply(results, function(r) apply(do.call(rbind, r), 2L, stats::median))
cat(sprintf("prophet profile: %d series of 12 weeks, horizon 4, 200 uncertainty samples, %d rounds (ms per series, median)\n",
  n_series, rounds))
cat(sprintf("%-9s %10s %10s %8s\n", "part", "package", "direct", "ratio"))
for (part in rownames(medians)) {
  cat(sprintf("%-9s %10.2f %10.2f %8s\n", part, medians[part, "package"], medians[part, "direct"],
    if (medians[part, "direct"] > 0) sprintf("%.1fx", medians[part, "package"] / medians[part, "direct"]) else "-"))
}
shares <- medians[c("decode", "fit", "predict", "answer", "encode"), ] / rep(medians["total", ], each = 5)
cat("shares of total: package ", paste(sprintf("%s %.0f%%", rownames(shares), 100 * shares[, "package"]), collapse = ", "),
  "\n                 direct  ", paste(sprintf("%s %.0f%%", rownames(shares), 100 * shares[, "direct"]), collapse = ", "), "\n")
