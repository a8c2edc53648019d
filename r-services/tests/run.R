# R-side tests of the services' model and validation code (plain stopifnot; no testthat on Debian here).
# Run: TZ=UTC Rscript r-services/tests/run.R        (brms compile is not exercised here: see test/r-services)
Sys.setenv(TZ = "UTC")
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
root <- file.path(here, "..")
source(file.path(root, "shared", "http.R"))
source(file.path(root, "shared", "validate.R"))
source(file.path(root, "forecast", "prophet_series.R"))
source(file.path(root, "forecast", "survival_model.R"))
source(file.path(root, "cluster", "segments.R"))

passed <- 0L
test <- function(name, code) {
  result <- tryCatch({ force(code); TRUE }, error = function(e) { message("FAIL ", name, ": ", conditionMessage(e)); FALSE })
  if (result) { passed <<- passed + 1L; message("ok   ", name) } else quit(status = 1L)
}
field_of <- function(expr) tryCatch({ force(expr); NA_character_ }, request_error = function(e) paste(e$status, e$field))

# A fake plumber request/response pair, enough for model_endpoint.
fake_req <- function(body, headers = list()) {
  req <- new.env()
  req$bodyRaw <- if (is.null(body)) NULL else charToRaw(body)
  for (h in names(headers)) assign(h, headers[[h]], envir = req)
  req
}
fake_res <- function() {
  res <- new.env()
  res$headers <- list()
  res$setHeader <- function(name, value) res$headers[[name]] <- value
  res
}

test("constant-time token compare", {
  stopifnot(constant_time_equals("abc", "abc"), !constant_time_equals("abd", "abc"), !constant_time_equals("ab", "abc"),
    !constant_time_equals("", "abc"), !constant_time_equals("abcd", "abc"))
})

test("model endpoint: 401 without or with a wrong token, Bearer accepted, 400 on malformed JSON, 422 naming the field, 500 on failure", {
  handler <- model_endpoint("secret", function(body) list(n = field_number(body, "n")))
  call <- function(body, headers) { res <- handler(fake_req(body, headers), fake_res()); list(status = res$status, body = jsonlite::fromJSON(res$body)) }
  stopifnot(call("{\"n\": 1}", list())$status == 401L)
  stopifnot(call("{\"n\": 1}", list(HTTP_X_INTERNAL_TOKEN = "nope"))$status == 401L)
  ok <- call("{\"n\": 1.12345678901234}", list(HTTP_AUTHORIZATION = "Bearer secret"))
  stopifnot(ok$status == 200L, ok$body$n == 1.12345678901234)
  bad <- call("{\"n\": ", list(HTTP_X_INTERNAL_TOKEN = "secret"))
  stopifnot(bad$status == 400L, bad$body$field == "body")
  invalid_ <- call("{\"n\": \"x\"}", list(HTTP_X_INTERNAL_TOKEN = "secret"))
  stopifnot(invalid_$status == 422L, invalid_$body$field == "n")
  failing <- model_endpoint("secret", function(body) stop("boom"))
  res <- failing(fake_req("{}", list(HTTP_X_INTERNAL_TOKEN = "secret")), fake_res())
  stopifnot(res$status == 500L, jsonlite::fromJSON(res$body)$message == "boom")
})

test("JSON keeps precision and writes NA as null", {
  json <- as.character(to_json(list(x = 1 / 3, y = NA, z = NULL)))
  stopifnot(grepl("0.333333333333333", json, fixed = TRUE), grepl("\"y\":null", json), grepl("\"z\":null", json))
})

