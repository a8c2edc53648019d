// The growth model score ~ week + (week | student) (Gaussian) with each student's effects integrated out.
// On the standardised scale z = (score - mean) / sd, u = (week - mean) / sd, student i's observations are
//   z_i ~ N(X_i beta, X_i Sigma X_i' + D_i),  X_i = [1, u_i],  D_i = diag(sigma^2 + se2_ij),
// where se2_ij is the known sampling variance of week j's accuracy (0 when unknown). With w_ij = 1/(sigma^2 + se2_ij),
// Woodbury and the matrix determinant lemma reduce the likelihood to weighted sums over the student's weeks and 2x2
// algebra: M_i = Sigma^-1 + X_i' W_i X_i, c_i = X_i' W_i r_i, r_i = z_i - X_i beta,
//   log p(z_i) = -1/2 [n_i log 2pi + sum log(sigma^2 + se2_ij) + log|Sigma| + log|M_i| + r_i' W_i r_i - c_i' M_i^-1 c_i].
// The weights depend on sigma only through the week's known variance, so the data are grouped into (student, distinct
// se2) cells, laid out as a students x W matrix (W = most cells of one student, padded with zeros): the K weights are
// computed once, gathered into that layout by index (no new autodiff nodes) and each weighted sum is one row-wise dot
// product, so a gradient costs a few multiply-adds per observation and one autodiff node per student and sum.
// Priors are exactly the brms model's (growth.R, growth_priors): Intercept ~ normal(0, 2) (u has mean 0, so brms's
// centred intercept is beta[1]), b ~ normal(0, 1), sd ~ exponential(1), sigma ~ exponential(1), cor ~ lkj(2), whose
// density for a 2x2 correlation is proportional to (1 - cor^2)^(2 - 1).
data {
  int<lower=1> N;                // observations (student-weeks)
  int<lower=1> J;                // students
  int<lower=1> K;                // distinct known sampling variances
  vector<lower=0>[K] se2;        // the distinct known sampling variances of z (0 = none)
  vector<lower=0>[K] n_se2;      // observations with each
  int<lower=1> W;                // cells of the student with the most (columns of the layout)
  int<lower=1, upper=K> cell_variance[J * W];  // the variance of each cell, column-major; padding points at 1
  matrix[J, W] c1;               // per cell: number of weeks, and the sums of u, u^2, z, u z, z^2 (padding: 0)
  matrix[J, W] cu;
  matrix[J, W] cuu;
  matrix[J, W] cz;
  matrix[J, W] cuz;
  matrix[J, W] czz;
  // The sampler's coordinates: theta = pilot_mean + pilot_scale * raw, theta = (Intercept, b, log sd_intercept,
  // log sd_slope, atanh cor, log sigma). With the pilot's mode and the Cholesky factor of its inverse Hessian, raw is
  // close to standard normal however many students there are, so warm-up starts with the right scales instead of
  // spending long trajectories finding them (identity = Stan's own unconstrained coordinates). The model is the same.
  vector[6] pilot_mean;
  matrix[6, 6] pilot_scale;
}
transformed data {
  real log_2pi_n = N * log(2 * pi());
}
parameters {
  vector[6] raw;
}
transformed parameters {
  vector[6] theta = pilot_mean + pilot_scale * raw;
  real Intercept = theta[1];
  real b = theta[2];
  real<lower=0> sd_intercept = exp(theta[3]);
  real<lower=0> sd_slope = exp(theta[4]);
  real<lower=-1, upper=1> cor = tanh(theta[5]);
  real<lower=0> sigma = exp(theta[6]);
}
model {
  vector[K] v = square(sigma) + se2;
  vector[K] w = inv(v);
  matrix[J, W] wm = to_matrix(w[cell_variance], J, W);
  vector[J] sw = rows_dot_product(c1, wm);
  vector[J] swu = rows_dot_product(cu, wm);
  vector[J] swuu = rows_dot_product(cuu, wm);
  vector[J] swz = rows_dot_product(cz, wm);
  vector[J] swuz = rows_dot_product(cuz, wm);
  vector[J] swzz = rows_dot_product(czz, wm);
  real s00 = square(sd_intercept);
  real s11 = square(sd_slope);
  real s01 = cor * sd_intercept * sd_slope;
  real det_sigma = s00 * s11 - square(s01);
  {
    vector[J] c1s = swz - Intercept * sw - b * swu;
    vector[J] c2s = swuz - Intercept * swu - b * swuu;
    vector[J] rwr = swzz - 2 * Intercept * swz - 2 * b * swuz + square(Intercept) * sw + 2 * Intercept * b * swu
      + square(b) * swuu;
    vector[J] m11 = s11 / det_sigma + sw;
    vector[J] m12 = -s01 / det_sigma + swu;
    vector[J] m22 = s00 / det_sigma + swuu;
    vector[J] det_m = m11 .* m22 - square(m12);
    vector[J] cmc = (m22 .* square(c1s) - 2 * m12 .* c1s .* c2s + m11 .* square(c2s)) ./ det_m;
    target += -0.5 * (log_2pi_n + dot_product(n_se2, log(v)) + J * log(det_sigma) + sum(log(det_m)) + sum(rwr)
      - sum(cmc));
  }
  target += normal_lpdf(Intercept | 0, 2) + normal_lpdf(b | 0, 1) + exponential_lpdf(sd_intercept | 1)
    + exponential_lpdf(sd_slope | 1) + exponential_lpdf(sigma | 1) + log1m(square(cor));
  // Jacobian of theta -> (sd_intercept, sd_slope, cor, sigma); the affine map from raw has a constant one
  target += theta[3] + theta[4] + theta[6] + log1m(square(cor));
}
