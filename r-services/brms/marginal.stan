// The growth model score ~ week + (week | student) (Gaussian) with each student's effects integrated out.
// On the standardised scale z = (score - mean) / sd, u = (week - mean) / sd, student i's observations are
//   z_i ~ N(X_i beta, X_i Sigma X_i' + D_i),  X_i = [1, u_i],  D_i = diag(sigma^2 + se2_ij),
// where se2_ij is the known sampling variance of week j's accuracy (0 when unknown). With w_ij = 1/(sigma^2 + se2_ij),
// Woodbury and the matrix determinant lemma reduce the likelihood to weighted sums over the student's weeks and 2x2
// algebra: M_i = Sigma^-1 + X_i' W_i X_i, c_i = X_i' W_i r_i, r_i = z_i - X_i beta,
//   log p(z_i) = -1/2 [n_i log 2pi + sum log(sigma^2 + se2_ij) + log|Sigma| + log|M_i| + r_i' W_i r_i - c_i' M_i^-1 c_i].
// Priors are exactly the brms model's (growth.R, growth_priors): Intercept ~ normal(0, 2) (u has mean 0, so brms's
// centred intercept is beta[1]), b ~ normal(0, 1), sd ~ exponential(1), sigma ~ exponential(1), cor ~ lkj(2), whose
// density for a 2x2 correlation is proportional to (1 - cor^2)^(2 - 1).
data {
  int<lower=1> N;                // observations (student-weeks), grouped by student
  int<lower=1> J;                // students
  int<lower=1> first[J];         // first observation of each student
  int<lower=1> len[J];           // number of observations of each student
  vector[N] u;                   // standardised week
  vector[N] z;                   // standardised score
  vector<lower=0>[N] se2;        // known sampling variance of z (0 = none)
}
transformed data {
  vector[N] uu = square(u);
  vector[N] uz = u .* z;
  vector[N] zz = square(z);
  real log_2pi_n = N * log(2 * pi());
}
parameters {
  real Intercept;
  real b;
  real<lower=0> sd_intercept;
  real<lower=0> sd_slope;
  real<lower=-1, upper=1> cor;
  real<lower=0> sigma;
}
model {
  vector[N] v = square(sigma) + se2;
  vector[N] w = inv(v);
  vector[N] wu = w .* u;
  vector[N] wuu = w .* uu;
  vector[N] wz = w .* z;
  vector[N] wuz = w .* uz;
  vector[N] wzz = w .* zz;
  vector[J] sw;
  vector[J] swu;
  vector[J] swuu;
  vector[J] swz;
  vector[J] swuz;
  vector[J] swzz;
  real s00 = square(sd_intercept);
  real s11 = square(sd_slope);
  real s01 = cor * sd_intercept * sd_slope;
  real det_sigma = s00 * s11 - square(s01);
  for (j in 1:J) {
    sw[j] = sum(segment(w, first[j], len[j]));
    swu[j] = sum(segment(wu, first[j], len[j]));
    swuu[j] = sum(segment(wuu, first[j], len[j]));
    swz[j] = sum(segment(wz, first[j], len[j]));
    swuz[j] = sum(segment(wuz, first[j], len[j]));
    swzz[j] = sum(segment(wzz, first[j], len[j]));
  }
  {
    vector[J] c1 = swz - Intercept * sw - b * swu;
    vector[J] c2 = swuz - Intercept * swu - b * swuu;
    vector[J] rwr = swzz - 2 * Intercept * swz - 2 * b * swuz + square(Intercept) * sw + 2 * Intercept * b * swu
      + square(b) * swuu;
    vector[J] m11 = s11 / det_sigma + sw;
    vector[J] m12 = -s01 / det_sigma + swu;
    vector[J] m22 = s00 / det_sigma + swuu;
    vector[J] det_m = m11 .* m22 - square(m12);
    vector[J] cmc = (m22 .* square(c1) - 2 * m12 .* c1 .* c2 + m11 .* square(c2)) ./ det_m;
    target += -0.5 * (log_2pi_n + sum(log(v)) + J * log(det_sigma) + sum(log(det_m)) + sum(rwr) - sum(cmc));
  }
  Intercept ~ normal(0, 2);
  b ~ normal(0, 1);
  sd_intercept ~ exponential(1);
  sd_slope ~ exponential(1);
  sigma ~ exponential(1);
  target += log1m(square(cor));
}
