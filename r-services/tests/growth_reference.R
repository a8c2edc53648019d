# brms is the reference of the growth model: the same cohort is fitted by brms (every student's effects sampled,
# `z | se(se_z, sigma = TRUE) ~ u + (u | student)`, the service's priors) and by the service's marginal model
# (student effects integrated out). Prints one JSON object comparing the two; test/r-services/growthReference.test.ts
# asserts on it.
# Run: TZ=UTC Rscript r-services/tests/growth_reference.R --cache-dir D [--students 50] [--iter 4000]
Sys.setenv(TZ = "UTC")
here_tests <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
here <- normalizePath(file.path(here_tests, "..", "brms"))
source(file.path(here, "..", "shared", "http.R"))
source(file.path(here, "..", "shared", "validate.R"))
source(file.path(here, "growth.R"))
source(file.path(here, "marginal.R"))
options <- command_options()
cache_dir <- options[["cache-dir"]]
n_students <- as.integer(if (is.null(options$students)) 50L else options$students)
iter <- as.integer(if (is.null(options$iter)) 4000L else options$iter)

# A cohort with planted lines on the accuracy scale and binomial weekly scores from 3 to 40 graded attempts.
set.seed(20261201)
weeks <- 0:7
rows <- do.call(rbind, lapply(seq_len(n_students), function(i) {
  intercept <- rnorm(1, 0.55, 0.1)
  slope <- rnorm(1, 0.012, 0.012)
  present <- sort(sample(weeks, sample(4:8, 1)))
  graded <- sample(3:40, length(present), replace = TRUE)
  p <- pmin(0.97, pmax(0.03, intercept + slope * present))
  data.frame(student = sprintf("st-%02d", i), week = present, score = rbinom(length(present), graded, p) / graded,
    graded = graded, stringsAsFactors = FALSE)
}))
target <- 0.65
horizon_weeks <- 4
as_of_week <- max(weeks)
horizon_week <- as_of_week + horizon_weeks

# ---- the service's model ----
model_path <- marginal_model_path(cache_dir)
if (!file.exists(model_path)) compile_marginal(cache_dir)
marginal <- fit_marginal(list(data = rows, target = target, horizon_weeks = horizon_weeks, as_of_week = as_of_week,
  iter = iter, chains = 2L, seed = 11L, adapt_delta = 0.95, students = TRUE), readRDS(model_path), 2L)

# ---- brms on the same data, standardisation and priors ----
gd <- growth_data(rows)
st <- gd$standardisation
model_data <- data.frame(z = gd$z, u = gd$u, se_z = sqrt(gd$se2), student = factor(gd$d$student))
started <- Sys.time()
ref <- suppressMessages(suppressWarnings(brms::brm(brms::bf(z | se(se_z, sigma = TRUE) ~ u + (u | student)),
  data = model_data, family = gaussian(), prior = growth_priors("gaussian"), chains = 2, cores = 2, iter = iter,
  seed = 5, backend = "rstan", refresh = 0, silent = 2, control = list(adapt_delta = 0.95))))
brms_seconds <- seconds_since(started)
draws <- as.data.frame(ref)
pick <- function(name) matrix(draws[[name]], ncol = 2)
population <- population_summary(pick("b_Intercept"), pick("b_u"), pick("sd_student__Intercept"),
  pick("sd_student__u"), pick("cor_student__Intercept__u"), pick("sigma"), st)

students <- gd$students
ref_students <- lapply(students, function(s) {
  a <- draws[["b_Intercept"]] + draws[[sprintf("r_student[%s,Intercept]", s)]]
  b <- draws[["b_u"]] + draws[[sprintf("r_student[%s,u]", s)]]
  expected <- st$score_mean + st$score_sd * (a + b * (horizon_week - st$week_mean) / st$week_sd)
  slope <- st$score_sd * b / st$week_sd
  list(student = s, p = mean(expected >= target), expected_mean = mean(expected), expected_sd = sd(expected),
    slope_mean = mean(slope), slope_q2_5 = unname(quantile(slope, 0.025)), slope_q97_5 = unname(quantile(slope, 0.975)))
})
ref_diag <- population_diagnostics(list(b_Intercept = pick("b_Intercept"), b_u = pick("b_u"),
  sd0 = pick("sd_student__Intercept"), sd1 = pick("sd_student__u"), cor = pick("cor_student__Intercept__u"),
  sigma = pick("sigma")), 0L, 0L)

out <- list(
  n_students = length(students), n_observations = nrow(rows), iter = iter,
  seconds = list(brms = brms_seconds, marginal = marginal$timing$total_seconds),
  brms = list(population = population, diagnostics = ref_diag[c("max_rhat", "min_ess_bulk", "min_ess_tail")],
    students = ref_students),
  marginal = list(population = marginal$population, diagnostics = marginal$diagnostics[c("max_rhat", "min_ess_bulk",
    "min_ess_tail", "divergences")],
    students = lapply(marginal$students, function(s) list(student = s$student, p = s$probability_reach_target01,
      expected_mean = s$expected_score_at_horizon$mean, expected_sd = s$expected_score_at_horizon$sd,
      slope_mean = s$coefficients$slope$mean, slope_q2_5 = s$coefficients$slope$q2_5,
      slope_q97_5 = s$coefficients$slope$q97_5)))
)
cat(as.character(to_json(out)), "\n", sep = "")
