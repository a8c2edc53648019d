# Bayesian growth model: score ~ week + (week | student) on standardised data with fixed priors, so the
# Stan program is identical for every data set and one compiled template serves every request.
suppressPackageStartupMessages({
  library(brms)
  library(rstan)
})

if (!dir.exists(file.path(system.file(package = "BH"), "include", "boost"))) {
  # Debian's r-cran-bh points at libboost-dev instead of shipping the headers.
  rstan::rstan_options(boost_lib = "/usr/include")
}
rstan::rstan_options(auto_write = FALSE)

growth_families <- c("gaussian", "student")
growth_formula <- brms::bf(z ~ u + (u | student))

#' Priors on the standardised scale (z = standardised score, u = standardised week).
growth_priors <- function(family) {
  priors <- c(
    brms::prior(normal(0, 2), class = "Intercept"),
    brms::prior(normal(0, 1), class = "b"),
    brms::prior(exponential(1), class = "sd"),
    brms::prior(exponential(1), class = "sigma"),
    brms::prior(lkj(2), class = "cor")
  )
  if (family == "student") priors <- c(priors, brms::prior(gamma(2, 0.1), class = "nu"))
  priors
}

prior_list <- function(family) {
  p <- as.data.frame(growth_priors(family))
  lapply(seq_len(nrow(p)), function(i) list(class = p$class[i], prior = p$prior[i]))
}

growth_family <- function(family) switch(family, gaussian = gaussian(), student = brms::student())

#' A small data set with the template's columns; only its shape matters for compiling.
template_data <- function() {
  set.seed(1)
  d <- expand.grid(week = 0:3, student = paste0("s", 1:4))
  d$u <- (d$week - 1.5) / sd(d$week)
  d$z <- rnorm(nrow(d))
  d
}

template_stancode <- function(family) {
  brms::make_stancode(growth_formula, data = template_data(), family = growth_family(family), prior = growth_priors(family))
}

#' Cache file for a family: keyed by the Stan code and the package versions, so an upgrade recompiles.
template_path <- function(cache_dir, family) {
  key_file <- tempfile()
  writeLines(c(template_stancode(family), as.character(packageVersion("brms")), as.character(packageVersion("rstan"))), key_file)
  hash <- substr(unname(tools::md5sum(key_file)), 1, 12)
  unlink(key_file)
  file.path(cache_dir, sprintf("growth-%s-%s.rds", family, hash))
}