test("survival gaps: one per pair of consecutive active days (returned), the open gap censored at days since last", {
  day <- function(...) as.Date("2024-01-01") + c(...) - 1   # day 1 = Jan 1
  g <- student_gaps(day(1, 2, 10), day(20))
  stopifnot(identical(g$time_days, c(1, 8, 10)), identical(g$returned, c(TRUE, TRUE, FALSE)), g$days_since_last == 10)
  on_cutoff <- student_gaps(day(1, 5, 20), day(20))          # active on the cutoff day: no open gap yet
  stopifnot(identical(on_cutoff$time_days, c(4, 15)), all(on_cutoff$returned), on_cutoff$days_since_last == 0)
  later <- student_gaps(day(3, 30), day(20))                 # a day after the cutoff is not seen
  stopifnot(identical(later$time_days, 17), !later$returned, later$days_since_last == 17)
  stopifnot(is.null(student_gaps(day(25), day(20))))
  # churn = >= 14 inactive days: a return after 15 days (14 inactive between), or 14 days since the last one
  stopifnot(churned(student_gaps(day(1, 16, 20), day(20)), 14), !churned(student_gaps(day(1, 15, 20), day(20)), 14))
  stopifnot(churned(student_gaps(day(1, 6), day(20)), 14), !churned(student_gaps(day(1, 7), day(20)), 14))
})

#' Students whose gaps are exponential (rounded up to whole days) with return rate 0.05 * exp(1.2 A_t - 0.8 E_t).
simulate_active_days <- function(n, cutoff) lapply(seq_len(n), function(i) {
  a <- runif(1); e <- runif(1); day <- cutoff - 180 + sample(0:20, 1); days <- day
  repeat { day <- day + ceiling(rexp(1, 0.05 * exp(1.2 * a - 0.8 * e))); if (day > cutoff) break; days <- c(days, day) }
  list(user_id = paste0("u", i), active_days = as.list(format(days)), A_t = a, E_t = e)
})

test("survival fit recovers the return hazard ratios; S is 1 once lapsed, grows with days since last; predict reproduces it", {
  set.seed(3)
  cutoff <- as.Date("2024-06-30")
  rows <- simulate_active_days(200, cutoff)
  fit <- fit_survival(decode_survival_fit(list(rows = rows, cutoff = format(cutoff), covariates = list("A_t", "E_t"), event_threshold_days = 14)))
  hr <- setNames(fit$hazard_ratios, vapply(fit$hazard_ratios, `[[`, "", "name"))
  stopifnot(hr$A_t$lower95 < exp(1.2), exp(1.2) < hr$A_t$upper95, hr$E_t$lower95 < exp(-0.8), exp(-0.8) < hr$E_t$upper95)
  gaps <- lapply(rows, function(r) student_gaps(as.Date(unlist(r$active_days)), cutoff))
  stopifnot(fit$n == 200, fit$gaps == sum(lengths(lapply(gaps, `[[`, "time_days"))), fit$returns == sum(unlist(lapply(gaps, `[[`, "returned"))))
  stopifnot(fit$events == sum(vapply(gaps, function(g) any(g$time_days[g$returned] > 15) || g$days_since_last >= 14, TRUE)))
  risk <- vapply(fit$risk_scores, `[[`, 0, "churn_probability01")
  since <- vapply(fit$risk_scores, `[[`, 0, "time_days")
  stopifnot(identical(since, vapply(gaps, `[[`, 0, "days_since_last")), all(risk[since >= 14] == 1), all(risk >= 0 & risk <= 1))
  stopifnot(any(since < 14), all(risk[since < 14] < 1))
  score <- function(rows, threshold = 14, horizon = threshold) vapply(predict_survival(decode_survival_predict(list(
    coefficients = fit$coefficients, baseline_hazard = fit$baseline_hazard, event_threshold_days = threshold,
    horizon_days = horizon, rows = rows)))$risk_scores, `[[`, 0, "churn_probability01")
  same <- lapply(0:16, function(d) list(user_id = paste0("d", d), days_since_last = d, A_t = 0.5, E_t = 0.5))
  s <- score(same)
  stopifnot(all(diff(s[1:15]) > 0), all(s[15:17] == 1))
  # a more engaged student returns sooner: lower churn risk at the same days since last
  engaged <- score(list(list(user_id = "low", days_since_last = 5, A_t = 0.1, E_t = 0.5), list(user_id = "high", days_since_last = 5, A_t = 0.9, E_t = 0.5)))
  stopifnot(engaged[1] > engaged[2])
  # a run that cannot be complete within a shorter horizon has probability 0
  stopifnot(identical(score(same[c(1, 12)], horizon = 4) == 0, c(TRUE, FALSE)))
  again <- score(lapply(1:20, function(i) list(user_id = rows[[i]]$user_id, days_since_last = since[i], A_t = rows[[i]]$A_t, E_t = rows[[i]]$E_t)))
  stopifnot(isTRUE(all.equal(again, risk[1:20])))
})

