# Cox proportional hazards for churn (a gap of at least `event_threshold_days` without activity).
suppressPackageStartupMessages(library(survival))

default_covariates <- c("A_t", "E_t", "R_t", "sessions", "mean_gap_days")

#' Right-censored outcome from a student's active days. The event is the first run of at least
#' `threshold` inactive days that is complete by the cutoff; its time is the follow-up from the first
#' active day to the start of that gap. Students without one are censored at the cutoff. Days count from
#' the first active day (day 1), so time is always >= 1.
survival_outcome <- function(active_days, cutoff, threshold) {
  days <- sort(unique(active_days[active_days <= cutoff]))
  if (length(days) == 0L) return(NULL)
  first <- days[1]
  inactive_after <- c(as.numeric(diff(days)) - 1, as.numeric(cutoff - days[length(days)]))
  gap <- which(inactive_after >= threshold)
  if (length(gap) > 0L) {
    list(time_days = as.numeric(days[gap[1]] - first) + 1, event = TRUE, first_active = first)
  } else {
    list(time_days = as.numeric(cutoff - first) + 1, event = FALSE, first_active = first)
  }
}

decode_covariate_values <- function(row, covariates, path) {
  vapply(covariates, function(name) field_number(row, name, paste0(path, ".", name), nullable = TRUE), numeric(1))
}

decode_survival_fit <- function(body) {
  rows <- field_array(body, "rows", min_length = 5L)
  threshold <- field_number(body, "event_threshold_days", default = 14, min = 1)
  cutoff <- if (is.null(body$cutoff)) as.Date(NA) else field_date(body, "cutoff")
  covariates <- if (is.null(body$covariates)) default_covariates else vapply(field_array(body, "covariates", min_length = 1L), function(x) {
    if (!is.character(x) || length(x) != 1L) invalid("covariates", "must be an array of strings")
    x
  }, character(1))
  n <- length(rows)
  user <- character(n); time <- numeric(n); event <- logical(n)
  x <- matrix(NA_real_, n, length(covariates), dimnames = list(NULL, covariates))
  for (i in seq_len(n)) {
    path <- sprintf("rows[%d]", i - 1L)
    row <- element_object(rows[[i]], path)
    user[i] <- field_id(row, "user_id", paste0(path, ".user_id"))
    if (!is.null(row$active_days)) {
      if (is.na(cutoff)) invalid("cutoff", "is required when rows carry active_days")
      days <- field_array(row, "active_days", paste0(path, ".active_days"), min_length = 1L)
      dates <- do.call(c, lapply(seq_along(days), function(j) field_date(list(d = days[[j]]), "d", sprintf("%s.active_days[%d]", path, j - 1L))))
      outcome <- survival_outcome(dates, cutoff, threshold)
      if (is.null(outcome)) invalid(paste0(path, ".active_days"), "has no day on or before the cutoff")
      time[i] <- outcome$time_days; event[i] <- outcome$event
    } else {
      time[i] <- field_number(row, "time_days", paste0(path, ".time_days"), min = 1e-9)
      event[i] <- field_bool(row, "event", paste0(path, ".event"))
    }
    x[i, ] <- decode_covariate_values(row, covariates, path)
  }
  if (anyDuplicated(user)) invalid("rows", sprintf("user_id '%s' appears more than once", user[anyDuplicated(user)]))
  if (sum(event) < 1L) invalid("rows", "no events: nobody had a gap of at least event_threshold_days, the hazard cannot be estimated")
  list(user = user, time = time, event = event, x = x, covariates = covariates, threshold = threshold, cutoff = cutoff,
    horizon_days = field_number(body, "horizon_days", default = threshold, min = 1))
}

#' Change in baseline cumulative hazard over [t, t + h]. Past the last event time the Breslow step function
#' is flat, which would read as zero risk for every long-followed student; there the last window of length
#' h before the last event is used instead (the hazard is assumed to stay at its most recent level).
baseline_increment <- function(t, h, times, cumhaz) {
  H <- function(s) if (s < times[1]) 0 else cumhaz[findInterval(s, times)]
  t_max <- max(times[diff(c(0, cumhaz)) > 0])
  start <- if (t + h > t_max) max(0, t_max - h) else t
  H(start + h) - H(start)
}

churn_probabilities <- function(time, lp, horizon, times, cumhaz) {
  vapply(seq_along(time), function(i) 1 - exp(-baseline_increment(time[i], horizon, times, cumhaz) * exp(lp[i])), numeric(1))
}

