# The marginal growth model's algebra against the slow direct computation, on random data:
# 1. marginal.stan's log density (Woodbury + determinant lemma over weighted sums) against the sum of every student's
#    multivariate normal density with the full covariance X Sigma X' + D, plus the priors: equal up to a constant, so
#    differences between parameter points must agree;
# 2. student_posteriors (vectorised over students, one pass per draw) against the conditional posterior computed per
#    student with solve(): the same P, mean and SD of the expected score at the horizon.
# Prints one JSON object; test/r-services/growthReference.test.ts asserts on it.
# Run: TZ=UTC Rscript r-services/tests/growth_algebra.R --cache-dir D
Sys.setenv(TZ = "UTC")
here_tests <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
here <- normalizePath(file.path(here_tests, "..", "brms"))
source(file.path(here, "..", "shared", "http.R"))
source(file.path(here, "..", "shared", "validate.R"))
source(file.path(here, "growth.R"))
source(file.path(here, "marginal.R"))
cache_dir <- command_options()[["cache-dir"]]

set.seed(42)
rows <- do.call(rbind, lapply(1:25, function(i) {
  present <- sort(sample(0:9, sample(2:10, 1)))
  graded <- sample(1:30, length(present), replace = TRUE)
  p <- pmin(0.95, pmax(0.05, rnorm(1, 0.6, 0.1) + rnorm(1, 0.01, 0.01) * present))
  data.frame(student = sprintf("a%02d", i), week = present, score = rbinom(length(present), graded, p) / graded,
    graded = graded, stringsAsFactors = FALSE)
}))
gd <- growth_data(rows)

direct_log_density <- function(theta) {
  s00 <- theta$sd_intercept^2; s11 <- theta$sd_slope^2; s01 <- theta$cor * theta$sd_intercept * theta$sd_slope
  sigma_b <- matrix(c(s00, s01, s01, s11), 2)
  ll <- 0
  for (j in seq_along(gd$students)) {
    rows_j <- which(gd$index == j)
    x <- cbind(1, gd$u[rows_j])
    cov <- x %*% sigma_b %*% t(x) + diag(theta$sigma^2 + gd$se2[rows_j], length(rows_j))
    r <- gd$z[rows_j] - x %*% c(theta$Intercept, theta$b)
    ll <- ll - 0.5 * (length(rows_j) * log(2 * pi) + as.numeric(determinant(cov)$modulus) + sum(r * solve(cov, r)))
  }
  ll + dnorm(theta$Intercept, 0, 2, log = TRUE) + dnorm(theta$b, 0, 1, log = TRUE) +
    dexp(theta$sd_intercept, 1, log = TRUE) + dexp(theta$sd_slope, 1, log = TRUE) + dexp(theta$sigma, 1, log = TRUE) +
    log(1 - theta$cor^2)
}

model <- readRDS(if (file.exists(marginal_model_path(cache_dir))) marginal_model_path(cache_dir) else compile_marginal(cache_dir))
fit <- suppressWarnings(rstan::sampling(model, data = with_identity_pilot(marginal_stan_data(gd)), iter = 20, warmup = 10, chains = 1, refresh = 0, seed = 1,
  show_messages = FALSE))
points <- list(
  list(Intercept = 0.1, b = 0.2, sd_intercept = 0.8, sd_slope = 0.3, cor = -0.4, sigma = 0.5),
  list(Intercept = -0.3, b = 0.05, sd_intercept = 0.5, sd_slope = 0.6, cor = 0.7, sigma = 0.9),
  list(Intercept = 0.6, b = -0.4, sd_intercept = 1.4, sd_slope = 0.1, cor = 0.1, sigma = 0.2)
)
# with the identity pilot the sampled coordinates are (Intercept, b, log sd_intercept, log sd_slope, atanh cor, log sigma)
# and the model adds the Jacobian of that map: log sd_intercept + log sd_slope + log sigma + log(1 - cor^2)
raw_of <- function(p) c(p$Intercept, p$b, log(p$sd_intercept), log(p$sd_slope), atanh(p$cor), log(p$sigma))
stan_lp <- vapply(points, function(p) rstan::log_prob(fit, raw_of(p), adjust_transform = FALSE), 0)
direct_lp <- vapply(points, function(p) direct_log_density(p) + log(p$sd_intercept) + log(p$sd_slope) + log(p$sigma) +
  log(1 - p$cor^2), 0)

