# Learning-pattern segments: k-means on robustly standardised features, k by the gap statistic when not given,
# labels derived from each centre's most distinctive standardised feature.
suppressPackageStartupMessages(library(cluster))

# Label for a feature far above (+) or below (-) the cohort mean, in standard deviations.
label_vocabulary <- list(
  improvement = c(high = "improving", low = "declining"),
  engagement = c(high = "highly engaged", low = "disengaged"),
  efficiency = c(high = "efficient", low = "slow"),
  recovery = c(high = "recovering", low = "repeating mistakes"),
  accuracy = c(high = "high achiever", low = "struggling"),
  hint_rate = c(high = "hint-heavy", low = "independent"),
  hints = c(high = "hint-heavy", low = "independent"),
  sessions = c(high = "frequent", low = "infrequent"),
  mean_gap = c(high = "irregular", low = "regular"),
  mean_gap_days = c(high = "irregular", low = "regular"),
  response_time = c(high = "slow", low = "fast")
)

feature_label <- function(feature, direction) {
  vocab <- label_vocabulary[[feature]]
  if (!is.null(vocab)) vocab[[direction]] else paste(direction, feature)
}

decode_features <- function(rows, path, feature_names = NULL) {
  n <- length(rows)
  users <- character(n)
  objects <- lapply(seq_len(n), function(i) element_object(rows[[i]], sprintf("%s[%d]", path, i - 1L)))
  if (is.null(feature_names)) {
    feature_names <- setdiff(unique(unlist(lapply(objects, names))), "user_id")
    if (length(feature_names) == 0L) invalid(path, "rows carry no numeric feature besides user_id")
  }
  x <- matrix(NA_real_, n, length(feature_names), dimnames = list(NULL, feature_names))
  for (i in seq_len(n)) {
    p <- sprintf("%s[%d]", path, i - 1L)
    users[i] <- field_id(objects[[i]], "user_id", paste0(p, ".user_id"))
    for (f in feature_names) x[i, f] <- field_number(objects[[i]], f, paste0(p, ".", f), nullable = TRUE)
  }
  if (anyDuplicated(users)) invalid(path, sprintf("user_id '%s' appears more than once", users[anyDuplicated(users)]))
  list(users = users, x = x)
}

decode_cluster_fit <- function(body) {
  rows <- field_array(body, "features", min_length = 3L)
  feature_names <- if (is.null(body$feature_names)) NULL else vapply(field_array(body, "feature_names", min_length = 1L), function(f) {
    if (!is.character(f) || length(f) != 1L || f == "user_id") invalid("feature_names", "must be an array of feature names (strings)")
    f
  }, character(1))
  decoded <- decode_features(rows, "features", feature_names)
  n <- nrow(decoded$x)
  k <- if (is.null(body$n_clusters)) NA_integer_ else field_number(body, "n_clusters", min = 2, max = n - 1L, integer = TRUE)
  c(decoded, list(
    k = k,
    k_max = field_number(body, "k_max", default = 6L, min = 2, integer = TRUE),
    gap_references = field_number(body, "gap_references", default = 50L, min = 10, max = 500, integer = TRUE),
    method = field_string(body, "method", default = "kmeans", choices = c("kmeans")),
    nstart = field_number(body, "nstart", default = 50L, min = 25, max = 1000, integer = TRUE),
    seed = field_number(body, "seed", default = 20240101L, integer = TRUE)
  ))
}

#' Robust standardisation: centre = median, scale = MAD (x 1.4826: the SD of the bulk of users when it is normal).
#' The SD would be inflated by the very groups we look for (a tenth of users at a 60% hint rate makes the SD of
#' hint_rate 4x its MAD) and by a few extreme users, which shrinks every other difference; the MAD measures how
#' much a typical user varies. A feature with MAD 0 (over half the users share one value) falls back to its SD.
#' Missing values are imputed with the median (z = 0); constant features are dropped.
scaling_of <- function(x) {
  center <- apply(x, 2, stats::median, na.rm = TRUE)
  spread <- apply(x, 2, stats::mad, na.rm = TRUE)
  scale <- ifelse(is.finite(spread) & spread > 0, spread, apply(x, 2, stats::sd, na.rm = TRUE))
  list(center = center, scale = scale)
}

apply_scaling <- function(x, center, scale) {
  z <- sweep(sweep(x, 2, center, "-"), 2, scale, "/")
  z[is.na(z)] <- 0
  z
}

#' At most `size` row indices (a fixed sample), so that quadratic or resampling steps stay bounded.
sample_rows <- function(n, size, seed) {
  if (n <= size) return(seq_len(n))
  set.seed(seed)
  sort(sample.int(n, size))
}

#' Average silhouette on at most 2,000 users (fixed sample), so it stays O(2000^2).
silhouette_score <- function(z, assignment, seed) {
  idx <- sample_rows(nrow(z), 2000L, seed)
  if (length(unique(assignment[idx])) < 2L) return(NA_real_)
  mean(cluster::silhouette(assignment[idx], dist(z[idx, , drop = FALSE]))[, "sil_width"])
}