fit_survival <- function(req) {
  started <- Sys.time()
  warnings <- character(0)
  x <- req$x
  imputation <- empty_object()
  for (name in colnames(x)) {
    missing <- is.na(x[, name])
    if (all(missing)) {
      warnings <- c(warnings, sprintf("covariate %s has no values; dropped", name))
      next
    }
    med <- median(x[!missing, name])
    if (any(missing)) warnings <- c(warnings, sprintf("covariate %s: %d missing value(s) imputed with the median %s", name, sum(missing), format(med, digits = 6)))
    x[missing, name] <- med
    imputation[[name]] <- med
  }
  usable <- names(imputation)
  constant <- usable[vapply(usable, function(n) sd(x[, n]) == 0, logical(1))]
  if (length(constant)) warnings <- c(warnings, sprintf("covariate %s is constant; dropped", constant))
  usable <- setdiff(usable, constant)
  if (length(usable) == 0L) invalid("covariates", "no usable covariate (all missing or constant)")
  x <- x[, usable, drop = FALSE]
  events <- sum(req$event)
  if (events / length(usable) < 10) warnings <- c(warnings, sprintf("only %d event(s) for %d covariate(s) (fewer than 10 per covariate): estimates are unstable", events, length(usable)))

  df <- data.frame(time = req$time, event = as.integer(req$event), x, check.names = FALSE)
  formula <- as.formula(paste("survival::Surv(time, event) ~", paste(sprintf("`%s`", usable), collapse = " + ")))
  fit <- withCallingHandlers(survival::coxph(formula, data = df, ties = "efron", model = FALSE),
    warning = function(w) {
      warnings <<- c(warnings, paste("coxph:", conditionMessage(w)))
      invokeRestart("muffleWarning")
    })
  s <- summary(fit)
  beta <- coef(fit); se <- sqrt(diag(fit$var))
  names(beta) <- usable; names(se) <- usable
  diverged <- usable[!is.finite(beta) | !is.finite(se) | abs(beta) > 10 | se > 100]
  if (length(diverged)) warnings <- c(warnings, sprintf("coefficient of %s diverges (estimate %s, se %s): likely separation", diverged, format(beta[diverged], digits = 4), format(se[diverged], digits = 4)))
  bh <- survival::basehaz(fit, centered = FALSE)
  lp <- as.vector(x %*% beta)
  risk <- churn_probabilities(req$time, lp, req$horizon_days, bh$time, bh$hazard)
  conc <- fit$concordance
  list(
    family = "cox_ph", ties = "efron",
    cutoff = if (is.na(req$cutoff)) NULL else format(req$cutoff),
    event_threshold_days = req$threshold, horizon_days = req$horizon_days,
    n = length(req$time), events = events, covariates = as.list(usable),
    coefficients = lapply(usable, function(n) list(name = n, estimate = unname(beta[n]), se = unname(se[n]),
      z = unname(beta[n] / se[n]), p_value = 2 * pnorm(-abs(unname(beta[n] / se[n]))))),
    hazard_ratios = lapply(usable, function(n) list(name = n, hazard_ratio = exp(unname(beta[n])),
      lower95 = exp(unname(beta[n]) - 1.959964 * unname(se[n])), upper95 = exp(unname(beta[n]) + 1.959964 * unname(se[n])))),
    concordance = unname(conc["concordance"]),
    concordance_se = unname(sqrt(conc["var"])),
    baseline_hazard = lapply(seq_len(nrow(bh)), function(i) list(time_days = bh$time[i], cumulative_hazard = bh$hazard[i])),
    imputation = imputation,
    warnings = as.list(warnings),
    risk_scores = lapply(seq_along(req$user), function(i) list(user_id = req$user[i], time_days = req$time[i],
      event = req$event[i], linear_predictor = lp[i], churn_probability01 = risk[i])),
    timing = list(total_seconds = seconds_since(started))
  )
}

decode_survival_predict <- function(body) {
  coefs <- field_array(body, "coefficients", min_length = 1L)
  names_ <- character(length(coefs)); beta <- numeric(length(coefs))
  for (i in seq_along(coefs)) {
    path <- sprintf("coefficients[%d]", i - 1L)
    co <- element_object(coefs[[i]], path)
    names_[i] <- field_string(co, "name", paste0(path, ".name"))
    beta[i] <- field_number(co, "estimate", paste0(path, ".estimate"))
  }
  names(beta) <- names_
  bh <- field_array(body, "baseline_hazard", min_length = 1L)
  times <- numeric(length(bh)); cumhaz <- numeric(length(bh))
  for (i in seq_along(bh)) {
    path <- sprintf("baseline_hazard[%d]", i - 1L)
    b <- element_object(bh[[i]], path)
    times[i] <- field_number(b, "time_days", paste0(path, ".time_days"), min = 0)
    cumhaz[i] <- field_number(b, "cumulative_hazard", paste0(path, ".cumulative_hazard"), min = 0)
  }
  if (is.unsorted(times)) invalid("baseline_hazard", "time_days must be increasing")
  imputation <- field_object(body, "imputation", default = empty_object())
  rows <- field_array(body, "rows", min_length = 1L)
  user <- character(length(rows)); time <- numeric(length(rows))
  x <- matrix(NA_real_, length(rows), length(beta), dimnames = list(NULL, names_))
  for (i in seq_along(rows)) {
    path <- sprintf("rows[%d]", i - 1L)
    row <- element_object(rows[[i]], path)
    user[i] <- field_id(row, "user_id", paste0(path, ".user_id"))
    time[i] <- field_number(row, "time_days", paste0(path, ".time_days"), min = 0)
    v <- decode_covariate_values(row, names_, path)
    for (n in names_[is.na(v)]) {
      if (is.null(imputation[[n]])) invalid(paste0(path, ".", n), "is missing and imputation has no value for it")
      v[n] <- field_number(imputation, n, paste0("imputation.", n))
    }
    x[i, ] <- v
  }
  list(beta = beta, times = times, cumhaz = cumhaz, user = user, time = time, x = x,
    horizon_days = field_number(body, "horizon_days", default = 14, min = 1))
}

predict_survival <- function(req) {
  lp <- as.vector(req$x %*% req$beta)
  risk <- churn_probabilities(req$time, lp, req$horizon_days, req$times, req$cumhaz)
  list(horizon_days = req$horizon_days,
    risk_scores = lapply(seq_along(req$user), function(i) list(user_id = req$user[i], time_days = req$time[i],
      linear_predictor = lp[i], churn_probability01 = risk[i])))
}
