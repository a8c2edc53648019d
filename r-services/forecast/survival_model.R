# Churn as a time-to-return model: Cox proportional hazards of the next active day over every gap between active
# days, scored at the cutoff by how long each student's current gap already is. Churn = a run of at least
# `event_threshold_days` days without activity.
suppressPackageStartupMessages(library(survival))

default_covariates <- c("A_t", "E_t", "R_t", "sessions", "mean_gap_days")

CLUSTERED_SE_MAX_GAPS <- 30000L

#' One student's inter-activity gaps up to the cutoff: the observations of the time-to-return model. A gap between
#' two consecutive active days is a return after `time_days` days (the days until the next active day, so it holds
#' `time_days - 1` inactive days); the open gap after the last active day is right-censored at its current length
#' d = cutoff - last (the d days after the last active day, the cutoff included, were all inactive). With d = 0
#' (active on the cutoff day) there is no open gap yet: "no return within 0 days" is certain, it would sit in no
#' risk set (returns take at least a day), and coxph would only count it as an observation; it is left out.
student_gaps <- function(active_days, cutoff) {
  days <- sort(unique(active_days[active_days <= cutoff]))
  if (length(days) == 0L) return(NULL)
  returns <- as.numeric(diff(days))
  open <- as.numeric(cutoff - days[length(days)])
  censored <- if (open > 0) open else numeric(0)
  list(time_days = c(returns, censored), returned = c(rep(TRUE, length(returns)), rep(FALSE, length(censored))),
    days_since_last = open)
}

#' Whether a student has had a churn event by the cutoff: a run of at least `threshold` inactive days, between two
#' active days (a return after more than `threshold` days) or from the last active day to the cutoff.
churned <- function(gaps, threshold) {
  any(gaps$time_days[gaps$returned] - 1 >= threshold) || gaps$days_since_last >= threshold
}

decode_covariate_values <- function(row, covariates, path) {
  vapply(covariates, function(name) field_number(row, name, paste0(path, ".", name), nullable = TRUE), numeric(1))
}

decode_survival_fit <- function(body) {
  rows <- field_array(body, "rows", min_length = 5L)
  threshold <- field_number(body, "event_threshold_days", default = 14, min = 1)
  cutoff <- field_date(body, "cutoff")
  covariates <- if (is.null(body$covariates)) default_covariates else vapply(field_array(body, "covariates", min_length = 1L), function(x) {
    if (!is.character(x) || length(x) != 1L) invalid("covariates", "must be an array of strings")
    x
  }, character(1))
  n <- length(rows)
  user <- character(n); days_since_last <- numeric(n); churn <- logical(n); gaps <- vector("list", n)
  x <- matrix(NA_real_, n, length(covariates), dimnames = list(NULL, covariates))
  for (i in seq_len(n)) {
    path <- sprintf("rows[%d]", i - 1L)
    row <- element_object(rows[[i]], path)
    user[i] <- field_id(row, "user_id", paste0(path, ".user_id"))
    days <- field_array(row, "active_days", paste0(path, ".active_days"), min_length = 1L)
    dates <- do.call(c, lapply(seq_along(days), function(j) field_date(list(d = days[[j]]), "d", sprintf("%s.active_days[%d]", path, j - 1L))))
    gaps[[i]] <- student_gaps(dates, cutoff)
    if (is.null(gaps[[i]])) invalid(paste0(path, ".active_days"), "has no day on or before the cutoff")
    days_since_last[i] <- gaps[[i]]$days_since_last
    churn[i] <- churned(gaps[[i]], threshold)
    x[i, ] <- decode_covariate_values(row, covariates, path)
  }
  if (anyDuplicated(user)) invalid("rows", sprintf("user_id '%s' appears more than once", user[anyDuplicated(user)]))
  gap_count <- vapply(gaps, function(g) length(g$time_days), integer(1))
  returned <- unlist(lapply(gaps, `[[`, "returned"))
  if (sum(returned) < 1L) invalid("rows", "no returns: nobody was active on two different days, the return hazard cannot be estimated")
  list(user = user, days_since_last = days_since_last, churned = churn, x = x, covariates = covariates,
    gaps = data.frame(student = rep(seq_len(n), gap_count), time = unlist(lapply(gaps, `[[`, "time_days")), returned = returned),
    threshold = threshold, cutoff = cutoff,
    horizon_days = field_number(body, "horizon_days", default = threshold, min = 1))
}