#' k by the gap statistic (Tibshirani, Walther & Hastie 2001), cluster::clusGap on at most 2,000 users:
#' gap(k) = E*[log W_k] - log W_k, W_k the within-cluster dispersion of k-means (clusGap's default d.power = 1,
#' pairwise distances: less swayed by a few far users than squares), E* over `references` data sets drawn uniformly
#' in the box of the data's principal components (no clusters). k = the smallest k whose gap is within one SE of
#' the first local maximum of the gap ("firstSEmax", maxSE's default; Tibshirani's own "smallest k with gap(k) >=
#' gap(k+1) - SE(k+1)" stops at any early plateau: it answered 1 on well-separated blobs placed as a simplex).
#' Unlike silhouette or Calinski-Harabasz it can answer k = 1 (no structure), and it does not prefer equal-sized
#' groups: a small distinct group beside a broad mass of typical users counts (on the generated cohort silhouette
#' peaks at k = 2, the hint-heavy tenth against everyone else).
gap_selection <- function(z, k_max, references, seed) {
  idx <- sample_rows(nrow(z), 2000L, seed)
  set.seed(seed)
  gap <- cluster::clusGap(z[idx, , drop = FALSE], K.max = k_max, B = references, d.power = 1L, spaceH0 = "scaledPCA",
    verbose = FALSE, FUNcluster = function(x, k) list(cluster = stats::kmeans(x, centers = k, nstart = 10L, iter.max = 100L)$cluster))
  tab <- gap$Tab
  list(
    k = cluster::maxSE(tab[, "gap"], tab[, "SE.sim"], method = "firstSEmax"),
    criterion = sprintf("gap statistic of k-means over k = 1..%d on %d users, %d uniform reference sets in the principal-component box; k = the smallest within one SE of the first local maximum of the gap (cluster::maxSE firstSEmax), at least 2", k_max, length(idx), references),
    scores = lapply(seq_len(k_max), function(k) list(k = k, gap = unname(tab[k, "gap"]), se = unname(tab[k, "SE.sim"]),
      log_w = unname(tab[k, "logW"]), expected_log_w = unname(tab[k, "E.logW"])))
  )
}

run_kmeans <- function(z, k, nstart, seed) {
  set.seed(seed)
  stats::kmeans(z, centers = k, nstart = nstart, iter.max = 100L, algorithm = "Hartigan-Wong")
}

#' Unique labels: candidates (cluster, feature, direction) ranked by |z|; each cluster takes its strongest
#' label that is still free. A centre with no feature beyond 0.5 (scaled) is "typical": the same bar at which
#' `traits_of` lists a trait, so a segment is never named after a trait its description does not show.
derive_labels <- function(centers) {
  k <- nrow(centers)
  candidates <- do.call(rbind, lapply(seq_len(k), function(j) data.frame(cluster = j, feature = colnames(centers),
    z = centers[j, ], stringsAsFactors = FALSE)))
  candidates$label <- mapply(function(f, z) feature_label(f, if (z >= 0) "high" else "low"), candidates$feature, candidates$z)
  # Below average on two or more of the core learning features reads as "struggling" rather than naming one.
  core <- intersect(c("accuracy", "improvement", "engagement", "efficiency", "recovery"), colnames(centers))
  for (j in seq_len(k)) {
    low <- centers[j, core][centers[j, core] <= -0.5]
    if (length(low) >= 2L) {
      candidates <- rbind(candidates, data.frame(cluster = j, feature = "core", z = -1.05 * max(abs(low)), label = "struggling", stringsAsFactors = FALSE))
    }
  }
  candidates <- candidates[order(-abs(candidates$z), candidates$cluster, candidates$feature), ]
  labels <- rep(NA_character_, k)
  for (r in seq_len(nrow(candidates))) {
    j <- candidates$cluster[r]
    if (!is.na(labels[j]) || candidates$label[r] %in% labels) next
    labels[j] <- if (abs(candidates$z[r]) < 0.5) "typical" else candidates$label[r]
  }
  labels[is.na(labels)] <- paste("segment", which(is.na(labels)))
  dup <- duplicated(labels) | duplicated(labels, fromLast = TRUE)
  labels[dup] <- paste(labels[dup], which(dup))
  labels
}

traits_of <- function(center) {
  ordered <- names(sort(abs(center), decreasing = TRUE))
  lapply(ordered[abs(center[ordered]) >= 0.5], function(f) list(feature = f, z = unname(center[f]),
    description = sprintf("%s %s (%+.2f SD)", f, if (center[f] >= 0) "above average" else "below average", center[f])))
}

#' Row j of a matrix as a named vector, also when the matrix has one column.
row_of <- function(m, j) setNames(m[j, ], colnames(m))