test("survival fit on many gaps: model-based standard errors, said in a warning, same coefficients", {
  set.seed(3)
  cutoff <- as.Date("2024-06-30")
  body <- list(rows = simulate_active_days(200, cutoff), cutoff = format(cutoff), covariates = list("A_t", "E_t"), event_threshold_days = 14)
  clustered <- fit_survival(decode_survival_fit(body))
  limit <- CLUSTERED_SE_MAX_GAPS
  CLUSTERED_SE_MAX_GAPS <<- 10L
  on.exit(CLUSTERED_SE_MAX_GAPS <<- limit)
  plain <- fit_survival(decode_survival_fit(body))
  stopifnot(any(grepl("model-based, not clustered", unlist(plain$warnings))), !any(grepl("model-based", unlist(clustered$warnings))))
  est <- function(f) vapply(f$coefficients, `[[`, 0, "estimate")
  stopifnot(isTRUE(all.equal(est(plain), est(clustered))))
  stopifnot(isTRUE(all.equal(vapply(plain$risk_scores, `[[`, 0, "churn_probability01"), vapply(clustered$risk_scores, `[[`, 0, "churn_probability01"))))
})

test("survival validation names the field", {
  stopifnot(field_of(decode_survival_fit(list(rows = list(1, 2, 3, 4, 5)))) == "422 cutoff")
  stopifnot(field_of(decode_survival_fit(list(cutoff = "2024-01-31", rows = list(1, 2, 3, 4, 5)))) == "422 rows[0]")
  # the precomputed time_days + event form is gone: one outcome per student does not fit a model of gaps
  rows <- lapply(1:5, function(i) list(user_id = paste0("u", i), time_days = i, event = FALSE))
  stopifnot(field_of(decode_survival_fit(list(cutoff = "2024-01-31", rows = rows))) == "422 rows[0].active_days")
  once <- lapply(1:5, function(i) list(user_id = paste0("u", i), active_days = list(sprintf("2024-01-%02d", i))))
  stopifnot(field_of(decode_survival_fit(list(cutoff = "2024-01-31", rows = once))) == "422 rows")
  once[[2]]$active_days <- list("2024-01-02", "2024-02-30")
  stopifnot(field_of(decode_survival_fit(list(cutoff = "2024-01-31", rows = once))) == "422 rows[1].active_days[1]")
  predict <- list(coefficients = list(list(name = "A_t", estimate = 1)), baseline_hazard = list(list(time_days = 1, cumulative_hazard = 0.1)),
    event_threshold_days = 14, rows = list(list(user_id = "u", days_since_last = -1, A_t = 0)))
  stopifnot(field_of(decode_survival_predict(predict)) == "422 rows[0].days_since_last")
  predict$event_threshold_days <- NULL
  stopifnot(field_of(decode_survival_predict(predict)) == "422 event_threshold_days")
})

