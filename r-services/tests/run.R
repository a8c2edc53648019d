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

test("survival outcome: first gap of >= threshold inactive days; censored at the cutoff otherwise", {
  d <- function(...) as.Date(c(...))
  cutoff <- as.Date("2024-03-31")
  a <- survival_outcome(d("2024-01-01", "2024-01-03", "2024-01-20"), cutoff, 14)
  stopifnot(a$event, a$time_days == 3)
  b <- survival_outcome(seq(as.Date("2024-01-01"), cutoff, by = 7), cutoff, 14)
  stopifnot(!b$event, b$time_days == 91)
  c_ <- survival_outcome(d("2024-03-01", "2024-03-10"), cutoff, 14)   # 21 trailing inactive days
  stopifnot(c_$event, c_$time_days == 10)
  e <- survival_outcome(d("2024-03-01", "2024-03-20"), cutoff, 14)    # gaps 18 (event)
  stopifnot(e$event, e$time_days == 1)
  f <- survival_outcome(d("2024-03-20", "2024-04-10"), cutoff, 14)    # after-cutoff day ignored; 11 trailing days
  stopifnot(!f$event, f$time_days == 12)
})

test("survival fit recovers a hazard ratio and predict reproduces the risks", {
  set.seed(3)
  n <- 400
  a <- runif(n); t <- rexp(n, 0.02 * exp(-1.2 * a)); cens <- runif(n, 20, 90)
  rows <- lapply(seq_len(n), function(i) list(user_id = paste0("u", i), time_days = min(t[i], cens[i]), event = t[i] <= cens[i], A_t = a[i]))
  fit <- fit_survival(decode_survival_fit(list(rows = rows, covariates = list("A_t"), event_threshold_days = 14)))
  hr <- fit$hazard_ratios[[1]]
  stopifnot(hr$lower95 < exp(-1.2), exp(-1.2) < hr$upper95)
  pred <- predict_survival(decode_survival_predict(list(coefficients = fit$coefficients, baseline_hazard = fit$baseline_hazard,
    horizon_days = 14, rows = lapply(1:10, function(i) rows[[i]][c("user_id", "time_days", "A_t")]))))
  stopifnot(isTRUE(all.equal(vapply(pred$risk_scores, `[[`, 0, "churn_probability01"),
    vapply(fit$risk_scores[1:10], `[[`, 0, "churn_probability01"))))
  stopifnot(all(vapply(fit$risk_scores, function(r) r$churn_probability01 >= 0 && r$churn_probability01 <= 1, TRUE)))
})

test("survival validation names the field", {
  stopifnot(field_of(decode_survival_fit(list(rows = list(1, 2, 3, 4, 5)))) == "422 rows[0]")
  rows <- lapply(1:5, function(i) list(user_id = paste0("u", i), time_days = i, event = FALSE))
  stopifnot(field_of(decode_survival_fit(list(rows = rows))) == "422 rows")
  rows[[2]]$time_days <- "x"
  stopifnot(field_of(decode_survival_fit(list(rows = rows))) == "422 rows[1].time_days")
})

test("prophet: per-series answers for short and constant series, a trend continued", {
  weeks <- format(seq(as.Date("2024-01-01"), by = 7, length.out = 12))
  series <- list(
    list(id = "trend", points = lapply(1:12, function(i) list(week_start = weeks[i], value = 0.1 + 0.02 * (i - 1) + c(0.01, -0.01)[i %% 2 + 1]))),
    list(id = "short", points = lapply(1:3, function(i) list(week_start = weeks[i], value = i))),
    list(id = "flat", points = lapply(1:6, function(i) list(week_start = weeks[i], value = 0.3)))
  )
  out <- fit_prophet_batch(decode_prophet_fit(list(series = series, horizon_weeks = 2, anomaly_threshold = 2.5)), 1L)
  status <- vapply(out$series, `[[`, "", "status")
  stopifnot(identical(status, c("ok", "insufficient_data", "constant_series")))
  stopifnot(abs(out$series[[1]]$forecast[[2]]$yhat - (0.1 + 0.02 * 13)) < 0.03)
  stopifnot(field_of(decode_prophet_fit(list(series = list(list(id = "a", points = list(list(week_start = "2024-13-01", value = 1))))))) == "422 series[0].points[0].week_start")
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

message(sprintf("%d R test groups passed", passed))