#' Probability of churn for students `d` days into their current gap: the gap reaches `threshold` inactive days,
#' i.e. no return within `threshold` days given none within d: exp(-(H0(threshold) - H0(d)) * exp(lp)), H0 being
#' the baseline cumulative hazard of returning (a high return hazard means a low churn risk); 1 once d >= threshold.
#' With horizon = threshold this is the probability of a run of >= threshold inactive days completing within the
#' horizon, since only the current gap can complete one that soon. A shorter horizon gives 0 when the run could
#' not be complete by cutoff + horizon (d < threshold - horizon); a longer one still counts only the current gap,
#' not runs that would start after a later return (a lower bound).
churn_probabilities <- function(d, lp, threshold, horizon, times, cumhaz) {
  H <- function(s) if (s < times[1]) 0 else cumhaz[findInterval(s, times)]
  vapply(seq_along(d), function(i) {
    if (d[i] >= threshold) 1
    else if (threshold - d[i] > horizon) 0
    else exp(-(H(threshold) - H(d[i])) * exp(lp[i]))
  }, numeric(1))
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
  returns <- sum(req$gaps$returned)
  if (returns / length(usable) < 10) warnings <- c(warnings, sprintf("only %d return(s) for %d covariate(s) (fewer than 10 per covariate): estimates are unstable", returns, length(usable)))

  # one row per gap with its student's covariates; cluster(student): a student's gaps are not independent, so the
  # standard errors are the robust (sandwich) ones
  df <- data.frame(.time = req$gaps$time, .returned = as.integer(req$gaps$returned), .student = req$gaps$student,
    x[req$gaps$student, , drop = FALSE], check.names = FALSE)
  formula <- as.formula(paste("survival::Surv(.time, .returned) ~", paste(sprintf("`%s`", usable), collapse = " + ")))
  # clustered (sandwich) standard errors cost O(gaps^2) in survival 3.x (≈ 16 s at 60,000 gaps, over 20 min at
  # 600,000, measured here); beyond CLUSTERED_SE_MAX_GAPS the model-based ones are used, with a warning
  clustered <- nrow(df) <= CLUSTERED_SE_MAX_GAPS
  if (!clustered) warnings <- c(warnings, sprintf("%d gaps: standard errors are model-based, not clustered by student (too slow beyond %d gaps); hazard-ratio intervals are too narrow", nrow(df), CLUSTERED_SE_MAX_GAPS))
  fit <- withCallingHandlers(if (clustered) {
    survival::coxph(formula, data = df, ties = "efron", cluster = .student, model = FALSE)
  } else {
    survival::coxph(formula, data = df, ties = "efron", model = FALSE)
  },
    warning = function(w) {
      warnings <<- c(warnings, paste("coxph:", conditionMessage(w)))
      invokeRestart("muffleWarning")
    })
  beta <- coef(fit); se <- sqrt(diag(fit$var))
  names(beta) <- usable; names(se) <- usable
  diverged <- usable[!is.finite(beta) | !is.finite(se) | abs(beta) > 10 | se > 100]
  if (length(diverged)) warnings <- c(warnings, sprintf("coefficient of %s diverges (estimate %s, se %s): likely separation", diverged, format(beta[diverged], digits = 4), format(se[diverged], digits = 4)))
  # survfit's estimate for an Efron fit (Breslow-Aalen with the Efron tie correction): gaps are whole days, so ties
  # are heavy, and the corrected steps keep exp(-H0) close to the discrete probability of no return
  bh <- survival::basehaz(fit, centered = FALSE)
  lp <- as.vector(x %*% beta)
  risk <- churn_probabilities(req$days_since_last, lp, req$threshold, req$horizon_days, bh$time, bh$hazard)
  conc <- fit$concordance
  list(
    family = "cox_ph", ties = "efron",
    cutoff = format(req$cutoff),
    event_threshold_days = req$threshold, horizon_days = req$horizon_days,
    n = length(req$user), events = sum(req$churned), gaps = nrow(req$gaps), returns = returns,
    covariates = as.list(usable),
    coefficients = lapply(usable, function(n) list(name = n, estimate = unname(beta[n]), se = unname(se[n]),
      z = unname(beta[n] / se[n]), p_value = 2 * pnorm(-abs(unname(beta[n] / se[n]))))),
    hazard_ratios = lapply(usable, function(n) list(name = n, hazard_ratio = exp(unname(beta[n])),
      lower95 = exp(unname(beta[n]) - 1.959964 * unname(se[n])), upper95 = exp(unname(beta[n]) + 1.959964 * unname(se[n])))),
    # how well the return hazard orders the gaps' lengths (over gaps, not students)
    concordance = unname(conc["concordance"]),
    concordance_se = unname(sqrt(conc["var"])),
    baseline_hazard = lapply(seq_len(nrow(bh)), function(i) list(time_days = bh$time[i], cumulative_hazard = bh$hazard[i])),
    imputation = imputation,
    warnings = as.list(warnings),
    risk_scores = lapply(seq_along(req$user), function(i) list(user_id = req$user[i], time_days = req$days_since_last[i],
      event = req$churned[i], linear_predictor = lp[i], churn_probability01 = risk[i])),
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
  threshold <- field_number(body, "event_threshold_days", min = 1)
  rows <- field_array(body, "rows", min_length = 1L)
  user <- character(length(rows)); days_since_last <- numeric(length(rows))
  x <- matrix(NA_real_, length(rows), length(beta), dimnames = list(NULL, names_))
  for (i in seq_along(rows)) {
    path <- sprintf("rows[%d]", i - 1L)
    row <- element_object(rows[[i]], path)
    user[i] <- field_id(row, "user_id", paste0(path, ".user_id"))
    days_since_last[i] <- field_number(row, "days_since_last", paste0(path, ".days_since_last"), min = 0)
    v <- decode_covariate_values(row, names_, path)
    for (n in names_[is.na(v)]) {
      if (is.null(imputation[[n]])) invalid(paste0(path, ".", n), "is missing and imputation has no value for it")
      v[n] <- field_number(imputation, n, paste0("imputation.", n))
    }
    x[i, ] <- v
  }
  list(beta = beta, times = times, cumhaz = cumhaz, user = user, days_since_last = days_since_last, x = x,
    threshold = threshold, horizon_days = field_number(body, "horizon_days", default = threshold, min = 1))
}

predict_survival <- function(req) {
  lp <- as.vector(req$x %*% req$beta)
  risk <- churn_probabilities(req$days_since_last, lp, req$threshold, req$horizon_days, req$times, req$cumhaz)
  list(event_threshold_days = req$threshold, horizon_days = req$horizon_days,
    risk_scores = lapply(seq_along(req$user), function(i) list(user_id = req$user[i], time_days = req$days_since_last[i],
      linear_predictor = lp[i], churn_probability01 = risk[i])))
}