#' Compile the template for a family (no sampling) and store it atomically in the cache.
compile_template <- function(cache_dir, family) {
  dir.create(cache_dir, recursive = TRUE, showWarnings = FALSE)
  path <- template_path(cache_dir, family)
  fit <- brms::brm(growth_formula, data = template_data(), family = growth_family(family),
    prior = growth_priors(family), chains = 0, backend = "rstan", silent = 2, refresh = 0)
  tmp <- paste0(path, ".tmp", Sys.getpid())
  saveRDS(fit, tmp)
  file.rename(tmp, path)
  cat(sprintf("%s\t%s\t%s\n", format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ"), family, basename(path)),
    file = file.path(cache_dir, "compiles.log"), append = TRUE)
  path
}

# ---- request decoding ------------------------------------------------------------------------------

decode_growth_fit <- function(body, prepared) {
  rows <- field_array(body, "rows", min_length = 3L)
  n <- length(rows)
  student <- character(n); week <- numeric(n); score <- numeric(n)
  for (i in seq_len(n)) {
    path <- sprintf("rows[%d]", i - 1L)
    row <- element_object(rows[[i]], path)
    student[i] <- field_id(row, "student", paste0(path, ".student"))
    week[i] <- field_number(row, "week", paste0(path, ".week"))
    score[i] <- field_number(row, "score", paste0(path, ".score"))
  }
  if (length(unique(student)) < 2L) invalid("rows", "needs at least 2 distinct students")
  if (length(unique(week)) < 2L) invalid("rows", "needs at least 2 distinct weeks")
  if (sd(score) == 0) invalid("rows", "score is constant; the growth model needs variation")
  family <- field_string(body, "family", default = "gaussian", choices = growth_families)
  if (!(family %in% prepared)) invalid("family", sprintf("'%s' is not prepared by this service (prepared: %s); start it with --families", family, paste(prepared, collapse = ",")))
  list(
    data = data.frame(student = student, week = week, score = score, stringsAsFactors = FALSE),
    family = family,
    target = field_number(body, "target"),
    horizon_weeks = field_number(body, "horizon_weeks", default = 4, min = 0),
    as_of_week = field_number(body, "as_of_week", nullable = TRUE),
    iter = field_number(body, "iter", default = 1000L, min = 100, max = 20000, integer = TRUE),
    chains = field_number(body, "chains", default = 2L, min = 1, max = 8, integer = TRUE),
    seed = field_number(body, "seed", default = 20240101L, integer = TRUE),
    adapt_delta = field_number(body, "adapt_delta", default = 0.95, min = 0.5, max = 0.999)
  )
}

# ---- posterior summaries ---------------------------------------------------------------------------

#' Summary of a draws matrix (iterations x chains) or vector: mean, sd, quantiles, R-hat and bulk ESS.
summarise_draws_of <- function(draws) {
  x <- as.vector(draws)
  out <- list(mean = mean(x), sd = sd(x), q2_5 = unname(quantile(x, 0.025)), q50 = unname(quantile(x, 0.5)),
    q97_5 = unname(quantile(x, 0.975)))
  if (is.matrix(draws) && ncol(draws) > 1L) {
    out$rhat <- posterior::rhat(draws)
    out$ess_bulk <- posterior::ess_bulk(draws)
  } else if (is.matrix(draws)) {
    out$rhat <- posterior::rhat(draws)
    out$ess_bulk <- posterior::ess_bulk(draws)
  }
  out
}

normal_probability_at_least <- function(mean, sd, target) {
  if (sd <= 0) return(as.numeric(mean >= target))
  1 - pnorm(target, mean, sd)
}

# ---- fit -------------------------------------------------------------------------------------------

fit_growth <- function(req, template, cores) {
  started <- Sys.time()
  d <- req$data
  m_s <- mean(d$score); s_s <- sd(d$score)
  m_w <- mean(d$week); s_w <- sd(d$week)
  students <- unique(d$student)
  codes <- paste0("s", seq_along(students))
  d$student_code <- factor(codes[match(d$student, students)], levels = codes)
  model_data <- data.frame(z = (d$score - m_s) / s_s, u = (d$week - m_w) / s_w, student = d$student_code)

  sampling_started <- Sys.time()
  fit <- suppressMessages(suppressWarnings(update(template, newdata = model_data, recompile = FALSE,
    iter = req$iter, chains = req$chains, cores = min(cores, req$chains), seed = req$seed,
    refresh = 0, silent = 2, control = list(adapt_delta = req$adapt_delta))))
  sampling_seconds <- seconds_since(sampling_started)
  post_started <- Sys.time()

  arr <- rstan::extract(fit$fit, permuted = FALSE)  # iterations x chains x parameters
  pick <- function(name) {
    m <- arr[, , name, drop = FALSE]
    matrix(m, nrow = dim(m)[1], ncol = dim(m)[2])
  }
  params <- dimnames(arr)[[3]]
  b0 <- pick("b_Intercept"); b1 <- pick("b_u")
  sd0 <- pick("sd_student__Intercept"); sd1 <- pick("sd_student__u")
  rho <- pick("cor_student__Intercept__u"); sig <- pick("sigma")
  k <- m_w / s_w
  population <- list(
    intercept = summarise_draws_of(m_s + s_s * (b0 - b1 * k)),
    slope = summarise_draws_of(s_s * b1 / s_w),
    sd_student_intercept = summarise_draws_of(s_s * sqrt(sd0^2 + k^2 * sd1^2 - 2 * k * rho * sd0 * sd1)),
    sd_student_slope = summarise_draws_of(s_s * sd1 / s_w),
    cor_student_intercept_slope = summarise_draws_of((rho * sd0 * sd1 - k * sd1^2) /
      (sqrt(sd0^2 + k^2 * sd1^2 - 2 * k * rho * sd0 * sd1) * sd1)),
    sigma = summarise_draws_of(s_s * sig)
  )
  if ("nu" %in% params) population$nu <- summarise_draws_of(pick("nu"))

  as_of <- if (is.na(req$as_of_week)) max(d$week) else req$as_of_week
  horizon_week <- as_of + req$horizon_weeks
  student_rows <- vector("list", length(students))
  for (j in seq_along(students)) {
    r0 <- pick(sprintf("r_student[%s,Intercept]", codes[j]))
    r1 <- pick(sprintf("r_student[%s,u]", codes[j]))
    a <- as.vector(b0 + r0); b <- as.vector(b1 + r1)
    intercept0 <- m_s + s_s * (a - b * k)
    slope <- s_s * b / s_w
    expected <- m_s + s_s * (a + b * (horizon_week - m_w) / s_w)
    student_rows[[j]] <- list(
      student = students[j],
      n_observations = sum(d$student == students[j]),
      expected_score_at_horizon = list(mean = mean(expected), median = median(expected), sd = sd(expected),
        q2_5 = unname(quantile(expected, 0.025)), q97_5 = unname(quantile(expected, 0.975))),
      probability_reach_target01 = mean(expected >= req$target),
      sigma = sd(expected),
      interval95 = list(lower = unname(quantile(expected, 0.025)), upper = unname(quantile(expected, 0.975))),
      coefficients = list(
        intercept = list(mean = mean(intercept0), sd = sd(intercept0)),
        slope = list(mean = mean(slope), sd = sd(slope), q2_5 = unname(quantile(slope, 0.025)), q97_5 = unname(quantile(slope, 0.975))),
        intercept_slope_cor = if (sd(intercept0) > 0 && sd(slope) > 0) cor(intercept0, slope) else 0
      )
    )
  }

  keep <- params[params != "lp__" & !startsWith(params, "z_") & !startsWith(params, "L_")]
  rhats <- vapply(keep, function(p) posterior::rhat(pick(p)), numeric(1))
  ess <- vapply(keep, function(p) posterior::ess_bulk(pick(p)), numeric(1))
  sampler <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
  divergences <- sum(vapply(sampler, function(s) sum(s[, "divergent__"]), numeric(1)))
  treedepth <- sum(vapply(sampler, function(s) sum(s[, "treedepth__"] >= 10), numeric(1)))
  elapsed <- rstan::get_elapsed_time(fit$fit)

  list(
    model = list(formula = "score ~ week + (week | student)", family = req$family,
      standardisation = list(score_mean = m_s, score_sd = s_s, week_mean = m_w, week_sd = s_w),
      priors = prior_list(req$family),
      priors_scale = "standardised score z = (score - score_mean) / score_sd, standardised week u = (week - week_mean) / week_sd",
      iter = req$iter, chains = req$chains, seed = req$seed),
    n_students = length(students), n_observations = nrow(d),
    target = req$target, as_of_week = as_of, horizon_weeks = req$horizon_weeks, horizon_week = horizon_week,
    population = population,
    diagnostics = list(max_rhat = max(rhats, na.rm = TRUE), min_ess_bulk = min(ess, na.rm = TRUE),
      divergences = as.integer(divergences), max_treedepth_hits = as.integer(treedepth),
      n_parameters = length(keep), converged = max(rhats, na.rm = TRUE) < 1.05 && divergences == 0),
    students = student_rows,
    timing = list(sampling_seconds = sampling_seconds,
      stan_seconds = max(rowSums(elapsed)),
      postprocess_seconds = seconds_since(post_started),
      total_seconds = seconds_since(started)),
    compiled = FALSE
  )
}

# ---- stateless predict -----------------------------------------------------------------------------

decode_growth_predict <- function(body) {
  students <- field_array(body, "students", min_length = 1L)
  target <- field_number(body, "target")
  horizon_weeks <- field_number(body, "horizon_weeks", default = 4, min = 0)
  as_of_week <- field_number(body, "as_of_week")
  parsed <- lapply(seq_along(students), function(i) {
    path <- sprintf("students[%d]", i - 1L)
    s <- element_object(students[[i]], path)
    co <- field_object(s, "coefficients", paste0(path, ".coefficients"))
    ic <- field_object(co, "intercept", paste0(path, ".coefficients.intercept"))
    sl <- field_object(co, "slope", paste0(path, ".coefficients.slope"))
    list(
      student = field_id(s, "student", paste0(path, ".student")),
      a = field_number(ic, "mean", paste0(path, ".coefficients.intercept.mean")),
      sa = field_number(ic, "sd", paste0(path, ".coefficients.intercept.sd"), min = 0),
      b = field_number(sl, "mean", paste0(path, ".coefficients.slope.mean")),
      sb = field_number(sl, "sd", paste0(path, ".coefficients.slope.sd"), min = 0),
      rho = field_number(co, "intercept_slope_cor", paste0(path, ".coefficients.intercept_slope_cor"), default = 0, min = -1, max = 1)
    )
  })
  list(students = parsed, target = target, horizon_weeks = horizon_weeks, as_of_week = as_of_week)
}

#' Normal approximation of the expected score at the horizon from the stored per-student coefficients.
predict_growth <- function(req) {
  h <- req$as_of_week + req$horizon_weeks
  list(
    target = req$target, horizon_week = h, method = "normal approximation from posterior mean/sd/correlation",
    students = lapply(req$students, function(s) {
      mean <- s$a + s$b * h
      sd <- sqrt(max(0, s$sa^2 + h^2 * s$sb^2 + 2 * h * s$rho * s$sa * s$sb))
      list(student = s$student, expected_score_at_horizon = list(mean = mean, sd = sd),
        probability_reach_target01 = normal_probability_at_least(mean, sd, req$target), sigma = sd,
        interval95 = list(lower = mean - 1.959964 * sd, upper = mean + 1.959964 * sd))
    })
  )
}
