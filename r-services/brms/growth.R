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

#' Cache file for a family: keyed by the Stan code and the package versions, so an upgrade recompiles. The gaussian
#' family is the marginal model (marginal.R); the student family is a brms template.
template_path <- function(cache_dir, family) {
  if (family == "gaussian") return(marginal_model_path(cache_dir))
  key_file <- tempfile()
  writeLines(c(template_stancode(family), as.character(packageVersion("brms")), as.character(packageVersion("rstan"))), key_file)
  hash <- substr(unname(tools::md5sum(key_file)), 1, 12)
  unlink(key_file)
  file.path(cache_dir, sprintf("growth-%s-%s.rds", family, hash))
}

#' Compile the template for a family (no sampling) and store it atomically in the cache.
compile_template <- function(cache_dir, family) {
  if (family == "gaussian") return(compile_marginal(cache_dir))
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

#' Weekly observations `{student, week, score, graded?}` of `body[[name]]`, decoded column-wise (a fit can send
#' 100,000 rows); the first bad row is named in the 422.
decode_observations <- function(body, name, min_length) {
  rows <- field_array(body, name, min_length = min_length)
  n <- length(rows)
  for (i in seq_len(n)) if (!is.list(rows[[i]]) || is.null(names(rows[[i]]))) invalid(sprintf("%s[%d]", name, i - 1L), "must be an object")
  column <- function(field) lapply(rows, function(r) r[[field]])
  first_bad <- function(ok, field, problem) {
    if (!all(ok)) invalid(sprintf("%s[%d].%s", name, which(!ok)[1] - 1L, field), problem)
  }
  student_raw <- column("student")
  first_bad(vapply(student_raw, function(x) length(x) == 1L && (is.character(x) || is.numeric(x)) && !is.na(x), logical(1)),
    "student", "must be a string")
  student <- vapply(student_raw, function(x) if (is.numeric(x)) format(x, scientific = FALSE) else x, character(1))
  number <- function(field, optional = FALSE) {
    raw <- column(field)
    present <- !vapply(raw, is.null, logical(1))
    if (!optional) first_bad(present, field, "is required")
    first_bad(!present | vapply(raw, is_number, logical(1)), field, "must be a finite number")
    out <- rep(NA_real_, n)
    out[present] <- as.numeric(unlist(raw[present]))
    out
  }
  week <- number("week")
  score <- number("score")
  graded <- number("graded", optional = TRUE)
  first_bad(is.na(graded) | (graded >= 1 & graded == round(graded)), "graded", "must be an integer >= 1")
  first_bad(is.na(graded) | (score >= 0 & score <= 1), "score", "must be an accuracy in [0, 1] when graded is given")
  if (any(!is.na(graded)) && any(is.na(graded))) invalid(name, "graded must be given for every row or for none")
  duplicated_week <- duplicated(data.frame(student, week))
  first_bad(!duplicated_week, "week", "repeats a week of the same student")
  data.frame(student = student, week = week, score = score, graded = graded, stringsAsFactors = FALSE)
}

#' Above this many students the `student` family (brms samples every student's effects) does not converge in a
#' weekly job's time; the Gaussian family has no such limit.
MAX_STUDENTS_BRMS <- 2000L

decode_growth_fit <- function(body, prepared) {
  data <- decode_observations(body, "rows", min_length = 3L)
  if (length(unique(data$student)) < 2L) invalid("rows", "needs at least 2 distinct students")
  if (length(unique(data$week)) < 2L) invalid("rows", "needs at least 2 distinct weeks")
  if (sd(data$score) == 0) invalid("rows", "score is constant; the growth model needs variation")
  family <- field_string(body, "family", default = "gaussian", choices = growth_families)
  if (!(family %in% prepared)) invalid("family", sprintf("'%s' is not prepared by this service (prepared: %s); start it with --families", family, paste(prepared, collapse = ",")))
  if (family == "student" && length(unique(data$student)) > MAX_STUDENTS_BRMS) {
    invalid("family", sprintf("the student family has no closed form and is sampled by brms over every student's effects, which does not converge in time above %d students (got %d); use the gaussian family", MAX_STUDENTS_BRMS, length(unique(data$student))))
  }
  list(
    data = data,
    family = family,
    target = field_number(body, "target"),
    horizon_weeks = field_number(body, "horizon_weeks", default = 4, min = 0),
    as_of_week = field_number(body, "as_of_week", nullable = TRUE),
    iter = field_number(body, "iter", default = 1000L, min = 100, max = 20000, integer = TRUE),
    chains = field_number(body, "chains", default = 2L, min = 1, max = 8, integer = TRUE),
    seed = field_number(body, "seed", default = 20240101L, integer = TRUE),
    extend = if (is.null(body$extend)) TRUE else field_bool(body, "extend"),
    # gaussian family: false leaves the per-student step to /growth/predict (the answer then carries every draw)
    students = if (is.null(body$students)) TRUE else field_bool(body, "students"),
    # the marginal posterior (gaussian) has six smooth parameters and no funnel: Stan's default target acceptance;
    # brms's student family samples every student's effects and needs smaller steps
    adapt_delta = field_number(body, "adapt_delta", default = if (family == "gaussian") 0.8 else 0.95, min = 0.5, max = 0.999)
  )
}

# ---- fit -------------------------------------------------------------------------------------------

#' The `student` family: brms samples every student's effects (no closed form). Limited to MAX_STUDENTS_BRMS.
fit_brms <- function(req, template, cores) {
  started <- Sys.time()
  d <- req$data
  st <- standardisation_of(d)
  m_s <- st$score_mean; s_s <- st$score_sd
  m_w <- st$week_mean; s_w <- st$week_sd
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
  population <- population_summary(b0, b1, sd0, sd1, rho, sig, st)
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

  population_draws <- list(b_Intercept = b0, b_u = b1, sd_student__Intercept = sd0, sd_student__u = sd1,
    cor_student__Intercept__u = rho, sigma = sig)
  if ("nu" %in% params) population_draws$nu <- pick("nu")
  sampler <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
  divergences <- sum(vapply(sampler, function(s) sum(s[, "divergent__"]), numeric(1)))
  treedepth <- sum(vapply(sampler, function(s) sum(s[, "treedepth__"] >= 10), numeric(1)))
  elapsed <- rstan::get_elapsed_time(fit$fit)

  list(
    model = list(formula = "score ~ week + (week | student)", family = req$family,
      method = "brms: every student's effects sampled (no closed form for this family)", measurement_error = FALSE,
      standardisation = st,
      priors = prior_list(req$family),
      priors_scale = "standardised score z = (score - score_mean) / score_sd, standardised week u = (week - week_mean) / week_sd",
      iter = req$iter, chains = req$chains, seed = req$seed),
    n_students = length(students), n_observations = nrow(d),
    target = req$target, as_of_week = as_of, horizon_weeks = req$horizon_weeks, horizon_week = horizon_week,
    population = population,
    population_draws = NULL,
    diagnostics = population_diagnostics(population_draws, divergences, treedepth),
    students = student_rows,
    timing = list(sampling_seconds = sampling_seconds,
      stan_seconds = max(rowSums(elapsed)),
      student_seconds = 0,
      postprocess_seconds = seconds_since(post_started),
      total_seconds = seconds_since(started)),
    compiled = FALSE
  )
}