# per-student posterior, the slow way: for each draw and student, solve the 2x2 system with the full matrices
draws <- list(Intercept = c(0.1, -0.2, 0.05), b = c(0.3, 0.1, 0.2), sd_intercept = c(0.7, 0.9, 0.8),
  sd_slope = c(0.2, 0.4, 0.3), cor = c(-0.3, 0.2, 0), sigma = c(0.4, 0.5, 0.45))
target <- 0.62
horizon_week <- 13
fast <- student_posteriors(gd, draws, target, horizon_week)
forked <- student_posteriors(gd, draws, target, horizon_week, cores = 2L)
# the students in two chunks, as the growth pipeline sends them to /growth/predict: each chunk with the fit's
# standardisation, the rows of its students only
chunk_of <- function(ids) student_posteriors(growth_data(rows[rows$student %in% ids, ], gd$standardisation), draws, target,
  horizon_week)
first_half <- gd$students[seq_len(length(gd$students) %/% 2L)]
chunks <- list(chunk_of(first_half), chunk_of(setdiff(gd$students, first_half)))
chunked <- function(f) unlist(lapply(chunks, f))
st <- gd$standardisation
lh <- c(1, (horizon_week - st$week_mean) / st$week_sd)
slow <- t(vapply(seq_along(gd$students), function(j) {
  rows_j <- which(gd$index == j)
  x <- cbind(1, gd$u[rows_j])
  per_draw <- vapply(seq_along(draws$sigma), function(d) {
    s0 <- draws$sd_intercept[d]; s1 <- draws$sd_slope[d]; rho <- draws$cor[d]
    sigma_b <- matrix(c(s0^2, rho * s0 * s1, rho * s0 * s1, s1^2), 2)
    w <- diag(1 / (draws$sigma[d]^2 + gd$se2[rows_j]), length(rows_j))
    beta <- c(draws$Intercept[d], draws$b[d])
    v <- solve(solve(sigma_b) + t(x) %*% w %*% x)
    m <- v %*% t(x) %*% w %*% (gd$z[rows_j] - x %*% beta)
    c(mean = st$score_mean + st$score_sd * sum(lh * (beta + m)), sd = st$score_sd * sqrt(as.numeric(t(lh) %*% v %*% lh)))
  }, c(mean = 0, sd = 0))
  c(p = mean(pnorm(per_draw["mean", ] - target, sd = per_draw["sd", ])), mean = mean(per_draw["mean", ]),
    sd = sqrt(mean(per_draw["sd", ]^2 + per_draw["mean", ]^2) - mean(per_draw["mean", ])^2))
}, c(p = 0, mean = 0, sd = 0)))

cat(as.character(to_json(list(
  log_density = list(stan_differences = diff(stan_lp), direct_differences = diff(direct_lp)),
  students = list(
    max_abs_p = max(abs(fast$p - slow[, "p"])),
    max_abs_mean = max(abs(fast$horizon$mean - slow[, "mean"])),
    max_abs_sd = max(abs(fast$horizon$sd - slow[, "sd"])),
    forked_max_abs_p = max(abs(forked$p - fast$p), abs(forked$horizon$q2_5 - fast$horizon$q2_5)),
    chunked_same_students = identical(chunked(function(c) c$students), gd$students),
    chunked_max_abs = max(abs(chunked(function(c) c$p) - fast$p), abs(chunked(function(c) c$horizon$q2_5) - fast$horizon$q2_5),
      abs(chunked(function(c) c$horizon$q97_5) - fast$horizon$q97_5), abs(chunked(function(c) c$horizon$median) - fast$horizon$median),
      abs(chunked(function(c) c$slope$q2_5) - fast$slope$q2_5), abs(chunked(function(c) c$horizon$sd) - fast$horizon$sd)),
    n = length(gd$students))
))), "\n", sep = "")