test("prophet: per-series answers for short and constant series, a trend continued", {
  weeks <- format(seq(as.Date("2024-01-01"), by = 7, length.out = 12))
  series <- list(
    list(id = "trend", points = lapply(1:12, function(i) list(week_start = weeks[i], value = 0.1 + 0.02 * (i - 1) + c(0.01, -0.01)[i %% 2 + 1]))),
    list(id = "short", points = lapply(1:3, function(i) list(week_start = weeks[i], value = i))),
    list(id = "flat", points = lapply(1:6, function(i) list(week_start = weeks[i], value = 0.3)))
  )
  out <- fit_prophet_batch(decode_prophet_fit(list(series = series, horizon_weeks = 2, anomaly_threshold = 2.5)))
  status <- vapply(out$series, `[[`, "", "status")
  stopifnot(identical(status, c("ok", "insufficient_data", "constant_series")))
  stopifnot(abs(out$series[[1]]$forecast$yhat[2] - (0.1 + 0.02 * 13)) < 0.03)
  stopifnot(field_of(decode_prophet_fit(list(series = list(list(id = "a", points = list(list(week_start = "2024-13-01", value = 1))))))) == "422 series[0].points[0].week_start")
})

test("prophet: the direct path fits prophet's model as prophet() does; a series' draws do not depend on its batch", {
  set.seed(9)
  weeks <- as.Date("2024-01-01") + 7L * 0:11
  req <- list(horizon_weeks = 4L, anomaly_threshold = 2.5, interval_width = 0.95, uncertainty_samples = 200L,
    changepoint_prior_scale = 0.05, seed = 42L)
  for (i in 1:5) {
    s <- list(id = paste0("s", i), ds = weeks, y = 0.1 + 0.03 * (0:11) * (i - 3) + (0:11 > 6) * 0.2 * i + rnorm(12, 0, 0.05))
    direct <- fit_one_series(s, req, prophet_path_direct)
    package <- suppressMessages(fit_one_series(s, req, prophet_path_package))
    stopifnot(direct$status == "ok", package$status == "ok")
    # same Stan program, data, start and optimizer: the same optimum
    stopifnot(max(abs(direct$fit$yhat - package$fit$yhat)) < 1e-6, max(abs(direct$forecast$yhat - package$forecast$yhat)) < 1e-6)
    stopifnot(abs(direct$trend_rate_per_week - package$trend_rate_per_week) < 1e-6)
    stopifnot(identical(direct$changepoints$week_start, package$changepoints$week_start))
    # every point inside its own band
    stopifnot(all(direct$forecast$yhat_lower < direct$forecast$yhat), all(direct$forecast$yhat < direct$forecast$yhat_upper))
  }
  s <- list(id = "same", ds = weeks, y = sin(1:12) / 10 + (1:12) / 50)
  other <- list(id = "other", ds = weeks, y = s$y)
  alone <- fit_prophet_batch(list(series = list(s), horizon_weeks = 4L, anomaly_threshold = 2.5, interval_width = 0.95,
    uncertainty_samples = 200L, changepoint_prior_scale = 0.05, seed = 42L))$series[[1]]
  batch <- fit_prophet_batch(list(series = list(other, s), horizon_weeks = 4L, anomaly_threshold = 2.5, interval_width = 0.95,
    uncertainty_samples = 200L, changepoint_prior_scale = 0.05, seed = 42L))$series
  stopifnot(identical(alone$forecast, batch[[2]]$forecast))
  # the same values under another id draw other simulations (one seed for all series made their errors move together)
  stopifnot(!identical(batch[[1]]$forecast$yhat_upper, batch[[2]]$forecast$yhat_upper))
  stopifnot(identical(batch[[1]]$forecast$yhat, batch[[2]]$forecast$yhat))
  # spread over two worker processes: the same answers as in one process
  pool <- prophet_workers(2L, file.path(root, c("shared/validate.R", "forecast/prophet_series.R")))
  on.exit(pool$reset())
  many <- lapply(1:6, function(i) list(id = paste0("w", i), ds = weeks, y = s$y * i + (1:12) / 100))
  req <- list(series = many, horizon_weeks = 4L, anomaly_threshold = 2.5, interval_width = 0.95,
    uncertainty_samples = 200L, changepoint_prior_scale = 0.05, seed = 42L)
  spread <- fit_prophet_batch(req, pool)
  stopifnot(spread$timing$workers == 2L)
  for (i in 1:6) stopifnot(identical(spread$series[[i]][c("fit", "forecast")], fit_prophet_batch(req)$series[[i]][c("fit", "forecast")]))
})