fit_segments <- function(req) {
  started <- Sys.time()
  x <- req$x
  sc <- scaling_of(x)
  usable <- colnames(x)[is.finite(sc$scale) & sc$scale > 0]
  warnings <- character(0)
  dropped <- setdiff(colnames(x), usable)
  if (length(dropped)) warnings <- c(warnings, sprintf("feature %s is constant or missing; dropped", dropped))
  if (length(usable) == 0L) invalid("features", "no feature varies across users")
  x <- x[, usable, drop = FALSE]
  center <- sc$center[usable]; scale <- sc$scale[usable]
  z <- apply_scaling(x, center, scale)
  # Rows in user order, so that the same users give the same segments whatever order the request lists them in.
  by_user <- order(req$users, method = "radix")
  zs <- z[by_user, , drop = FALSE]
  n_distinct <- nrow(unique(round(z, 12)))
  if (is.na(req$k)) {
    k_max <- max(2L, min(req$k_max, n_distinct - 1L))
    selection <- gap_selection(zs, k_max, req$gap_references, req$seed)
    k <- max(2L, selection$k)
    if (selection$k == 1L) warnings <- c(warnings, "the gap statistic finds no cluster structure (k = 1); the smallest k allowed, 2, is used: read the segments as a split of one group")
    k_selection <- list(criterion = selection$criterion, k_gap = selection$k, scores = selection$scores)
  } else {
    k <- req$k
    k_selection <- list(criterion = "given", scores = list())
  }
  km <- run_kmeans(zs, k, req$nstart, req$seed)
  cluster_of_row <- integer(nrow(z))
  cluster_of_row[by_user] <- km$cluster
  # Canonical cluster order (by centre coordinates), so the same data always yields the same numbering.
  ord <- do.call(order, c(lapply(seq_len(ncol(km$centers)), function(j) round(km$centers[, j], 8))))
  centers <- km$centers[ord, , drop = FALSE]
  assignment <- match(cluster_of_row, ord)
  labels <- derive_labels(centers)
  distance <- sqrt(rowSums((z - centers[assignment, , drop = FALSE])^2))
  sil <- silhouette_score(z, assignment, req$seed)
  list(
    segments = lapply(seq_along(req$users), function(i) list(user_id = req$users[i], cluster = assignment[i],
      segment_label = labels[assignment[i]], distance = distance[i])),
    segment_meta = list(
      method = req$method, n_clusters = k, k_selection = k_selection,
      features = as.list(usable), nstart = req$nstart, seed = req$seed,
      scaling = list(center = as.list(center), scale = as.list(scale)),
      centers = lapply(seq_len(k), function(j) list(cluster = j, label = labels[j], size = sum(assignment == j),
        center_scaled = as.list(row_of(centers, j)), center_original = as.list(center + row_of(centers, j) * scale),
        traits = traits_of(row_of(centers, j)))),
      metrics = list(silhouette = sil, tot_withinss = km$tot.withinss, betweenss = km$betweenss,
        between_ratio = km$betweenss / km$totss, iterations = km$iter),
      warnings = as.list(warnings)
    ),
    timing = list(total_seconds = seconds_since(started))
  )
}

decode_cluster_predict <- function(body) {
  scaling <- field_object(body, "scaling")
  center_obj <- field_object(scaling, "center", "scaling.center")
  scale_obj <- field_object(scaling, "scale", "scaling.scale")
  features <- names(center_obj)
  if (length(features) == 0L) invalid("scaling.center", "must name at least one feature")
  center <- vapply(features, function(f) field_number(center_obj, f, paste0("scaling.center.", f)), numeric(1))
  scale <- vapply(features, function(f) field_number(scale_obj, f, paste0("scaling.scale.", f), min = 1e-12), numeric(1))
  centers <- field_array(body, "centers", min_length = 1L)
  cmat <- matrix(NA_real_, length(centers), length(features), dimnames = list(NULL, features))
  ids <- integer(length(centers)); labels <- character(length(centers))
  for (j in seq_along(centers)) {
    path <- sprintf("centers[%d]", j - 1L)
    c_ <- element_object(centers[[j]], path)
    ids[j] <- field_number(c_, "cluster", paste0(path, ".cluster"), integer = TRUE)
    labels[j] <- field_string(c_, "label", paste0(path, ".label"))
    cs <- field_object(c_, "center_scaled", paste0(path, ".center_scaled"))
    for (f in features) cmat[j, f] <- field_number(cs, f, paste0(path, ".center_scaled.", f))
  }
  decoded <- decode_features(field_array(body, "features", min_length = 1L), "features", features)
  list(users = decoded$users, x = decoded$x, center = center, scale = scale, centers = cmat, ids = ids, labels = labels)
}

predict_segments <- function(req) {
  z <- apply_scaling(req$x, req$center, req$scale)
  d2 <- sapply(seq_len(nrow(req$centers)), function(j) rowSums(sweep(z, 2, req$centers[j, ], "-")^2))
  d2 <- matrix(d2, nrow = nrow(z))
  nearest <- max.col(-d2, ties.method = "first")
  list(segments = lapply(seq_along(req$users), function(i) list(user_id = req$users[i], cluster = req$ids[nearest[i]],
    segment_label = req$labels[nearest[i]], distance = sqrt(d2[i, nearest[i]]))))
}