test("cluster: recovers groups, stable labels on refit and on reordered rows, predict matches fit", {
  set.seed(5)
  centres <- rbind(c(0.8, 0.3, 0.2), c(0.3, -0.3, 0.1), c(0.5, 0, 0.8))
  truth <- rep(1:3, 40)
  rows <- lapply(seq_along(truth), function(i) {
    v <- centres[truth[i], ] + rnorm(3, 0, 0.05)
    list(user_id = paste0("u", i), engagement = v[1], improvement = v[2], hint_rate = v[3])
  })
  fit <- fit_segments(decode_cluster_fit(list(features = rows)))
  stopifnot(fit$segment_meta$n_clusters == 3)
  got <- vapply(fit$segments, `[[`, 0, "cluster")
  stopifnot(all(rowSums(table(truth, got) > 0) == 1))
  again <- fit_segments(decode_cluster_fit(list(features = rev(rows))))
  labels <- setNames(vapply(fit$segments, `[[`, "", "segment_label"), vapply(fit$segments, `[[`, "", "user_id"))
  labels_again <- setNames(vapply(again$segments, `[[`, "", "segment_label"), vapply(again$segments, `[[`, "", "user_id"))
  stopifnot(identical(labels[names(labels_again)], labels_again))
  stopifnot("hint-heavy" %in% labels)
  pred <- predict_segments(decode_cluster_predict(list(scaling = fit$segment_meta$scaling, centers = fit$segment_meta$centers, features = rows[1:10])))
  stopifnot(identical(vapply(pred$segments, `[[`, 0, "cluster"), got[1:10]))
  stopifnot(field_of(decode_cluster_fit(list(features = list(list(user_id = "a", x = 1), list(user_id = "a", x = 2), list(user_id = "b", x = 3))))) == "422 features")
})

cluster_rows <- function(m) lapply(seq_len(nrow(m)), function(i) list(user_id = sprintf("u%03d", i), engagement = m[i, 1],
  improvement = m[i, 2], efficiency = m[i, 3], hint_rate = m[i, 4]))

test("cluster: automatic k does not split one Gaussian blob (the smallest k allowed, with a warning)", {
  set.seed(11)
  fit <- fit_segments(decode_cluster_fit(list(features = cluster_rows(matrix(rnorm(300 * 4), ncol = 4)))))
  stopifnot(fit$segment_meta$k_selection$k_gap == 1L, fit$segment_meta$n_clusters == 2L)
  stopifnot(any(grepl("no cluster structure", unlist(fit$segment_meta$warnings))))
  gaps <- vapply(fit$segment_meta$k_selection$scores, `[[`, 0, "gap")
  stopifnot(length(gaps) == 6L, which.max(gaps) == 1L)
})

test("cluster: automatic k finds four well-separated blobs of unequal size", {
  set.seed(12)
  centres <- rbind(c(0, 0, 0, 0), c(4, 0, 0, 0), c(0, 4, 0, 0), c(0, 0, 4, 0))
  truth <- rep(1:4, c(100, 80, 60, 40))
  fit <- fit_segments(decode_cluster_fit(list(features = cluster_rows(centres[truth, ] + matrix(rnorm(280 * 4, sd = 0.6), ncol = 4)))))
  stopifnot(fit$segment_meta$n_clusters == 4L, fit$segment_meta$k_selection$k_gap == 4L)
  got <- vapply(fit$segments, `[[`, 0, "cluster")
  stopifnot(all(rowSums(table(truth, got) > 0) == 1))
})

message(sprintf("%d R test groups passed", passed))
